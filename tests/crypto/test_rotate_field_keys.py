"""The rotate_field_keys command: re-encrypts with the newest key, resumable, reports unreadable rows."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from tests.crypto.conftest import raw_column, write_raw_column
from tests.crypto_app.models import Other, Secret

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("rotate_field_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def seed(old_key: str, count: int = 5) -> list[Secret]:
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[old_key]):
        secrets = [
            Secret.objects.create(name=f"Person {i}", notes=f"note {i}", email=None) for i in range(count)
        ]
        Other.objects.create(secret=secrets[0], body="other body")
    return secrets


def test_rotation_re_encrypts_every_row_with_the_newest_key(old_key, new_key):
    secrets = seed(old_key)
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        out, err = run("--batch-size", "2")
    assert err == ""
    newest = Fernet(new_key)
    for index, secret in enumerate(secrets):
        assert (
            newest.decrypt(raw_column("crypto_app_secret", "name", secret.pk).encode())
            == f"Person {index}".encode()
        )
        assert (
            newest.decrypt(raw_column("crypto_app_secret", "notes", secret.pk).encode())
            == f"note {index}".encode()
        )
        assert raw_column("crypto_app_secret", "email", secret.pk) is None
    body = raw_column("crypto_app_other", "body", Other.objects.values_list("pk", flat=True).get())
    assert newest.decrypt(body.encode()) == b"other body"
    # The old key can now be dropped.
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[new_key]):
        assert [s.name for s in Secret.objects.order_by("pk")] == [f"Person {i}" for i in range(5)]
    assert f"crypto_app.Secret: done up to pk {secrets[1].pk}" in out
    assert f"--model crypto_app.Secret --after-pk {secrets[-1].pk}" in out
    assert "Done: 11 value(s) re-encrypted, 0 already current, 0 unreadable." in out


def test_a_second_run_finds_everything_current(old_key, new_key):
    seed(old_key, count=2)
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        run()
        out, _ = run()
    assert "Done: 0 value(s) re-encrypted, 5 already current, 0 unreadable." in out


def test_unreadable_rows_are_reported_and_the_rest_rotated(old_key, new_key):
    secrets = seed(old_key, count=3)
    stranger = Fernet(Fernet.generate_key())
    write_raw_column("crypto_app_secret", "notes", secrets[1].pk, stranger.encrypt(b"lost").decode())
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        out, err = StringIO(), StringIO()
        with pytest.raises(CommandError, match="1 value"):
            call_command("rotate_field_keys", "--batch-size", "1", stdout=out, stderr=err)
    assert f"unreadable: model=crypto_app.Secret pk={secrets[1].pk} field=notes" in err.getvalue()
    assert "lost" not in err.getvalue() + out.getvalue()
    newest = Fernet(new_key)
    assert newest.decrypt(raw_column("crypto_app_secret", "notes", secrets[2].pk).encode()) == b"note 2"
    assert newest.decrypt(raw_column("crypto_app_secret", "name", secrets[1].pk).encode()) == b"Person 1"
    # The unreadable value is left exactly as it was.
    assert stranger.decrypt(raw_column("crypto_app_secret", "notes", secrets[1].pk).encode()) == b"lost"


def test_resume_after_a_primary_key_and_restrict_to_one_model(old_key, new_key):
    secrets = seed(old_key, count=4)
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        out, _ = run("--model", "crypto_app.Secret", "--after-pk", str(secrets[1].pk))
    newest = Fernet(new_key)
    assert newest.decrypt(raw_column("crypto_app_secret", "name", secrets[2].pk).encode()) == b"Person 2"
    assert newest.decrypt(raw_column("crypto_app_secret", "name", secrets[3].pk).encode()) == b"Person 3"
    assert (
        Fernet(old_key).decrypt(raw_column("crypto_app_secret", "name", secrets[0].pk).encode())
        == b"Person 0"
    )
    other_pk = Other.objects.values_list("pk", flat=True).get()
    assert Fernet(old_key).decrypt(raw_column("crypto_app_other", "body", other_pk).encode()) == b"other body"
    assert "Done: 4 value(s) re-encrypted" in out


def test_bad_arguments():
    with pytest.raises(CommandError, match="--model"):
        run("--after-pk", "3")
    with pytest.raises(CommandError, match="Unknown model"):
        run("--model", "crypto_app.Nothing")
    with pytest.raises(CommandError, match="no encrypted fields"):
        run("--model", "accounts.Organisation")
    with pytest.raises(CommandError, match="batch-size"):
        run("--batch-size", "0")

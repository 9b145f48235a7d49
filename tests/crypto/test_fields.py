"""Regression tests for every django-encrypted-model-fields trap in PITFALLS.md."""

from __future__ import annotations

import datetime

import pytest
from cryptography.fernet import Fernet
from django import forms
from django.conf import settings
from django.core import serializers
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Upper
from django.test import override_settings
from django.utils import timezone

from core.crypto.exceptions import (
    DecryptionError,
    EncryptedFieldError,
    HavenCryptoError,
    KeyConfigurationError,
)
from core.crypto.fields import (
    EncryptedCharField,
    decrypt_value,
    defer_encrypted,
    encrypt_value,
    encrypted_fields,
)
from tests.crypto.conftest import raw_column, write_raw_column
from tests.crypto_app.models import Other, Secret

pytestmark = pytest.mark.django_db

VICTIM_NAME = "Amina Victim-Example"
TABLE = "crypto_app_secret"


class SecretForm(forms.ModelForm):
    class Meta:
        model = Secret
        fields = ["name", "notes", "phone", "birth_date"]


def make_victim() -> Secret:
    return Secret.objects.create(
        name=VICTIM_NAME,
        notes="She was threatened on 3 May.",
        email="amina@example.org",
        phone="+44 20 7946 0000",
        birth_date=datetime.date(1990, 5, 17),
        seen_at=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        count=42,
    )


# --- round trip and what the database holds --------------------------------------------------------


def test_round_trip_of_every_type():
    victim = make_victim()
    loaded = Secret.objects.get(pk=victim.pk)
    assert loaded.name == VICTIM_NAME
    assert loaded.notes == "She was threatened on 3 May."
    assert loaded.email == "amina@example.org"
    assert loaded.phone == "+44 20 7946 0000"
    assert loaded.birth_date == datetime.date(1990, 5, 17)
    assert loaded.seen_at == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert loaded.count == 42
    assert list(Secret.objects.filter(pk=victim.pk).values_list("name", "birth_date")) == [
        (VICTIM_NAME, datetime.date(1990, 5, 17))
    ]


def test_naive_datetime_is_read_back_aware():
    victim = Secret.objects.create(seen_at=datetime.datetime(2026, 1, 2, 3, 4, 5))  # noqa: DTZ001
    loaded = Secret.objects.get(pk=victim.pk)
    assert timezone.is_aware(loaded.seen_at)


def test_raw_columns_never_hold_the_plaintext():
    victim = make_victim()
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{TABLE}" WHERE id = %s', [victim.pk])
        row = cursor.fetchone()
    flat = " ".join(str(value) for value in row)
    for plaintext in (
        VICTIM_NAME,
        "Amina",
        "threatened",
        "amina@example.org",
        "7946",
        "1990-05-17",
        "2026-01-02",
    ):
        assert plaintext not in flat
    for column in ("name", "notes", "email", "phone", "birth_date", "seen_at", "count"):
        assert raw_column(TABLE, column, victim.pk).startswith("gAAAAA")
    # And the ciphertext is the encryption of exactly the value, under the first key.
    fernet = Fernet(settings.HAVEN_FIELD_ENCRYPTION_KEYS[0])
    assert fernet.decrypt(raw_column(TABLE, "name", victim.pk).encode()).decode() == VICTIM_NAME
    assert fernet.decrypt(raw_column(TABLE, "birth_date", victim.pk).encode()).decode() == "1990-05-17"


def test_null_stays_null_and_empty_string_is_encrypted():
    secret = Secret.objects.create(name="", notes=None)
    assert raw_column(TABLE, "notes", secret.pk) is None
    assert raw_column(TABLE, "name", secret.pk).startswith("gAAAAA")
    loaded = Secret.objects.get(pk=secret.pk)
    assert loaded.name == ""
    assert loaded.notes is None


# --- wrong key: raise, never ciphertext --------------------------------------------------------------


def test_wrong_key_raises_decryption_error_and_never_returns_ciphertext(new_key):
    victim = make_victim()
    token = raw_column(TABLE, "name", victim.pk)
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[new_key]):
        with pytest.raises(DecryptionError) as caught:
            Secret.objects.get(pk=victim.pk)
        with pytest.raises(DecryptionError):
            list(Secret.objects.filter(pk=victim.pk).values_list("notes", flat=True))
    error = caught.value
    assert isinstance(error, HavenCryptoError)
    assert error.model_label == "crypto_app.Secret"
    assert error.field_name in {"name", "notes", "email", "phone", "birth_date", "seen_at", "count"}
    assert "crypto_app.Secret." in str(error)
    assert token not in str(error)
    assert "gAAAAA" not in str(error)
    assert VICTIM_NAME not in str(error)
    assert str(error.user_message)


def test_corrupted_column_raises_naming_field(new_key):
    victim = Secret.objects.create(notes="private")
    write_raw_column(TABLE, "notes", victim.pk, "not a token at all")
    with pytest.raises(DecryptionError, match=r"crypto_app\.Secret\.notes"):
        Secret.objects.get(pk=victim.pk)


def test_decrypted_value_of_wrong_type_raises_without_showing_it():
    victim = Secret.objects.create(notes="x")
    write_raw_column(TABLE, "birth_date", victim.pk, encrypt_value("Amina's secret"))
    with pytest.raises(DecryptionError) as caught:
        Secret.objects.get(pk=victim.pk)
    assert "Amina" not in str(caught.value)
    assert caught.value.field_name == "birth_date"


def test_missing_key_setting_fails_closed():
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[]), pytest.raises(KeyConfigurationError):
        Secret.objects.create(name="x")
    with (
        override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=["not-a-fernet-key"]),
        pytest.raises(KeyConfigurationError),
    ):
        Secret.objects.create(name="x")


def test_a_list_with_deferred_encrypted_columns_survives_an_unreadable_row(new_key):
    readable = Secret.objects.create(label="a", name="fine")
    broken = Secret.objects.create(label="b", name="lost")
    write_raw_column(TABLE, "name", broken.pk, Fernet(new_key).encrypt(b"lost").decode())
    rows = list(defer_encrypted(Secret.objects.order_by("label")))
    assert [row.label for row in rows] == ["a", "b"]
    assert rows[0].get_deferred_fields() >= {f.attname for f in encrypted_fields(Secret)}
    assert rows[0].name == "fine"
    with pytest.raises(DecryptionError):
        _ = rows[1].name
    assert list(Secret.objects.defer_encrypted().values_list("label", flat=True).order_by("label")) == [
        "a",
        "b",
    ]
    assert readable.pk != broken.pk


def test_defer_encrypted_runs_no_decryption(django_assert_num_queries):
    make_victim()
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        with django_assert_num_queries(1):
            rows = list(defer_encrypted(Secret.objects.all()))
        assert len(rows) == 1


# --- the decryption oracle ---------------------------------------------------------------------------


def test_to_python_never_decrypts_a_token():
    token = encrypt_value(VICTIM_NAME)
    field = Secret._meta.get_field("name")
    assert field.to_python(token) == token
    assert field.clean(token, Secret()) == token


def test_oracle_closed_on_model_save():
    victim = make_victim()
    stolen = raw_column(TABLE, "name", victim.pk)
    attacker = Secret(name=stolen, notes=stolen)
    attacker.full_clean()  # Django calls to_python here: the library decrypted at this point
    attacker.save()
    loaded = Secret.objects.get(pk=attacker.pk)
    assert loaded.name == stolen
    assert loaded.notes == stolen
    assert VICTIM_NAME not in (loaded.name, loaded.notes)
    # Stored as the encryption of the literal token text, not re-used ciphertext.
    stored = raw_column(TABLE, "name", attacker.pk)
    assert stored != stolen
    assert decrypt_value(stored) == stolen


def test_oracle_closed_on_model_form():
    victim = make_victim()
    stolen_name = raw_column(TABLE, "name", victim.pk)
    stolen_date = raw_column(TABLE, "birth_date", victim.pk)
    form = SecretForm(data={"name": stolen_name, "notes": stolen_name, "phone": "", "birth_date": ""})
    assert form.is_valid(), form.errors
    attacker = form.save()
    loaded = Secret.objects.get(pk=attacker.pk)
    assert loaded.name == stolen_name
    assert loaded.notes == stolen_name
    assert VICTIM_NAME not in loaded.name
    # A stolen date token is not a date: refused, never decrypted to the victim's date of birth.
    form = SecretForm(data={"name": "x", "notes": "", "phone": "", "birth_date": stolen_date})
    assert not form.is_valid()
    assert "birth_date" in form.errors
    assert "1990" not in str(form.errors)


def test_model_form_edits_and_reads_plaintext():
    victim = make_victim()
    form = SecretForm(instance=Secret.objects.get(pk=victim.pk))
    assert form.initial["name"] == VICTIM_NAME
    form = SecretForm(
        data={"name": "New Name", "notes": "n", "phone": "+33 1 23 45 67 89", "birth_date": "1991-01-02"},
        instance=Secret.objects.get(pk=victim.pk),
    )
    assert form.is_valid(), form.errors
    form.save()
    loaded = Secret.objects.get(pk=victim.pk)
    assert (loaded.name, loaded.birth_date) == ("New Name", datetime.date(1991, 1, 2))


# --- lookups and ordering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lookup",
    [
        {"name": VICTIM_NAME},
        {"name__exact": VICTIM_NAME},
        {"name__iexact": VICTIM_NAME},
        {"name__icontains": "Amina"},
        {"name__contains": "Amina"},
        {"name__startswith": "A"},
        {"name__in": [VICTIM_NAME]},
        {"name__gt": "A"},
        {"name__regex": "A.*"},
        {"birth_date": datetime.date(1990, 5, 17)},
        {"birth_date__year": 1990},
        {"name__lower": "amina"},
        {"email__endswith": "example.org"},
        {"count": 42},
    ],
)
def test_lookups_on_encrypted_fields_are_refused(lookup):
    make_victim()
    with pytest.raises(EncryptedFieldError, match="blind index"):
        list(Secret.objects.filter(**lookup))
    with pytest.raises(EncryptedFieldError):
        list(Secret._base_manager.exclude(**lookup))  # the field guard holds without the manager


def test_lookups_through_relations_are_refused():
    with pytest.raises(EncryptedFieldError):
        list(Other.objects.filter(secret__name="x"))
    with pytest.raises(EncryptedFieldError):
        list(Secret.objects.filter(other__body__icontains="x"))


def test_isnull_and_none_are_allowed():
    with_name = Secret.objects.create(name="x")
    without = Secret.objects.create(name=None)
    assert list(Secret.objects.filter(name__isnull=True)) == [without]
    assert list(Secret.objects.filter(name__isnull=False)) == [with_name]
    assert list(Secret.objects.filter(name=None)) == [without]


@pytest.mark.parametrize("ordering", ["name", "-name", "birth_date", F("name").desc(), F("name")])
def test_order_by_encrypted_field_is_refused(ordering):
    with pytest.raises(EncryptedFieldError, match="order_by"):
        Secret.objects.order_by(ordering)


def test_order_by_through_relation_and_distinct_are_refused():
    with pytest.raises(EncryptedFieldError):
        Other.objects.order_by("secret__name")
    with pytest.raises(EncryptedFieldError):
        Secret.objects.distinct("name")
    assert list(Secret.objects.order_by("label", "-pk")) == []


def test_annotation_with_a_function_on_an_encrypted_field_is_refused():
    Secret.objects.create(name="x")
    with pytest.raises(EncryptedFieldError):
        list(Secret.objects.annotate(upper=Upper("name")).filter(upper="X"))


# --- update(), bulk_update() and expressions ----------------------------------------------------------


@pytest.mark.parametrize("manager_name", ["objects", "_base_manager"])
def test_update_with_value_is_refused_and_nothing_changes(manager_name):
    victim = make_victim()
    before = raw_column(TABLE, "notes", victim.pk)
    manager = getattr(Secret, manager_name)
    # update() marks the surrounding transaction for rollback when it raises: give it its own.
    with pytest.raises(EncryptedFieldError), transaction.atomic():
        manager.filter(pk=victim.pk).update(notes=Value("overwritten"))
    with pytest.raises(EncryptedFieldError), transaction.atomic():
        manager.filter(pk=victim.pk).update(notes=F("label"))
    assert raw_column(TABLE, "notes", victim.pk) == before
    assert Secret.objects.get(pk=victim.pk).notes == "She was threatened on 3 May."


@pytest.mark.parametrize("manager_name", ["objects", "_base_manager"])
def test_bulk_update_is_refused_and_nothing_changes(manager_name):
    victim = make_victim()
    victim.notes = "changed"
    with pytest.raises(EncryptedFieldError), transaction.atomic():
        getattr(Secret, manager_name).bulk_update([victim], ["notes"])
    assert Secret.objects.get(pk=victim.pk).notes == "She was threatened on 3 May."


def test_bulk_update_of_plain_fields_still_works():
    victim = make_victim()
    victim.label = "relabelled"
    assert Secret.objects.bulk_update([victim], ["label"]) == 1
    assert Secret.objects.get(pk=victim.pk).label == "relabelled"


def test_update_with_a_plain_value_encrypts_it():
    other = Other.objects.create(body="before")
    assert Other.objects.filter(pk=other.pk).update(body="after") == 1
    assert Other.objects.get(pk=other.pk).body == "after"
    assert raw_column("crypto_app_other", "body", other.pk).startswith("gAAAAA")


def test_update_of_an_indexed_source_is_refused_by_the_queryset_guard():
    victim = make_victim()
    with pytest.raises(EncryptedFieldError, match="blind index"):
        Secret.objects.filter(pk=victim.pk).update(name="Someone Else")
    assert Secret.objects.get(pk=victim.pk).name == VICTIM_NAME


def test_an_expression_assigned_to_an_instance_is_refused_on_save_and_create():
    victim = make_victim()
    victim.notes = Value("raw")
    with pytest.raises(EncryptedFieldError), transaction.atomic():
        victim.save()
    with pytest.raises(EncryptedFieldError), transaction.atomic():
        Secret.objects.create(notes=Value("raw"))
    with pytest.raises(EncryptedFieldError), transaction.atomic():
        Secret.objects.bulk_create([Secret(notes=Upper(Value("raw")))])
    assert Secret.objects.count() == 1
    assert Secret.objects.get(pk=victim.pk).notes == "She was threatened on 3 May."


def test_bulk_create_encrypts():
    created = Secret.objects.bulk_create([Secret(notes="one"), Secret(notes="two")])
    assert sorted(Secret.objects.get(pk=s.pk).notes for s in created) == ["one", "two"]
    assert all(raw_column(TABLE, "notes", s.pk).startswith("gAAAAA") for s in created)


def test_serialisation_is_refused():
    make_victim()
    with pytest.raises(EncryptedFieldError, match="serialised"):
        serializers.serialize("json", Secret.objects.all())


# --- keys: lazy, overridable, a list ------------------------------------------------------------------


def test_override_settings_changes_the_key(new_key):
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[new_key]):
        secret = Secret.objects.create(notes="under the new key")
        assert Fernet(new_key).decrypt(raw_column(TABLE, "notes", secret.pk).encode()) == b"under the new key"
        assert Secret.objects.get(pk=secret.pk).notes == "under the new key"
    with pytest.raises(DecryptionError):
        Secret.objects.get(pk=secret.pk)


def test_key_list_first_encrypts_all_decrypt(new_key, old_key):
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[old_key]):
        old_row = Secret.objects.create(notes="old")
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        new_row = Secret.objects.create(notes="new")
        assert Secret.objects.get(pk=old_row.pk).notes == "old"
        assert Secret.objects.get(pk=new_row.pk).notes == "new"
    assert Fernet(new_key).decrypt(raw_column(TABLE, "notes", new_row.pk).encode()) == b"new"
    with override_settings(HAVEN_FIELD_ENCRYPTION_KEYS=[new_key]), pytest.raises(DecryptionError):
        Secret.objects.get(pk=old_row.pk)


def test_migration_path_is_havens_and_has_no_max_length():
    field = EncryptedCharField(max_length=10)
    name, path, args, kwargs = field.deconstruct()
    assert path == "core.crypto.fields.EncryptedCharField"
    assert "max_length" not in kwargs

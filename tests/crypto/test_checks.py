"""System checks: what cannot work on ciphertext is refused before it runs."""

from __future__ import annotations

import pytest
from django.core import checks
from django.db import models
from django.test import override_settings
from django.test.utils import isolate_apps

from core.crypto.blind_index import BlindIndexField
from core.crypto.checks import check_crypto_keys, check_encrypted_fields, check_model
from core.crypto.fields import EncryptedCharField, EncryptedDateField
from core.crypto.querysets import EncryptedManager


def ids(messages) -> list[str]:
    return sorted(message.id for message in messages)


def test_the_project_passes_the_checks():
    assert check_encrypted_fields() == []
    assert check_crypto_keys() == []


def test_checks_are_registered():
    registered = checks.registry.registry.get_checks()
    assert check_encrypted_fields in registered
    assert check_crypto_keys in registered


@isolate_apps("tests.crypto_app")
def test_a_clean_model_has_no_messages():
    class Clean(models.Model):  # noqa: DJ008
        name = EncryptedCharField(max_length=100)
        name_index = BlindIndexField(source="name", kind="name")
        objects = EncryptedManager()

        class Meta:
            app_label = "crypto_app"
            ordering = ["pk"]
            constraints = [models.UniqueConstraint(fields=["name_index"], name="clean_unique_name_index")]

    assert check_model(Clean) == []


@isolate_apps("tests.crypto_app")
def test_unique_and_db_index_on_encrypted_fields_are_errors():
    class Bad(models.Model):  # noqa: DJ008
        code = EncryptedCharField(max_length=10, unique=True)
        other = EncryptedCharField(max_length=10, db_index=True)
        objects = EncryptedManager()

        class Meta:
            app_label = "crypto_app"

    messages = check_model(Bad)
    assert ids(messages) == ["haven.E101", "haven.E102"]
    assert all(isinstance(message, checks.Error) for message in messages)
    assert "crypto_app.Bad.code" in messages[0].msg


@isolate_apps("tests.crypto_app")
def test_meta_ordering_indexes_and_constraints_naming_encrypted_fields_are_errors():
    class Bad(models.Model):  # noqa: DJ008
        name = EncryptedCharField(max_length=10)
        label = models.CharField(max_length=10)
        objects = EncryptedManager()

        class Meta:
            app_label = "crypto_app"
            ordering = ["-name"]
            unique_together = [("name", "label")]
            indexes = [
                models.Index(fields=["name"], name="bad_name_idx"),
                models.Index(models.functions.Lower("name"), name="bad_lower_idx"),
            ]
            constraints = [models.UniqueConstraint(fields=["name"], name="bad_unique_name")]

    assert ids(check_model(Bad)) == ["haven.E103", "haven.E104", "haven.E105", "haven.E105", "haven.E106"]


@isolate_apps("tests.crypto_app")
def test_a_date_indexed_alone_and_a_missing_source_are_errors():
    class Bad(models.Model):  # noqa: DJ008
        birth_date = EncryptedDateField(null=True)
        birth_date_index = BlindIndexField(source="birth_date", kind="text")
        ghost_index = BlindIndexField(source="ghost", kind="name")
        objects = EncryptedManager()

        class Meta:
            app_label = "crypto_app"

    assert ids(check_model(Bad)) == ["haven.E107", "haven.E108"]


@isolate_apps("tests.crypto_app")
def test_a_plain_manager_is_a_warning():
    class Plain(models.Model):  # noqa: DJ008
        name = EncryptedCharField(max_length=10)

        class Meta:
            app_label = "crypto_app"

    messages = check_model(Plain)
    assert ids(messages) == ["haven.W101"]
    assert isinstance(messages[0], checks.Warning)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"HAVEN_FIELD_ENCRYPTION_KEYS": []}, ["haven.E110"]),
        ({"HAVEN_FIELD_ENCRYPTION_KEYS": ["nope"]}, ["haven.E110"]),
        ({"FIELD_ENCRYPTION_KEY": "something-else"}, ["haven.E111"]),
        ({"HAVEN_BLIND_INDEX_KEY": ""}, ["haven.E112"]),
        ({"HAVEN_BLIND_INDEX_KEY": "c2hvcnQ="}, ["haven.E112"]),
    ],
)
def test_key_settings_are_checked(overrides, expected):
    with override_settings(**overrides):
        messages = check_crypto_keys()
    assert ids(messages) == expected
    for message in messages:
        assert "nope" not in message.msg

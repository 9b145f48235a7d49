"""Test-only models for Haven's encrypted fields and blind indexes (installed by test settings only)."""

from django.db import models

from core.crypto.blind_index import BlindIndexField
from core.crypto.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedDateTimeField,
    EncryptedEmailField,
    EncryptedIntegerField,
    EncryptedTextField,
)
from core.crypto.querysets import EncryptedManager


class Secret(models.Model):
    label = models.CharField(max_length=50, blank=True, default="")
    name = EncryptedCharField(max_length=200, blank=True, null=True)
    notes = EncryptedTextField(blank=True, null=True)
    email = EncryptedEmailField(blank=True, null=True)
    phone = EncryptedCharField(max_length=40, blank=True, null=True)
    birth_date = EncryptedDateField(blank=True, null=True)
    seen_at = EncryptedDateTimeField(blank=True, null=True)
    count = EncryptedIntegerField(blank=True, null=True)

    name_index = BlindIndexField(source="name", kind="name")
    email_index = BlindIndexField(source="email", kind="email")
    phone_index = BlindIndexField(source="phone", kind="phone")
    name_and_birth_date_index = BlindIndexField(source=("name", "birth_date"), kind="name_and_birth_date")

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"Secret {self.pk}"


class Other(models.Model):
    """A second model, so rotation and import checks walk more than one table."""

    secret = models.ForeignKey(Secret, on_delete=models.CASCADE, null=True, blank=True)
    body = EncryptedTextField(blank=True, null=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"Other {self.pk}"

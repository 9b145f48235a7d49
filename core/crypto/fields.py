"""Haven's strict encrypted model fields: the ONLY module in Haven that imports `encrypted_model_fields`.

The library's fields are subclassed to close the traps listed in PITFALLS.md:

* decryption happens only in `from_db_value`, with keys read lazily from
  `settings.HAVEN_FIELD_ENCRYPTION_KEYS` (first key encrypts, all decrypt); a value that no key decrypts
  raises `DecryptionError` naming model and field, never the value, and never shows ciphertext;
* `to_python` never decrypts: a Fernet token typed into a form or set on a model is the text the user
  typed and is stored (encrypted) as that literal text, so pasting a stolen ciphertext is no oracle;
* lookups other than `isnull`, transforms, expressions in saves and updates (`update(f=Value(...))`,
  `bulk_update`) and serialisation (`dumpdata`) raise `EncryptedFieldError`; `unique`, `db_index` and
  Meta ordering/indexes/constraints on encrypted fields are system-check errors (core/crypto/checks.py).

Lists and searches should `defer_encrypted(queryset)`: they show pseudonyms and must not fail as a whole
because of one unreadable row. Exact search goes through blind indexes (core/crypto/blind_index.py).
"""

from __future__ import annotations

from typing import Any

import encrypted_model_fields.fields as library
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.lookups import Exact
from django.utils import timezone

from core.crypto.exceptions import DecryptionError, EncryptedFieldError
from core.crypto.keys import field_fernet

__all__ = [
    "EncryptedBigIntegerField",
    "EncryptedCharField",
    "EncryptedDateField",
    "EncryptedDateTimeField",
    "EncryptedEmailField",
    "EncryptedIntegerField",
    "EncryptedTextField",
    "HavenEncryptedMixin",
    "decrypt_value",
    "defer_encrypted",
    "encrypt_value",
    "encrypted_fields",
    "is_encrypted_field",
]


def encrypt_value(plaintext: str) -> str:
    """Encrypt a string with the newest key; return the Fernet token as text."""
    return field_fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_value(token: str | bytes, *, model_label: str = "?", field_name: str = "?") -> str:
    """Decrypt a stored token with any configured key, or raise DecryptionError (never return ciphertext)."""
    raw = token if isinstance(token, bytes) else str(token).encode("utf-8")
    try:
        return field_fernet().decrypt(raw).decode("utf-8")
    except (InvalidToken, UnicodeDecodeError):
        raise DecryptionError(model_label=model_label, field_name=field_name) from None


class _NullOnlyExact(Exact):
    """`field=None` still means `field__isnull=True`; any other exact match on ciphertext is refused."""

    def __init__(self, lhs: Any, rhs: Any) -> None:
        if rhs is not None:
            raise EncryptedFieldError(_lookup_message(lhs.output_field, "exact"))
        super().__init__(lhs, rhs)


def _label(field: models.Field) -> str:
    model = getattr(field, "model", None)
    if model is None:
        return field.name or "?"
    return f"{model._meta.label}.{field.name}"


def _lookup_message(field: models.Field, lookup_name: str) -> str:
    return (
        f"Encrypted field {_label(field)} cannot be searched, compared or transformed ('{lookup_name}'): "
        "the database holds only ciphertext. Search through its blind index "
        "(core.crypto.blind_index.blind_index_filter); only 'isnull' is allowed."
    )


def _refuse_expression(field: models.Field, value: Any, where: str) -> None:
    if hasattr(value, "resolve_expression") or hasattr(value, "as_sql"):
        raise EncryptedFieldError(
            f"Encrypted field {_label(field)} cannot be written from a SQL expression ({where}): the "
            "expression would be stored instead of an encrypted value. Set a plain value on the instance "
            "and save() it; bulk_update() and update(field=Value(...)/F(...)) are not allowed."
        )


class HavenEncryptedMixin:
    """Mixed in before the library's class, so every method here overrides the library's."""

    haven_encrypted = True

    # --- reading -------------------------------------------------------------------------------
    def _plain_to_python(self, value: Any) -> Any:
        """Run Django's own conversion for the base type, skipping the library's decrypting one."""
        return super(library.EncryptedMixin, self).to_python(value)  # type: ignore[misc]

    def to_python(self, value: Any) -> Any:
        """Convert user input WITHOUT decrypting: a token typed by a user is literal text."""
        return self._plain_to_python(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        """Decrypt a stored value; raise DecryptionError when no key decrypts it."""
        if value is None:
            return None
        model_label = self.model._meta.label if getattr(self, "model", None) else "?"  # type: ignore[attr-defined]
        plaintext = decrypt_value(value, model_label=model_label, field_name=self.name)  # type: ignore[attr-defined]
        try:
            return self._plain_to_python(plaintext)
        except (ValidationError, ValueError, TypeError):
            # The decrypted text is not a valid value of this type; say so without showing it.
            raise DecryptionError(model_label=model_label, field_name=self.name) from None  # type: ignore[attr-defined]

    # --- writing -------------------------------------------------------------------------------
    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = super().pre_save(model_instance, add)  # type: ignore[misc]
        _refuse_expression(self, value, "save()")  # type: ignore[arg-type]
        return value

    def get_prep_value(self, value: Any) -> Any:
        _refuse_expression(self, value, "query value")  # type: ignore[arg-type]
        return super().get_prep_value(value)  # type: ignore[misc]

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        """Encrypt with the newest key. Expressions (Value, F, Case from bulk_update) are refused."""
        _refuse_expression(self, value, "update() or bulk_update()")  # type: ignore[arg-type]
        # Django's own conversion for the base type (our to_python: never decrypts). The connection's
        # adaptation is skipped on purpose: the column is text and holds the value's string form.
        value = self.get_prep_value(value)
        if value is None:
            return None
        return encrypt_value(self._value_to_plaintext(value))

    def _value_to_plaintext(self, value: Any) -> str:
        return str(value)

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> str:
        _refuse_expression(self, value, "update() or bulk_update()")  # type: ignore[arg-type]
        return "%s"

    # --- queries -------------------------------------------------------------------------------
    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)  # type: ignore[misc]
        if lookup_name == "exact":
            return _NullOnlyExact
        raise EncryptedFieldError(_lookup_message(self, lookup_name))  # type: ignore[arg-type]

    def get_transform(self, lookup_name: str) -> Any:
        raise EncryptedFieldError(_lookup_message(self, lookup_name))  # type: ignore[arg-type]

    # --- serialisation -------------------------------------------------------------------------
    def value_to_string(self, obj: models.Model) -> str:
        raise EncryptedFieldError(
            f"Encrypted field {_label(self)} cannot be serialised (dumpdata, serializers): it would "  # type: ignore[arg-type]
            "write plaintext. Export through an audited service instead."
        )


class EncryptedCharField(HavenEncryptedMixin, library.EncryptedCharField):
    """A CharField stored encrypted (text column; max_length validates the plaintext)."""


class EncryptedTextField(HavenEncryptedMixin, library.EncryptedTextField):
    """A TextField stored encrypted."""


class EncryptedEmailField(HavenEncryptedMixin, library.EncryptedEmailField):
    """An EmailField stored encrypted."""


class EncryptedDateField(HavenEncryptedMixin, library.EncryptedDateField):
    """A DateField stored encrypted (ISO date). Never indexed alone: see blind_index_name_and_birth_date."""


class EncryptedDateTimeField(HavenEncryptedMixin, library.EncryptedDateTimeField):
    """A DateTimeField stored encrypted; naive values are made aware in the default time zone."""

    def _plain_to_python(self, value: Any) -> Any:
        value = super()._plain_to_python(value)
        if value is not None and settings.USE_TZ and timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())
        return value

    def _value_to_plaintext(self, value: Any) -> str:
        return value.isoformat()


class EncryptedIntegerField(HavenEncryptedMixin, library.EncryptedIntegerField):
    """An IntegerField stored encrypted."""


class EncryptedBigIntegerField(HavenEncryptedMixin, library.EncryptedBigIntegerField):
    """A BigIntegerField stored encrypted."""


def is_encrypted_field(field: Any) -> bool:
    """Return whether `field` is one of Haven's encrypted fields."""
    return isinstance(field, HavenEncryptedMixin)


def encrypted_fields(model: type[models.Model]) -> list[models.Field]:
    """Return the concrete encrypted fields of a model (including inherited ones)."""
    return [field for field in model._meta.concrete_fields if is_encrypted_field(field)]


def defer_encrypted(queryset: models.QuerySet) -> models.QuerySet:
    """Defer every encrypted column of the queryset's model: for lists and searches (they show pseudonyms).

    Nothing is decrypted for the rows, so a list neither costs a decryption per row nor fails as a whole
    because of one unreadable row; reading a deferred attribute later loads and decrypts that one value.
    """
    names = [field.attname for field in encrypted_fields(queryset.model)]
    return queryset.defer(*names) if names else queryset

"""Exceptions raised by Haven's encryption layer. They never carry a stored or typed value."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class HavenCryptoError(Exception):
    """Base class of every error raised by core.crypto."""


class KeyConfigurationError(HavenCryptoError):
    """A key setting is missing or malformed: Haven refuses to encrypt, decrypt or index (fail closed)."""


class DecryptionError(HavenCryptoError):
    """A stored value could not be decrypted with any configured key.

    The message names the model, the field and (when known) the primary key, never the stored value.
    """

    user_message = _("This record cannot be read at the moment. Please tell your administrator.")

    def __init__(self, *, model_label: str, field_name: str, pk: object | None = None) -> None:
        self.model_label = model_label
        self.field_name = field_name
        self.pk = pk
        where = f"{model_label}.{field_name}"
        if pk is not None:
            where += f" (pk={pk})"
        super().__init__(
            f"Cannot decrypt {where} with any key in HAVEN_FIELD_ENCRYPTION_KEYS; "
            "the value is not shown. Check the key list or run rotate_field_keys to find such rows."
        )


class EncryptedFieldError(HavenCryptoError):
    """An operation that cannot work on ciphertext (lookup, ordering, expression update...) was refused."""

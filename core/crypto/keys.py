"""Keys for field encryption and blind indexes, read from settings lazily at every use.

Keys are never read at import time (settings may change, e.g. with override_settings in tests); the
objects built from them are cached per key tuple, so reading is cheap.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

from core.crypto.exceptions import KeyConfigurationError


def _field_key_tuple() -> tuple[str, ...]:
    keys = getattr(settings, "HAVEN_FIELD_ENCRYPTION_KEYS", None)
    if isinstance(keys, str | bytes):
        keys = [keys]
    if not keys:
        raise KeyConfigurationError(
            "HAVEN_FIELD_ENCRYPTION_KEYS is not set: Haven cannot encrypt or decrypt."
        )
    return tuple(key.decode() if isinstance(key, bytes) else str(key) for key in keys)


@lru_cache(maxsize=16)
def _fernets_for(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    try:
        fernets = [Fernet(key) for key in keys]
    except (ValueError, binascii.Error, TypeError) as error:
        # The message names the position only, never the key.
        raise KeyConfigurationError(
            "HAVEN_FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)."
        ) from error
    return MultiFernet(fernets), fernets[0]


def field_fernet() -> MultiFernet:
    """Return the MultiFernet for the configured key list: the first key encrypts, every key decrypts."""
    return _fernets_for(_field_key_tuple())[0]


def primary_field_fernet() -> Fernet:
    """Return the Fernet of the newest key alone (used to tell whether a row still needs rotating)."""
    return _fernets_for(_field_key_tuple())[1]


@lru_cache(maxsize=16)
def _decode_blind_index_key(value: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.encode("ascii"))
    except (ValueError, binascii.Error, UnicodeEncodeError) as error:
        raise KeyConfigurationError("HAVEN_BLIND_INDEX_KEY is not url-safe base64.") from error
    if len(key) != 32:
        raise KeyConfigurationError("HAVEN_BLIND_INDEX_KEY must decode to exactly 32 bytes.")
    return key


def blind_index_root_key() -> bytes:
    """Return the 32-byte root key from which every blind-index field key is derived."""
    value = getattr(settings, "HAVEN_BLIND_INDEX_KEY", None)
    if not value:
        raise KeyConfigurationError("HAVEN_BLIND_INDEX_KEY is not set: Haven cannot search or index.")
    if isinstance(value, bytes):
        value = value.decode("ascii")
    return _decode_blind_index_key(str(value))

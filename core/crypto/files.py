"""Encryption of file contents at rest, and their keyed hash (SPEC.md §2 casework/ "Documents").

Bytes are encrypted with the same MultiFernet as the encrypted fields (core.crypto.keys: the first key
encrypts, every key decrypts), so key rotation covers documents too. The keyed hash is an HMAC-SHA256 of
the plaintext with a key derived by HKDF from HAVEN_BLIND_INDEX_KEY (info b"haven-document-hash"): it proves
a download is the file that was uploaded, and finds duplicates, without letting anyone who reads the
database confirm a guessed file. Keys are read at every call, never at import time.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.crypto.exceptions import DecryptionError
from core.crypto.keys import blind_index_root_key, field_fernet

DOCUMENT_HASH_INFO = b"haven-document-hash"

__all__ = ["decrypt_bytes", "document_hash", "document_hash_matches", "encrypt_bytes"]


def encrypt_bytes(plaintext: bytes) -> bytes:
    """Encrypt file contents with the newest field key; return the Fernet token (bytes)."""
    if not isinstance(plaintext, bytes | bytearray):
        raise TypeError("encrypt_bytes takes bytes.")
    return field_fernet().encrypt(bytes(plaintext))


def decrypt_bytes(token: bytes, *, label: str = "document") -> bytes:
    """Decrypt file contents with any configured key, or raise DecryptionError (never return ciphertext)."""
    try:
        return field_fernet().decrypt(bytes(token))
    except (InvalidToken, TypeError, ValueError):
        raise DecryptionError(model_label=label, field_name="contents") from None


@lru_cache(maxsize=4)
def _hash_key_for(root_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=DOCUMENT_HASH_INFO).derive(root_key)


def document_hash(plaintext: bytes) -> str:
    """Return the keyed HMAC-SHA256 (hex) of file contents."""
    key = _hash_key_for(blind_index_root_key())
    return hmac.new(key, bytes(plaintext), hashlib.sha256).hexdigest()


def document_hash_matches(plaintext: bytes, expected: str) -> bool:
    """Tell, in constant time, whether the contents have the recorded keyed hash."""
    return hmac.compare_digest(document_hash(plaintext), str(expected or ""))

"""Exact search over cases a user may see: by reference, pseudonym, and keyed blind indexes."""

from __future__ import annotations

from core.crypto.blind_index import KIND_EMAIL, KIND_PHONE, blind_index

CHANNEL_INDEX_KINDS = {"phone": KIND_PHONE, "email": KIND_EMAIL}


def channel_index(kind: str, value: str | None) -> str | None:
    """Return the blind index of a phone number or e-mail address; other channels are not searchable."""
    index_kind = CHANNEL_INDEX_KINDS.get(kind)
    if index_kind is None or not value:
        return None
    try:
        return blind_index(f"channel_{kind}", value, index_kind)
    except ValueError:
        return None  # a phone number without a country code is stored but not searchable

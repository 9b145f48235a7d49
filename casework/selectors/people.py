"""Reads of the person section (the caller has authorised the case with casework.access)."""

from __future__ import annotations

from django.http import Http404

from casework.models import Case, ContactChannel
from core.crypto.fields import defer_encrypted


def case_channels(*, case: Case, with_values: bool = False) -> list[ContactChannel]:
    """The contact channels of the case's person: preferred first, then oldest first. Values (and safe
    times) are loaded only `with_values`, for a user who may see them now."""
    channels = ContactChannel.objects.filter(person_id=case.person_id).order_by(
        "-is_preferred", "created_at", "pk"
    )
    return list(channels if with_values else defer_encrypted(channels))


def case_channel_get(*, case: Case, channel_id: int) -> ContactChannel:
    """Return one channel of the case's person, or 404 (a channel of another person is never reached)."""
    channel = ContactChannel.objects.filter(pk=channel_id, person_id=case.person_id).first()
    if channel is None:
        raise Http404
    return channel

"""Reads for retention, legal hold and erasure, for a case the caller already authorised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone

from casework import retention
from casework.models import Case, ContactChannel, ErasureRequest
from casework.services.records import case_retention_due, erasure_blockers


@dataclass(frozen=True)
class RetentionSummary:
    notes_due: dt.datetime | None
    documents_due: dt.datetime | None
    blockers: list[str]
    periods: Mapping[str, object]


def case_retention_summary(*, case: Case, now: dt.datetime | None = None) -> RetentionSummary:
    return RetentionSummary(
        notes_due=case_retention_due(case=case, category=retention.NOTES),
        documents_due=case_retention_due(case=case, category=retention.DOCUMENTS),
        blockers=erasure_blockers(case=case, now=now or timezone.now()),
        periods=retention.retention_settings(),
    )


def erasure_request_list_for_case(*, case: Case) -> list[ErasureRequest]:
    return list(
        ErasureRequest.objects.filter(case=case)
        .select_related("received_by", "decided_by", "verified_through")
        .defer("verified_through__value", "verified_through__safe_times")
        .order_by("-received_at", "-pk")
    )


def erasure_request_get_for_case(*, case: Case, request_id: int) -> ErasureRequest:
    erasure_request = ErasureRequest.objects.filter(case=case, pk=request_id).first()
    if erasure_request is None:
        raise Http404
    return erasure_request


def verification_channels(*, case: Case) -> list[ContactChannel]:
    """The person's channels that are not compromised, without their values (kind and safety only)."""
    return list(
        ContactChannel.objects.filter(person_id=case.person_id)
        .exclude(safety="compromised")
        .defer("value", "safe_times")
        .order_by("-is_preferred", "pk")
    )


def verification_channel_get(*, case: Case, channel_id: int | None) -> ContactChannel | None:
    """One of the person's channels by id (any safety: the service refuses a compromised one)."""
    if channel_id is None:
        return None
    return (
        ContactChannel.objects.filter(person_id=case.person_id, pk=channel_id)
        .defer("value", "safe_times")
        .first()
    )

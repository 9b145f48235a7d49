"""Reads of the measures register: the officers' full register and the case team's summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.http import Http404
from django.utils.functional import Promise

from casework.models import Person
from protection.models import MeasureCategory, MeasureKind, ProtectionMeasure


@dataclass(frozen=True)
class MeasureSummary:
    """What the case team may know of a measure: that it exists and its status (no basis, no holder)."""

    kind: str
    kind_label: Promise | str
    category: str
    category_label: Promise | str
    status: str
    status_label: Promise | str
    starts_on: date | None
    ends_on: date | None


def measures_for(*, person: Person) -> QuerySet[ProtectionMeasure]:
    """The person's whole register, newest first (officers only: the caller has authorised them)."""
    return (
        ProtectionMeasure.objects.filter(person=person)
        .select_related("requested_by", "decided_by")
        .order_by("-created_at", "-pk")
    )


def measure_get_for_person(*, person: Person, measure_id: int) -> ProtectionMeasure:
    measure = measures_for(person=person).filter(pk=measure_id).first()
    if measure is None:
        raise Http404
    return measure


def measures_summary_for(person: Person) -> list[MeasureSummary]:
    """Which measures exist for the person and their status, for the case team (no encrypted column read)."""
    rows = (
        ProtectionMeasure.objects.filter(person=person)
        .order_by("-created_at", "-pk")
        .values_list("kind", "category", "status", "starts_on", "ends_on")
    )
    return [
        MeasureSummary(
            kind=kind,
            kind_label=MeasureKind(kind).label,
            category=category,
            category_label=MeasureCategory(category).label,
            status=status,
            status_label=ProtectionMeasure.Status(status).label,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        for kind, category, status, starts_on, ends_on in rows
    ]

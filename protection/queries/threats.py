"""Reads of threat assessments: a person's history (officers) and the reviews due for an officer."""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from casework.models import PROTECTION_LEVEL_ORDER, Case, Person
from core.crypto.fields import encrypted_fields
from protection.models import ThreatAssessment
from protection.selectors import served_organisation_ids


def threat_assessments_for(*, person: Person) -> QuerySet[ThreatAssessment]:
    """The person's assessments, newest first (officers only: the caller has authorised them)."""
    return (
        ThreatAssessment.objects.filter(person=person)
        .select_related("assessed_by")
        .order_by("-assessed_at", "-pk")
    )


def latest_threat_assessment(*, person: Person) -> ThreatAssessment | None:
    return threat_assessments_for(person=person).first()


def pending_level_proposal(*, person: Person, assessment: ThreatAssessment | None) -> str:
    """The level the latest assessment proposes, if it is still above the person's level now."""
    if assessment is None or not assessment.proposed_level:
        return ""
    if PROTECTION_LEVEL_ORDER[assessment.proposed_level] > PROTECTION_LEVEL_ORDER[person.protection_level]:
        return assessment.proposed_level
    return ""


def threat_reviews_due(user: object, *, now: datetime | None = None) -> QuerySet[ThreatAssessment]:
    """Each person's latest assessment whose review is due (today or earlier), for an officer serving them.

    Rows carry the person (for its pseudonym) and no notes; the case reference is annotated as
    `case_reference` (the person's first case) for links.
    """
    now = now or timezone.now()
    organisation_ids = served_organisation_ids(user=user, now=now)
    if not organisation_ids:
        return ThreatAssessment.objects.none()
    latest = ThreatAssessment.objects.filter(person=OuterRef("person")).order_by("-assessed_at", "-pk")
    first_case = Case.objects.filter(person=OuterRef("person")).order_by("pk")
    return (
        ThreatAssessment.objects.filter(
            person__organisation_id__in=organisation_ids,
            next_review_on__lte=timezone.localdate(now),
            pk=Subquery(latest.values("pk")[:1]),
        )
        .annotate(case_reference=Subquery(first_case.values("reference")[:1]))
        .select_related("person")
        .defer("notes", *(f"person__{field.attname}" for field in encrypted_fields(Person)))
        .order_by("next_review_on", "pk")
    )

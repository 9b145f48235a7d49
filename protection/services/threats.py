"""Threat assessments (SPEC.md §2 protection/ "Threat assessment"): officers only.

The score is the sum of the catalogue's weights (protection/threat_catalogue.py). A high score proposes a
higher protection level; it never changes the level by itself: the officer raises it with the level service.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.models import PROTECTION_LEVEL_ORDER, Person
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from protection import threat_catalogue as catalogue
from protection.models import ThreatAssessment
from protection.queries.levels import is_officer_for_person

register_action_labels({"protection.threat_assessed": gettext_lazy("Threat assessed")})

NOTES_MAX_LENGTH = 10000
REVIEW_INTERVAL_MIN = 1
REVIEW_INTERVAL_MAX = 365


def proposed_level_for(*, score: int, current_level: str) -> str:
    """The level the score calls for when it is above the person's current level, else ""."""
    level = catalogue.level_for_score(score)
    if level and PROTECTION_LEVEL_ORDER[level] > PROTECTION_LEVEL_ORDER[current_level]:
        return level
    return ""


def _codes(values: Iterable[str], allowed: dict[str, int], field: str) -> list[str]:
    codes = list(dict.fromkeys(values))  # keep order, drop repeats
    if any(code not in allowed for code in codes):
        raise ValidationError({field: _("Choose from the list.")})
    return codes


@transaction.atomic
def threat_assessment_record(
    *,
    actor: User,
    person: Person,
    sources: Iterable[str],
    threat_kinds: Iterable[str],
    vulnerabilities: Iterable[str],
    review_interval_days: int,
    notes: str = "",
    now: datetime | None = None,
) -> ThreatAssessment:
    """Record an assessment, compute its score and the level it proposes (officers only)."""
    now = now or timezone.now()
    person = Person.objects.select_for_update().get(pk=person.pk)
    if not is_officer_for_person(user=actor, person=person, now=now):
        raise PermissionDenied(_("Only a protection officer serving this organisation can assess threats."))
    source_codes = _codes(sources, catalogue.SOURCE_WEIGHTS, "sources")
    kind_codes = _codes(threat_kinds, catalogue.THREAT_KIND_WEIGHTS, "threat_kinds")
    vulnerability_codes = _codes(vulnerabilities, catalogue.VULNERABILITY_WEIGHTS, "vulnerabilities")
    if not isinstance(review_interval_days, int) or not (
        REVIEW_INTERVAL_MIN <= review_interval_days <= REVIEW_INTERVAL_MAX
    ):
        raise ValidationError({"review_interval_days": _("Choose a review interval between 1 and 365 days.")})
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        raise ValidationError({"notes": _("Keep the notes shorter.")})
    score = catalogue.threat_score(
        sources=source_codes, threat_kinds=kind_codes, vulnerabilities=vulnerability_codes
    )
    proposed = proposed_level_for(score=score, current_level=person.protection_level)
    assessment = ThreatAssessment.objects.create(
        person=person,
        sources=source_codes,
        threat_kinds=kind_codes,
        vulnerabilities=vulnerability_codes,
        score=score,
        proposed_level=proposed,
        review_interval_days=review_interval_days,
        next_review_on=timezone.localdate(now) + timedelta(days=review_interval_days),
        notes=notes,
        assessed_by=actor,
        assessed_at=now,
    )
    audit_event_create(
        action="protection.threat_assessed",
        actor=actor,
        organisation=person.organisation,
        target=assessment,
        fields=["sources", "threat_kinds", "vulnerabilities", *(["notes"] if notes else [])],
        details={"person_id": person.pk, "score": score, "proposed_level": proposed or None},
    )
    return assessment

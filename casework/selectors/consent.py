"""Reads of lawful bases and consents, for the case's consent page and the dashboards' queues."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from casework.access import SUPERVISE, VIEW, cases_visible_to
from casework.models import Case, Consent, ConsentScope, LawfulBasis, LawfulBasisKind, MinorAssessment, Person
from casework.services.consent import consent_state
from core.crypto.fields import encrypted_fields


def _person_encrypted(prefix: str) -> list[str]:
    """The person's encrypted columns, deferred in lists (they show the pseudonym only)."""
    return [prefix + field.attname for field in encrypted_fields(Person)]


def lawful_bases_awaiting_review(user: object) -> QuerySet[LawfulBasis]:
    """Bases other than consent, not yet reviewed and not ended, on cases the user supervises, that the
    user did not record (nobody reviews their own). Oldest first; the reason stays deferred."""
    cases = cases_visible_to(user, perm=SUPERVISE)
    return (
        LawfulBasis.objects.filter(case__in=cases, reviewed_at__isnull=True, ended_at__isnull=True)
        .exclude(kind=LawfulBasisKind.CONSENT)
        .exclude(recorded_by_id=getattr(user, "pk", None))
        .select_related("case", "case__person")
        .defer("reason", *_person_encrypted("case__person__"))
        .order_by("recorded_at", "pk")
    )


def consents_expiring(
    user: object, within_days: int = 30, *, now: dt.datetime | None = None
) -> QuerySet[Consent]:
    """Live consents on cases the user may see that expire within `within_days`, soonest first."""
    now = now or timezone.now()
    return (
        Consent.objects.filter(
            case__in=cases_visible_to(user, perm=VIEW),
            withdrawn_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + dt.timedelta(days=within_days),
        )
        .select_related("case", "case__person")
        .defer(*_person_encrypted("case__person__"))
        .order_by("expires_at", "pk")
    )


@dataclass
class ConsentRow:
    consent: Consent
    state: str

    @property
    def scope_labels(self) -> list[str]:
        return [
            str(ConsentScope(scope).label) if scope in ConsentScope.values else scope
            for scope in self.consent.scopes
        ]


def case_consent_overview(*, case: Case, now: dt.datetime | None = None) -> dict[str, object]:
    """Everything the consent page lists for one case (the caller has authorised the case)."""
    now = now or timezone.now()
    consents = list(
        case.consents.select_related("recorded_by", "withdrawal_recorded_by").order_by("-given_at", "-pk")
    )
    return {
        "bases": list(
            LawfulBasis.objects.filter(case=case)
            .select_related("recorded_by", "reviewed_by")
            .order_by("-recorded_at", "-pk")
        ),
        "consents": [
            ConsentRow(consent=consent, state=consent_state(consent, now=now)) for consent in consents
        ],
        "assessments": list(
            MinorAssessment.objects.filter(case=case)
            .select_related("assessed_by")
            .order_by("-assessed_at", "-pk")
        ),
    }


def case_consent_get(*, case: Case, consent_id: int) -> Consent:
    consent = Consent.objects.filter(pk=consent_id, case=case).first()
    if consent is None:
        raise Http404
    return consent


def case_lawful_basis_get(*, case: Case, basis_id: int) -> LawfulBasis:
    basis = LawfulBasis.objects.filter(pk=basis_id, case=case).first()
    if basis is None:
        raise Http404
    return basis

"""Reads for case summaries (SPEC.md §5): who may ask for which summary, and a user's own summaries.

A summary is the requester's alone: everyone else (a supervisor, a colleague, an officer) gets 404 for it,
exactly like a summary that does not exist. The summaries page opens for users who hold view_case on the
case and for protection officers serving the person's organisation; anyone else gets 404 (a counsellor
without view_case included: a summary is case content).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_supported_language_variant

from casework.access import COUNSEL, VIEW, case_perms
from casework.models import Case, CaseSummary, SummaryPurpose
from core.accounts.models import is_active_user as _active

# Summaries that still hold (or will hold) a file.
LIVE_STATUSES = (CaseSummary.Status.REQUESTED, CaseSummary.Status.RENDERING, CaseSummary.Status.READY)
PENDING_STATUSES = (CaseSummary.Status.REQUESTED, CaseSummary.Status.RENDERING)
LIST_LIMIT = 50


def is_officer_for_case(*, user: object, case: Case, now: datetime) -> bool:
    from protection.selectors import is_protection_officer_for

    return is_protection_officer_for(user=user, organisation_id=case.person.organisation_id, now=now)


def allowed_purposes(*, held: frozenset[str], is_officer: bool) -> list[str]:
    """The purposes a user may ask a summary for: client and legal partner with view_case, a client summary
    of the counselling with counsel_case (the counsellor's own view of the case), a protection review as an
    officer serving the organisation."""
    purposes: list[str] = []
    if VIEW in held:
        purposes += [SummaryPurpose.CLIENT, SummaryPurpose.LEGAL_PARTNER]
    elif COUNSEL in held:
        purposes.append(SummaryPurpose.CLIENT)
    if is_officer:
        purposes.append(SummaryPurpose.PROTECTION_REVIEW)
    return purposes


def may_include_counselling(*, held: frozenset[str]) -> bool:
    return COUNSEL in held


def summary_case_get(user: object, reference: str, *, now: datetime | None = None) -> Case:
    """Return the case for the summaries pages, or 404.

    The case carries `held_perms`, `is_officer` and `summary_purposes` (what this user may ask for).
    """
    if not _active(user) or not isinstance(reference, str) or len(reference) > 20:
        raise Http404
    now = now or timezone.now()
    case = Case.objects.filter(reference=reference).select_related("person", "organisation").first()
    if case is None:
        raise Http404
    held = case_perms(user=user, case=case, now=now)
    is_officer = is_officer_for_case(user=user, case=case, now=now)
    purposes = allowed_purposes(held=held, is_officer=is_officer)
    if not purposes:
        raise Http404
    case.held_perms = held  # type: ignore[attr-defined]
    case.is_officer = is_officer  # type: ignore[attr-defined]
    case.summary_purposes = purposes  # type: ignore[attr-defined]
    return case


def requester_may_see(*, summary: CaseSummary, now: datetime | None = None) -> bool:
    """Whether the requester may still have this summary: active, the purpose still allowed to them, and
    counselling notes (if included) still theirs to see."""
    user = summary.requested_by
    if not _active(user):
        return False
    now = now or timezone.now()
    case = summary.case
    held = case_perms(user=user, case=case, now=now)
    is_officer = is_officer_for_case(user=user, case=case, now=now)
    if summary.purpose not in allowed_purposes(held=held, is_officer=is_officer):
        return False
    return not summary.include_counselling or may_include_counselling(held=held)


def summary_list_for(*, user: object, case: Case) -> QuerySet[CaseSummary]:
    """The user's own summaries of the case, newest first (nobody sees anyone else's)."""
    return CaseSummary.objects.filter(case=case, requested_by=user).order_by("-requested_at", "-pk")[
        :LIST_LIMIT
    ]


def summary_get_for(*, user: object, case: Case, summary_id: int) -> CaseSummary:
    """The user's own summary of this case, or 404 (anyone else's summary is 404 too)."""
    summary = (
        CaseSummary.objects.filter(pk=summary_id, case=case, requested_by=user)
        .select_related("case", "case__person", "requested_by")
        .first()
    )
    if summary is None:
        raise Http404
    return summary


def summary_duplicate_pending(
    *,
    user: object,
    case: Case,
    purpose: str,
    language: str,
    include_counselling: bool,
    since: datetime,
) -> CaseSummary | None:
    """An identical request of the user still waiting, asked for since `since` (double submits)."""
    return (
        CaseSummary.objects.filter(
            case=case,
            requested_by=user,
            purpose=purpose,
            language=language,
            include_counselling=include_counselling,
            status__in=PENDING_STATUSES,
            requested_at__gte=since,
        )
        .order_by("-requested_at")
        .first()
    )


def summaries_due_to_expire(*, now: datetime) -> QuerySet[CaseSummary]:
    """Summaries past their time that still hold a file or wait to be made."""
    return CaseSummary.objects.filter(status__in=LIVE_STATUSES, expires_at__lte=now)


def summaries_ready(*, now: datetime) -> QuerySet[CaseSummary]:
    return CaseSummary.objects.filter(status=CaseSummary.Status.READY, expires_at__gt=now)


def summaries_live_for_person(*, person_id: int) -> QuerySet[CaseSummary]:
    return CaseSummary.objects.filter(case__person_id=person_id, status__in=LIVE_STATUSES)


def live_grant_ids(*, grant_ids: list[int], now: datetime) -> set[int]:
    """Which of these disclosure grants are live now (not revoked, not ended, not past expiry or review)."""
    from protection.models import DisclosureGrant

    if not grant_ids:
        return set()
    return set(
        DisclosureGrant.objects.filter(
            pk__in=grant_ids, revoked_at__isnull=True, ended_reason="", starts_at__lte=now
        )
        .filter(Q(expires_at__gt=now) | Q(expires_at__isnull=True, kind=DisclosureGrant.Kind.REFERRAL))
        .filter(Q(review_due_at__isnull=True) | Q(review_due_at__gt=now))
        .values_list("pk", flat=True)
    )


def default_language(*, case: Case, user: object) -> str:
    """The case person's language when Haven has it, else the user's, else the site's."""
    codes = {code for code, _name in settings.LANGUAGES}
    for candidate in (case.person.language, getattr(user, "language", ""), settings.LANGUAGE_CODE):
        if not candidate:
            continue
        try:
            code = get_supported_language_variant(str(candidate).lower())
        except LookupError:
            continue
        if code in codes:
            return code
    return settings.LANGUAGE_CODE

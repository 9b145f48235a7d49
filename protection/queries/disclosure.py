"""Reads about disclosure requests and grants, always filtered by who is asking.

An officer reaches a request, a grant or a person's grants only through an arrangement in force today
(protection.selectors.served_organisation_ids); anyone else gets 404, exactly like a missing object. The
requester reaches their own requests. Lists leave the encrypted columns unread (they show references,
pseudonyms, field names and staff codes only).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.models import Case, CaseState, Person
from core.accounts.models import Organisation, RoleAssignment, ServiceArrangement, User
from core.accounts.models import is_active_user as _active
from core.accounts.roles import Role
from core.crypto.fields import encrypted_fields
from protection.models import DisclosureGrant, DisclosureRequest
from protection.selectors import served_organisation_ids

OPEN_STATUSES = (DisclosureRequest.Status.PENDING, DisclosureRequest.Status.AWAITING_SECOND)
# A standing grant shows on the desk this long before its review falls due.
REVIEW_SOON = timedelta(days=3)


def _request_list(queryset: QuerySet[DisclosureRequest]) -> QuerySet[DisclosureRequest]:
    return (
        queryset.defer("purpose", "justification", "decision_reason", "no_notification_reason")
        .select_related("case", "requester", "first_decided_by", "second_decided_by")
        .defer(*(f"person__{name}" for name in _person_encrypted()))
        .select_related("person")
    )


def _grant_list(queryset: QuerySet[DisclosureGrant]) -> QuerySet[DisclosureGrant]:
    return (
        queryset.defer("purpose")
        .select_related("grantee", "granted_by", "revoked_by", "person")
        .defer(*(f"person__{name}" for name in _person_encrypted()))
    )


@cache
def _person_encrypted() -> tuple[str, ...]:
    return tuple(field.name for field in encrypted_fields(Person))


# --- Who serves an organisation -----------------------------------------------------------------------


def officers_serving(
    *,
    organisation_id: int | None = None,
    organisation_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> QuerySet[User]:
    """Active protection officers of the units that serve the organisation(s) under an arrangement today."""
    served = [*organisation_ids, *([organisation_id] if organisation_id is not None else [])]
    day = timezone.localdate(now or timezone.now())
    unit_ids = (
        ServiceArrangement.objects.filter(
            served_organisation_id__in=served,
            protection_unit__kind=Organisation.Kind.PROTECTION_UNIT,
            starts_on__lte=day,
        )
        .exclude(ends_on__lt=day)
        .values("protection_unit_id")
    )
    officer_ids = RoleAssignment.objects.filter(
        role=Role.PROTECTION_OFFICER, status=RoleAssignment.Status.ACTIVE
    ).values("user_id")
    return User.objects.filter(organisation_id__in=unit_ids, pk__in=officer_ids, is_active=True).order_by(
        "pk"
    )


def organisation_admins(*, organisation_id: int) -> QuerySet[User]:
    """Active users with an active organisation-admin role in the organisation."""
    admin_ids = RoleAssignment.objects.filter(
        role=Role.ORGANISATION_ADMIN, status=RoleAssignment.Status.ACTIVE
    ).values("user_id")
    return User.objects.filter(organisation_id=organisation_id, pk__in=admin_ids, is_active=True).order_by(
        "pk"
    )


# --- Fetch and authorise --------------------------------------------------------------------------------


def case_get_for_officer(user: object, reference: str, *, now: datetime | None = None) -> Case:
    """The case (and its person) with this reference, for an officer serving its organisation; else 404."""
    if not _active(user) or not isinstance(reference, str) or len(reference) > 20:
        raise Http404
    served = served_organisation_ids(user=user, now=now or timezone.now())
    case = (
        Case.objects.filter(reference=reference, organisation_id__in=served).select_related("person").first()
    )
    if case is None:
        raise Http404
    return case


def officer_check(user: object, *, now: datetime | None = None) -> None:
    """404 for anyone who is not a protection officer serving some support service today."""
    if not _active(user) or not served_organisation_ids(user=user, now=now or timezone.now()):
        raise Http404


def disclosure_request_get_for_officer(
    user: object, pk: int, *, now: datetime | None = None
) -> DisclosureRequest:
    """A request about a person of a service the officer serves today; anyone else gets 404."""
    if not _active(user):
        raise Http404
    served = served_organisation_ids(user=user, now=now or timezone.now())
    request = (
        DisclosureRequest.objects.filter(pk=pk, person__organisation_id__in=served)
        .select_related("case", "person", "requester", "first_decided_by", "second_decided_by")
        .first()
    )
    if request is None:
        raise Http404
    return request


def disclosure_request_get_for_requester(user: object, pk: int) -> DisclosureRequest:
    """The user's own request; anyone else's answers 404."""
    if not _active(user):
        raise Http404
    request = (
        DisclosureRequest.objects.filter(pk=pk, requester=user)
        .select_related("case", "person", "requester", "first_decided_by", "second_decided_by")
        .first()
    )
    if request is None:
        raise Http404
    return request


def grant_get_for_officer(user: object, pk: int, *, now: datetime | None = None) -> DisclosureGrant:
    if not _active(user):
        raise Http404
    served = served_organisation_ids(user=user, now=now or timezone.now())
    grant = (
        DisclosureGrant.objects.filter(pk=pk, person__organisation_id__in=served)
        .select_related("person", "grantee", "granted_by")
        .first()
    )
    if grant is None:
        raise Http404
    return grant


def grant_for_request(request: DisclosureRequest) -> DisclosureGrant | None:
    """The grant an approved request created (its purpose left unread), if any."""
    return DisclosureGrant.objects.filter(request=request).defer("purpose").first()


def case_for_person(*, person: Person) -> Case | None:
    """The person's open case (else the latest), to address the person's protection pages by reference."""
    cases = Case.objects.filter(person=person)
    return (
        cases.exclude(state=CaseState.CLOSED).order_by("-opened_at").first()
        or cases.order_by("-opened_at").first()
    )


# --- Lists ----------------------------------------------------------------------------------------------


def grant_is_live(grant: DisclosureGrant, *, now: datetime) -> bool:
    """The same test protection.selectors.live_grants applies, for one grant already in hand."""
    if grant.revoked_at is not None or grant.ended_reason or grant.starts_at > now:
        return False
    if grant.expires_at is None:
        if grant.kind != DisclosureGrant.Kind.REFERRAL:
            return False
    elif grant.expires_at <= now:
        return False
    return grant.review_due_at is None or grant.review_due_at > now


def _live(queryset: QuerySet[DisclosureGrant], now: datetime) -> QuerySet[DisclosureGrant]:
    return queryset.filter(revoked_at__isnull=True, ended_reason="", expires_at__gt=now)


def person_grants(*, person: object) -> QuerySet[DisclosureGrant]:
    """Every grant of the person, newest first (the officer's grants page)."""
    return _grant_list(DisclosureGrant.objects.filter(person=person)).order_by("-starts_at", "-pk")


def case_disclosure_requests(*, case: Case, requester: object | None = None) -> QuerySet[DisclosureRequest]:
    queryset = DisclosureRequest.objects.filter(case=case)
    if requester is not None:
        queryset = queryset.filter(requester=requester)
    return _request_list(queryset).order_by("-created_at", "-pk")


def disclosure_requests_pending(user: object, *, now: datetime | None = None) -> QuerySet[DisclosureRequest]:
    """Requests waiting for this officer: people they serve, not their own, not one they approved first."""
    if not _active(user):
        return DisclosureRequest.objects.none()
    served = served_organisation_ids(user=user, now=now or timezone.now())
    if not served:
        return DisclosureRequest.objects.none()
    queryset = (
        DisclosureRequest.objects.filter(status__in=OPEN_STATUSES, person__organisation_id__in=served)
        .exclude(requester=user)
        .exclude(status=DisclosureRequest.Status.AWAITING_SECOND, first_decided_by=user)
    )
    return _request_list(queryset).order_by("created_at", "pk")


def grants_expiring(
    user: object, *, within_hours: int = 24, now: datetime | None = None
) -> QuerySet[DisclosureGrant]:
    """Live grants of the people this officer serves that end within the next hours, soonest first."""
    if not _active(user):
        return DisclosureGrant.objects.none()
    now = now or timezone.now()
    served = served_organisation_ids(user=user, now=now)
    if not served:
        return DisclosureGrant.objects.none()
    queryset = _live(DisclosureGrant.objects.filter(person__organisation_id__in=served), now).filter(
        expires_at__lte=now + timedelta(hours=within_hours)
    )
    return _grant_list(queryset).order_by("expires_at", "pk")


def standing_grants_review_due(user: object, *, now: datetime | None = None) -> QuerySet[DisclosureGrant]:
    """Standing contact grants of the people this officer serves whose review is overdue or due soon.

    An overdue grant has already stopped working (protection.selectors checks review_due_at); a review
    renews it.
    """
    if not _active(user):
        return DisclosureGrant.objects.none()
    now = now or timezone.now()
    served = served_organisation_ids(user=user, now=now)
    if not served:
        return DisclosureGrant.objects.none()
    queryset = _live(
        DisclosureGrant.objects.filter(
            person__organisation_id__in=served, kind=DisclosureGrant.Kind.STANDING_CONTACT
        ),
        now,
    ).filter(Q(review_due_at__isnull=True) | Q(review_due_at__lte=now + REVIEW_SOON))
    return _grant_list(queryset).order_by("review_due_at", "pk")

"""Reads for duty cover: the team's cases a user may list, emergency accesses to review, choices."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from casework.access import LIST, SUPERVISE, cases_visible_to
from casework.models import Case, CaseState, EmergencyAccess
from core.accounts.models import RoleAssignment, Team, User
from core.accounts.roles import Role
from core.permissions import objects_for_user

# What a list may load of a case: no encrypted column, no identity.
LIST_FIELDS = (
    "reference",
    "state",
    "risk_level",
    "kind",
    "is_minor",
    "opened_at",
    "team__name",
    "person__pseudonym",
    "person__protection_level",
    "assigned_caseworker__staff_code",
)


def team_cases_listable(user: object) -> QuerySet[Case]:
    """The open cases of the user's teams that the user may list: reference, pseudonym, state only."""
    return (
        cases_visible_to(user, perm=LIST)
        .exclude(state=CaseState.CLOSED)
        .select_related("person", "assigned_caseworker", "team")
        .only("team", "person", "assigned_caseworker", "organisation_id", *LIST_FIELDS)
        .order_by("-opened_at", "-pk")
    )


def case_get_listable(user: object, reference: str) -> Case:
    """Return a case the user may at least list, or 404 (duty cover starts from the team's list)."""
    if not isinstance(reference, str) or len(reference) > 20:
        raise Http404
    case = team_cases_listable(user).filter(reference=reference).first()
    if case is None:
        raise Http404
    return case


def emergency_accesses_awaiting_review(
    user: object, *, now: datetime | None = None
) -> QuerySet[EmergencyAccess]:
    """Emergency accesses on cases the user supervises that nobody has reviewed yet, oldest first.

    The user's own accesses are left out: another supervisor reviews them. Reasons are not loaded.
    """
    supervised = cases_visible_to(user, perm=SUPERVISE)
    return (
        EmergencyAccess.objects.filter(case__in=supervised.values("pk"), reviewed_at__isnull=True)
        .exclude(user_id=getattr(user, "pk", None))
        .select_related("case", "case__person", "user")
        .only(
            "case",
            "user",
            "case__person",
            "started_at",
            "expires_at",
            "ended_at",
            "case__reference",
            "case__state",
            "case__risk_level",
            "case__person__pseudonym",
            "user__staff_code",
        )
        .order_by("started_at", "pk")
    )


def emergency_access_get_for_review(user: object, pk: object) -> EmergencyAccess:
    """Return an emergency access on a case the user supervises (any review state), or 404."""
    try:
        key = int(pk)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise Http404 from None
    supervised = cases_visible_to(user, perm=SUPERVISE)
    access = (
        EmergencyAccess.objects.filter(pk=key, case__in=supervised.values("pk"))
        .select_related("case", "case__person", "user", "reviewed_by")
        .first()
    )
    if access is None:
        raise Http404
    return access


def emergency_accesses_of(user: object, *, now: datetime | None = None) -> QuerySet[EmergencyAccess]:
    """The user's own live emergency accesses (to end them early)."""
    now = now or timezone.now()
    return (
        EmergencyAccess.objects.filter(
            user_id=getattr(user, "pk", None), ended_at__isnull=True, expires_at__gt=now
        )
        .select_related("case", "case__person")
        .defer("reason")
        .order_by("expires_at")
    )


def supervised_teams(user: object) -> QuerySet[Team]:
    """Teams whose supervisor group the user belongs to."""
    if not getattr(user, "is_active", False) or not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    return Team.objects.filter(
        supervisor_group__user=user, organisation_id=getattr(user, "organisation_id", None)
    ).order_by("name")


def cases_reassignable(user: object) -> QuerySet[Case]:
    """Open cases the user supervises (for the reassignment form)."""
    return (
        objects_for_user(user, f"casework.{SUPERVISE}", Case.objects.all())
        .exclude(state=CaseState.CLOSED)
        .select_related("person", "assigned_caseworker", "team")
        .only("team", "person", "assigned_caseworker", "organisation_id", "version", *LIST_FIELDS)
        .order_by("team__name", "-opened_at", "-pk")
    )


def _active_with_role(role: str) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        role_assignments__role=role,
        role_assignments__status=RoleAssignment.Status.ACTIVE,
    )


def caseworkers_of_supervised_teams(user: object) -> QuerySet[User]:
    """Active caseworkers in the teams the user supervises."""
    return (
        _active_with_role(Role.CASEWORKER)
        .filter(teams__in=supervised_teams(user), organisation_id=getattr(user, "organisation_id", None))
        .distinct()
        .order_by("staff_code")
    )


def counsellors_for(case: Case) -> QuerySet[User]:
    """Active counsellors of the case's organisation (in its team when it has one)."""
    users = _active_with_role(Role.COUNSELLOR).filter(organisation_id=case.organisation_id)
    if case.team_id:
        users = users.filter(teams=case.team_id)
    return users.distinct().order_by("staff_code")

"""Who is alerted in a crisis, the crisis actions waiting for review, and the duty rota."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.access import SUPERVISE, cases_visible_to
from casework.models import Case, CrisisAction, DutyShift
from core.accounts.models import RoleAssignment, Team, User
from core.accounts.roles import Role


def _active_supervisors() -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        role_assignments__role=Role.SUPERVISOR,
        role_assignments__status=RoleAssignment.Status.ACTIVE,
    )


def team_supervisors(*, team: Team) -> QuerySet[User]:
    """The team's members who hold an active supervisor role."""
    return (
        _active_supervisors()
        .filter(organisation_id=team.organisation_id, teams=team)
        .distinct()
        .order_by("pk")
    )


def supervisors_on_duty(*, team: Team, now: datetime | None = None) -> QuerySet[User]:
    """Supervisors of the team whose duty shift covers `now` (and who are still active supervisors)."""
    now = now or timezone.now()
    return (
        team_supervisors(team=team)
        .filter(duty_shifts__team=team, duty_shifts__starts_at__lte=now, duty_shifts__ends_at__gt=now)
        .distinct()
    )


def crisis_alert_recipients(*, case: Case, now: datetime | None = None) -> list[User]:
    """Whom a crisis on the case alerts: the team's supervisors on duty now; with nobody on duty, every
    supervisor of the team; with none in the team (or no team), the organisation's supervisors."""
    now = now or timezone.now()
    team = case.team
    if team is not None:
        on_duty = list(supervisors_on_duty(team=team, now=now))
        if on_duty:
            return on_duty
        of_team = list(team_supervisors(team=team))
        if of_team:
            return of_team
    return list(_active_supervisors().filter(organisation_id=case.organisation_id).distinct().order_by("pk"))


def crisis_actions_for_case(*, case: Case) -> QuerySet[CrisisAction]:
    return (
        CrisisAction.objects.filter(case=case)
        .select_related("recorded_by", "reviewed_by")
        .order_by("-recorded_at", "-pk")
    )


def crisis_actions_awaiting_review(user: object) -> QuerySet[CrisisAction]:
    """Crisis actions on cases the user supervises, not yet reviewed, recorded by someone else."""
    cases = cases_visible_to(user, perm=SUPERVISE)
    return (
        CrisisAction.objects.filter(case__in=cases.values("pk"), reviewed_at__isnull=True)
        .exclude(recorded_by_id=getattr(user, "pk", None))
        .defer("steps_taken")
        .select_related("case", "case__person", "recorded_by")
        .order_by("recorded_at", "pk")
    )


def crisis_action_get_for_review(user: object, pk: int) -> CrisisAction:
    action = crisis_actions_awaiting_review(user).filter(pk=pk).first()
    if action is None:
        raise Http404
    return action


def duty_teams_for(user: object) -> QuerySet[Team]:
    """The teams whose rota the user sees: their own teams."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Team.objects.none()
    return Team.objects.filter(
        members=user,  # type: ignore[misc]
        organisation_id=user.organisation_id,  # type: ignore[attr-defined]
    ).order_by("name")


def duty_rota(*, teams: QuerySet[Team], now: datetime | None = None) -> QuerySet[DutyShift]:
    """Current and coming shifts of the teams, soonest first."""
    now = now or timezone.now()
    return (
        DutyShift.objects.filter(team__in=teams, ends_at__gt=now)
        .select_related("team", "supervisor")
        .order_by("starts_at", "pk")
    )


def duty_shift_get_for(user: object, pk: int, *, now: datetime | None = None) -> DutyShift:
    """One of the user's own current or coming shifts, or 404."""
    now = now or timezone.now()
    shift = (
        DutyShift.objects.filter(pk=pk, supervisor_id=getattr(user, "pk", None), ends_at__gt=now)
        .filter(~Q(supervisor__is_active=False))
        .first()
    )
    if shift is None:
        raise Http404
    return shift

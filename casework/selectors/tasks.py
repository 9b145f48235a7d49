"""Reads of tasks and the dashboard queues built from tasks and contacts, filtered by who is asking."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from casework.access import VIEW, case_perms, cases_under_emergency_access, cases_visible_to
from casework.models import Case, CaseState, RiskLevel, Task
from core.accounts.models import User
from core.accounts.models import is_active_user as _active

DEFAULT_HIGH_RISK_CONTACT_DAYS = 7
DEFAULT_DUE_SOON_DAYS = 3


def tasks_for_case(*, case: Case) -> QuerySet[Task]:
    """The case's tasks: open ones first by due date, then the done ones (descriptions included)."""
    return (
        Task.objects.filter(case=case)
        .select_related("assignee", "created_by")
        .order_by("done_at", "due_on", "pk")
    )


def tasks_open_for(user: object) -> QuerySet[Task]:
    """The user's open tasks, soonest due first, without descriptions (a list shows kind and case)."""
    if not _active(user):
        return Task.objects.none()
    return (
        Task.objects.filter(assignee=user, done_at__isnull=True)
        .defer("description")
        .select_related("case", "case__person")
        .order_by("due_on", "pk")
    )


def tasks_done_recently_for(user: object, *, days: int = 14, now: datetime | None = None) -> QuerySet[Task]:
    if not _active(user):
        return Task.objects.none()
    since = (now or timezone.now()) - timedelta(days=days)
    return (
        Task.objects.filter(assignee=user, done_at__gte=since)
        .defer("description")
        .select_related("case", "case__person")
        .order_by("-done_at", "-pk")
    )


def tasks_overdue(user: object, *, now: datetime | None = None) -> QuerySet[Task]:
    today = timezone.localdate(now or timezone.now())
    return tasks_open_for(user).filter(due_on__lt=today)


def tasks_due_soon(user: object, *, days: int | None = None, now: datetime | None = None) -> QuerySet[Task]:
    """Open tasks due from today to `days` ahead (HAVEN_TASKS_DUE_SOON_DAYS, 3 by default)."""
    if days is None:
        days = int(getattr(settings, "HAVEN_TASKS_DUE_SOON_DAYS", DEFAULT_DUE_SOON_DAYS))
    today = timezone.localdate(now or timezone.now())
    return tasks_open_for(user).filter(due_on__gte=today, due_on__lte=today + timedelta(days=days))


def task_get_for(user: object, pk: int) -> Task:
    """A task the user may see (assigned to them, or on a case they may view), or 404."""
    if not _active(user):
        raise Http404
    task = Task.objects.filter(pk=pk).defer("description").select_related("case").first()
    if task is None:
        raise Http404
    if task.assignee_id == user.pk:  # type: ignore[attr-defined]
        return task
    if task.case is not None and VIEW in case_perms(user=user, case=task.case):
        return task
    raise Http404


def task_assignee_choices(*, case: Case) -> list[User]:
    """Active users of the case's organisation who may see the case now (the possible assignees)."""
    candidates = User.objects.filter(is_active=True, organisation_id=case.organisation_id)
    who = Q(pk=case.assigned_caseworker_id) if case.assigned_caseworker_id else Q(pk__in=[])
    if case.team_id:
        who |= Q(teams=case.team_id)
    who |= Q(pk__in=case.emergency_accesses.values("user_id"))
    users = candidates.filter(who).distinct().order_by("username")
    return [user for user in users if VIEW in case_perms(user=user, case=case)]


def high_risk_without_contact(
    user: object, *, days: int | None = None, now: datetime | None = None
) -> QuerySet[Case]:
    """Open cases at high or critical risk the user may see with nobody reached for `days` days
    (HAVEN_HIGH_RISK_CONTACT_DAYS, 7 by default); a case never contacted counts from its opening."""
    if days is None:
        days = int(getattr(settings, "HAVEN_HIGH_RISK_CONTACT_DAYS", DEFAULT_HIGH_RISK_CONTACT_DAYS))
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    visible = Q(pk__in=cases_visible_to(user, perm=VIEW).values("pk")) | Q(
        pk__in=cases_under_emergency_access(user, now=now).values("pk")
    )
    return (
        Case.objects.filter(visible, risk_level__in=[RiskLevel.HIGH, RiskLevel.CRITICAL])
        .exclude(state=CaseState.CLOSED)
        .annotate(last_reached=Coalesce("last_contact_at", "opened_at"))
        .filter(last_reached__lt=cutoff)
        .select_related("person")
        .order_by("last_reached", "pk")
    )

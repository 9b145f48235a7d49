"""Reads for counselling: who may open its pages, and what each sees (notes only for the counsellor)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from casework.access import COUNSEL, SUPERVISE, case_get_for
from casework.models import Case, CounsellingPlan, CounsellingSession


def counselling_case_get(user: object, reference: str, *, now: datetime | None = None) -> Case:
    """Return the case for its counselling pages: its counsellor, or a supervisor of its team (no notes).

    404 when the user may not open the case at all; 403 when they may open it but not its counselling.
    """
    try:
        return case_get_for(user, reference, perm=COUNSEL, now=now)
    except PermissionDenied:
        pass
    try:
        return case_get_for(user, reference, perm=SUPERVISE, now=now)
    except PermissionDenied:
        raise PermissionDenied(
            _("Only the case's counsellor and the team's supervisors can open its counselling pages.")
        ) from None


def counselling_plan_of(case: Case, *, with_goals: bool) -> CounsellingPlan | None:
    plans = CounsellingPlan.objects.filter(case=case).select_related("updated_by")
    if not with_goals:
        plans = plans.defer("goals")
    return plans.first()


def counselling_sessions_of(case: Case, *, with_notes: bool) -> QuerySet[CounsellingSession]:
    """The case's sessions, newest first; the notes column is not even loaded unless asked for."""
    sessions = (
        CounsellingSession.objects.filter(case=case).select_related("counsellor").order_by("-held_on", "-pk")
    )
    if not with_notes:
        sessions = sessions.defer("notes")
    return sessions


def counselling_sessions_count(case: Case) -> int:
    return CounsellingSession.objects.filter(case=case).count()

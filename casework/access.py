"""Fetch-and-authorise for casework: one place decides whether a user may see or act on a case.

A user reaches a case through an object permission (granted by the services that assign: the assigned
caseworker and counsellor, the team's supervisor group, the team's group for `list_case`) or through a live
emergency access (duty cover), re-checked against the clock at every request. A case the user may not see
answers 404, exactly like a missing one; a visible case with a forbidden action answers 403 with a reason.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.models import Case, EmergencyAccess
from core.accounts.models import is_active_user as _active
from core.permissions import objects_for_user, perms_prefetch

VIEW = "view_case"
CHANGE = "change_case"
COUNSEL = "counsel_case"
REVEAL = "reveal_identity"
SUPERVISE = "supervise_case"
LIST = "list_case"

# What duty cover gives while it lasts: the case as its caseworker has it.
EMERGENCY_PERMS = frozenset({VIEW, CHANGE, REVEAL})
# Permissions that let a user open a case's pages at all.
OPENING_PERMS = frozenset({VIEW, COUNSEL})

REFUSALS: dict[str, Promise] = {
    CHANGE: _(
        "Only the case's caseworker, its supervisors or a colleague on duty cover can change this case."
    ),
    COUNSEL: _("Only the case's counsellor can record counselling on this case."),
    REVEAL: _("Only the case team can reveal this person's identity."),
    SUPERVISE: _("Only a supervisor of the case's team can do this."),
    VIEW: _("Only the case's caseworker, its supervisors or a colleague on duty cover can see this."),
}


def emergency_access_live(*, user: object, case: Case, now: datetime | None = None) -> EmergencyAccess | None:
    """Return the user's live emergency access to the case, if any (the clock is checked every time)."""
    if not _active(user):
        return None
    now = now or timezone.now()
    return (
        EmergencyAccess.objects.filter(case=case, user=user, ended_at__isnull=True, expires_at__gt=now)
        .defer("reason")
        .order_by("-expires_at")
        .first()
    )


def case_perms(*, user: object, case: Case, now: datetime | None = None) -> frozenset[str]:
    """Return the codenames the user holds on the case now: object permissions plus live duty cover."""
    if not _active(user):
        return frozenset()
    perms = perms_prefetch(user, [case]).get(case.pk, frozenset())
    if emergency_access_live(user=user, case=case, now=now) is not None:
        perms = perms | EMERGENCY_PERMS
    return frozenset(perms)


def case_get_for(
    user: object,
    reference: str,
    *,
    perm: str | tuple[str, ...] = VIEW,
    now: datetime | None = None,
    queryset: QuerySet[Case] | None = None,
) -> Case:
    """Return the case with this reference if the user may open it and hold `perm` (or one of `perm`).

    404 when the user may not open the case at all (or it does not exist); 403 with the reason when the
    user may open it but not do `perm`. The held permissions are left on `case.held_perms`.
    """
    if not _active(user) or not isinstance(reference, str) or len(reference) > 20:
        raise Http404
    queryset = queryset if queryset is not None else Case.objects.all()
    case = queryset.filter(reference=reference).select_related("person").first()
    if case is None:
        raise Http404
    held = case_perms(user=user, case=case, now=now)
    if not held & OPENING_PERMS:
        raise Http404
    wanted = (perm,) if isinstance(perm, str) else perm
    if not held & set(wanted):
        raise PermissionDenied(REFUSALS.get(wanted[0], REFUSALS[VIEW]))
    case.held_perms = held  # type: ignore[attr-defined]
    return case


def cases_visible_to(user: object, *, perm: str = VIEW, now: datetime | None = None) -> QuerySet[Case]:
    """Cases the user holds `perm` on through object permissions (lists; duty cover has its own list)."""
    if not _active(user):
        return Case.objects.none()
    return objects_for_user(user, f"casework.{perm}", Case.objects.all())


def cases_under_emergency_access(user: object, *, now: datetime | None = None) -> QuerySet[Case]:
    if not _active(user):
        return Case.objects.none()
    now = now or timezone.now()
    return Case.objects.filter(
        emergency_accesses__user=user,
        emergency_accesses__ended_at__isnull=True,
        emergency_accesses__expires_at__gt=now,
    ).distinct()

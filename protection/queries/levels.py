"""Reads for protection pages reached by case reference: who may open them, who serves whom, level history.

A protection page answers 404 to anyone who may neither act as an officer serving the person's organisation
nor open the case; a member of the case team on an officer-only page gets 403 with the reason.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.access import OPENING_PERMS, REFUSALS, case_perms
from casework.models import Case, Person
from core.accounts.models import Organisation, RoleAssignment, ServiceArrangement, User
from core.accounts.roles import Role
from protection.models import LevelChange
from protection.selectors import is_protection_officer_for

OFFICERS_ONLY = _("Only a protection officer serving this organisation can do this.")


def _active(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def protection_case_get(
    user: object,
    reference: str,
    *,
    case_perm: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Return the case with this reference for a protection page; `case.is_officer` says how it was reached.

    An officer serving the person's organisation always gets it. Otherwise the user needs `case_perm` on the
    case (None: the page is for officers only): a user who may not open the case gets 404, one who may open
    it but lacks `case_perm` gets 403 with the reason. `case.held_perms` carries the user's case permissions.
    """
    if not _active(user) or not isinstance(reference, str) or len(reference) > 20:
        raise Http404
    now = now or timezone.now()
    case = Case.objects.filter(reference=reference).select_related("person").first()
    if case is None:
        raise Http404
    held = case_perms(user=user, case=case, now=now)
    case.held_perms = held  # type: ignore[attr-defined]
    if is_protection_officer_for(user=user, organisation_id=case.person.organisation_id, now=now):
        case.is_officer = True  # type: ignore[attr-defined]
        return case
    case.is_officer = False  # type: ignore[attr-defined]
    if case_perm is None:
        if held & OPENING_PERMS:
            raise PermissionDenied(OFFICERS_ONLY)
        raise Http404
    if case_perm == "open":
        if not held & OPENING_PERMS:
            raise Http404
        return case
    if not held & OPENING_PERMS:
        raise Http404
    if case_perm not in held:
        raise PermissionDenied(REFUSALS.get(case_perm, REFUSALS["view_case"]))
    return case


def is_officer_for_person(*, user: object, person: Person, now: datetime | None = None) -> bool:
    return is_protection_officer_for(
        user=user, organisation_id=person.organisation_id, now=now or timezone.now()
    )


def officers_serving(*, organisation_id: int, now: datetime | None = None) -> list[User]:
    """The active protection officers of every unit serving this organisation today."""
    day = (now or timezone.now()).date()
    unit_ids = (
        ServiceArrangement.objects.filter(
            served_organisation_id=organisation_id,
            protection_unit__kind=Organisation.Kind.PROTECTION_UNIT,
            starts_on__lte=day,
        )
        .exclude(ends_on__lt=day)
        .values_list("protection_unit_id", flat=True)
    )
    officer_ids = RoleAssignment.objects.filter(
        role=Role.PROTECTION_OFFICER, status=RoleAssignment.Status.ACTIVE, user__organisation_id__in=unit_ids
    ).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=officer_ids, is_active=True).order_by("pk"))


def level_changes_for(*, person: Person, with_reasons: bool = False) -> QuerySet[LevelChange]:
    """The person's level history, newest first; reasons (encrypted) only when asked for."""
    changes = (
        LevelChange.objects.filter(person=person).select_related("changed_by").order_by("-changed_at", "-pk")
    )
    return changes if with_reasons else changes.defer("reason")

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
from core.accounts.models import is_active_user as _active
from protection.models import LevelChange
from protection.selectors import is_protection_officer_for

OFFICERS_ONLY = _("Only a protection officer serving this organisation can do this.")


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


def level_changes_for(*, person: Person, with_reasons: bool = False) -> QuerySet[LevelChange]:
    """The person's level history, newest first; reasons (encrypted) only when asked for."""
    changes = (
        LevelChange.objects.filter(person=person).select_related("changed_by").order_by("-changed_at", "-pk")
    )
    return changes if with_reasons else changes.defer("reason")

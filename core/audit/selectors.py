"""Who may read which part of the audit trail (SPEC.md §3, row "audit trail")."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.accounts.models import has_role
from core.accounts.roles import Role
from core.audit.models import AuditEvent


def audit_readable_organisation_ids(user: object) -> list[int] | None:
    """Return the organisations whose trail the user may search, or None when they may not search it at all.

    Auditors read their own organisation's whole trail. Protection officers read the trail of the support
    services their unit serves. Until the "serves" arrangement exists (core.accounts), an officer reads
    their own organisation's events only: extend HERE, and only here, when it does.
    """
    organisation_id = getattr(user, "organisation_id", None)
    if organisation_id is None:
        return None
    if has_role(user, Role.AUDITOR):
        return [organisation_id]
    if has_role(user, Role.PROTECTION_OFFICER):
        return [organisation_id]  # TODO(accounts arrangement): + organisations served by the officer's unit
    return None


def audit_event_list_for(
    user: object,
    *,
    staff_code: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Return the events the user may read, newest first, filtered.

    Raise PermissionDenied (with the reason) for anyone who may not read the audit trail. `action` matches
    a whole code ("auth.sign_in") or a prefix of dotted parts ("auth"). Dates are whole days in the current
    time zone, both ends included.
    """
    organisation_ids = audit_readable_organisation_ids(user)
    if organisation_ids is None:
        raise PermissionDenied(_("Only auditors and protection officers can read the audit trail."))
    events = AuditEvent.objects.filter(chain_key__in=organisation_ids)
    if staff_code:
        events = events.filter(actor_staff_code=staff_code)
    if action:
        events = events.filter(Q(action=action) | Q(action__startswith=action.rstrip(".") + "."))
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if created_from is not None:
        events = events.filter(created_at__gte=_start_of_day(created_from))
    if created_to is not None:
        events = events.filter(created_at__lt=_start_of_day(created_to + dt.timedelta(days=1)))
    return events.order_by("-created_at", "-id")


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())

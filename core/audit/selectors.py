"""Who may read which part of the audit trail (SPEC.md §3, row "audit trail")."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.accounts.models import has_role
from core.accounts.roles import Role
from core.accounts.selectors import arrangements_served_by
from core.audit.models import AuditEvent


def audit_readable_chains(user: object) -> Q | None:
    """Return a filter for the chains the user may search, or None when they may not search the trail at all.

    Auditors read their own organisation's whole trail. Protection officers read their own unit's trail
    (where their own actions are recorded) and the trail of every support service their unit serves under
    an arrangement in force today. This is the one place to change who reads which chain.
    """
    organisation_id = getattr(user, "organisation_id", None)
    if organisation_id is None:
        return None
    if has_role(user, Role.AUDITOR):
        return Q(chain_key=organisation_id)
    if has_role(user, Role.PROTECTION_OFFICER):
        served = arrangements_served_by(protection_unit=user.organisation).values("served_organisation_id")  # type: ignore[attr-defined]
        return Q(chain_key=organisation_id) | Q(chain_key__in=served)
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
    chains = audit_readable_chains(user)
    if chains is None:
        raise PermissionDenied(_("Only auditors and protection officers can read the audit trail."))
    events = AuditEvent.objects.filter(chains)
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

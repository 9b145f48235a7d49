"""Duty cover: emergency access to a colleague's case, its expiry and review; reassignment by supervisors.

A team member who may list a case (its reference, pseudonym and state) may open it in an emergency with a
reason. The access is time-boxed (HAVEN_EMERGENCY_ACCESS_HOURS, read at call time), audited, announced to
the team's supervisors at once, ended by a beat task when it expires, and reviewed afterwards by a
supervisor who is not the user. casework.access re-checks it against the clock at every request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import LIST, SUPERVISE, VIEW, case_perms, emergency_access_live
from casework.models import Case, CaseState, EmergencyAccess
from casework.services.cases import (
    _check_version,
    _lock,
    case_counsellor_assign,
    case_reassign_bulk,
)
from core.accounts.models import User, has_role
from core.accounts.roles import Role
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.notifications.kinds import register_notification_kinds
from core.notifications.services import notification_send

register_action_labels(
    {
        "emergency_access.started": gettext_lazy("Emergency access started"),
        "emergency_access.ended": gettext_lazy("Emergency access ended"),
        "emergency_access.expired": gettext_lazy("Emergency access expired"),
        "emergency_access.reviewed": gettext_lazy("Emergency access reviewed"),
        "case.reassigned_bulk": gettext_lazy("Cases reassigned together"),
    }
)
register_notification_kinds(
    {"casework.emergency_access": gettext_lazy("A colleague opened a case of your team in an emergency")}
)

DEFAULT_EMERGENCY_ACCESS_HOURS = 8
REASON_MAX_LENGTH = 2000


def emergency_access_hours() -> int:
    """Return how long an emergency access lasts, read from settings now (never at import)."""
    return int(getattr(settings, "HAVEN_EMERGENCY_ACCESS_HOURS", DEFAULT_EMERGENCY_ACCESS_HOURS))


def may_provide_duty_cover(user: object) -> bool:
    """Caseworkers and supervisors cover for colleagues; counsellors, admins and auditors do not."""
    return has_role(user, Role.CASEWORKER) or has_role(user, Role.SUPERVISOR)


def team_supervisors(case: Case) -> list[User]:
    """Return the active supervisors of the case's team (members of its supervisor group)."""
    team = case.team
    if team is None or not team.supervisor_group_id:
        return []
    return list(
        User.objects.filter(
            groups=team.supervisor_group_id, is_active=True, organisation_id=case.organisation_id
        ).order_by("pk")
    )


@transaction.atomic
def emergency_access_start(
    *, actor: User, case: Case, reason: str, now: datetime | None = None
) -> EmergencyAccess:
    """Open a colleague's case for the actor in an emergency, for a limited time, with a reason.

    The actor must be a caseworker or supervisor who may list the case (a member of its team). A live access
    of the same user is returned as it is, so a double submit opens nothing twice.
    """
    now = now or timezone.now()
    case = _lock(case)
    held = case_perms(user=actor, case=case, now=now)
    if LIST not in held and VIEW not in held:
        raise PermissionDenied(_("Only a member of the case's team can open it in an emergency."))
    if not may_provide_duty_cover(actor):
        raise PermissionDenied(
            _("Only caseworkers and supervisors can open a colleague's case in an emergency.")
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you need to open this case now.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason under %(limit)d characters.") % {"limit": REASON_MAX_LENGTH}}
        )
    if case.anonymised_at is not None:
        raise ValidationError(_("This case was anonymised at the end of its retention period."))
    live = emergency_access_live(user=actor, case=case, now=now)
    if live is not None:
        return live
    if VIEW in held:
        raise ValidationError(_("You can already open this case; no emergency access is needed."))
    access = EmergencyAccess.objects.create(
        case=case,
        user=actor,
        reason=reason,
        started_at=now,
        expires_at=now + timedelta(hours=emergency_access_hours()),
    )
    audit_event_create(
        action="emergency_access.started",
        actor=actor,
        target=case,
        fields=["reason"],
        details={"emergency_access_id": access.pk, "hours": emergency_access_hours()},
    )
    supervisors = [user for user in team_supervisors(case) if user.pk != actor.pk]
    if supervisors:
        notification_send(
            recipients=supervisors,
            kind="casework.emergency_access",
            reference=case.reference,
            link_path=reverse("casework:emergency_access_review", kwargs={"pk": access.pk}),
            is_urgent=False,
            email=True,
        )
    return access


@transaction.atomic
def emergency_access_end(
    *, actor: User, access: EmergencyAccess, now: datetime | None = None
) -> EmergencyAccess:
    """End a live emergency access early: by its user, or by a supervisor of the case."""
    now = now or timezone.now()
    access = EmergencyAccess.objects.select_for_update().select_related("case").get(pk=access.pk)
    if access.user_id != actor.pk and SUPERVISE not in case_perms(user=actor, case=access.case, now=now):
        raise PermissionDenied(_("Only the person who opened the case or a supervisor can end this access."))
    if access.ended_at is not None or access.expires_at <= now:
        return access
    access.ended_at = now
    access.save(update_fields=["ended_at"])
    audit_event_create(
        action="emergency_access.ended",
        actor=actor,
        target=access.case,
        fields=["ended_at"],
        details={"emergency_access_id": access.pk},
    )
    return access


@transaction.atomic
def emergency_accesses_expire(*, now: datetime | None = None) -> int:
    """End every access whose time is up (beat). Idempotent: an ended access is left alone."""
    now = now or timezone.now()
    expired = list(
        EmergencyAccess.objects.select_for_update(skip_locked=True)
        .select_related("case")
        .defer("reason")
        .filter(ended_at__isnull=True, expires_at__lte=now)
        .order_by("pk")
    )
    for access in expired:
        access.ended_at = access.expires_at
        access.save(update_fields=["ended_at"])
        audit_event_create(
            action="emergency_access.expired",
            actor=None,
            organisation=access.case.organisation,
            target=access.case,
            fields=["ended_at"],
            details={"emergency_access_id": access.pk},
        )
    return len(expired)


@transaction.atomic
def emergency_access_review(
    *, actor: User, access: EmergencyAccess, upheld: bool, now: datetime | None = None
) -> EmergencyAccess:
    """Record a supervisor's review of an emergency access; a supervisor who is not its user.

    An access found unjustified that is still live ends at once.
    """
    now = now or timezone.now()
    access = EmergencyAccess.objects.select_for_update().select_related("case").get(pk=access.pk)
    if access.user_id == actor.pk:
        raise PermissionDenied(_("Another supervisor must review an emergency access of your own."))
    if SUPERVISE not in case_perms(user=actor, case=access.case, now=now):
        raise PermissionDenied(_("Only a supervisor of the case's team can review this access."))
    if access.reviewed_at is not None:
        raise ValidationError(_("This emergency access has already been reviewed."))
    access.reviewed_by = actor
    access.reviewed_at = now
    access.review_upheld = bool(upheld)
    fields = ["reviewed_by", "reviewed_at", "review_upheld"]
    if not upheld and access.ended_at is None and access.expires_at > now:
        access.ended_at = now
        fields.append("ended_at")
    access.save(update_fields=fields)
    audit_event_create(
        action="emergency_access.reviewed",
        actor=actor,
        target=access.case,
        fields=fields,
        details={"emergency_access_id": access.pk, "upheld": bool(upheld), "user": access.user_id},
    )
    return access


@transaction.atomic
def cases_reassign(*, actor: User, cases: list[Case], caseworker: User) -> list[Case]:
    """Reassign several cases of the actor's teams to one caseworker; all or none, audited as one act."""
    if not has_role(actor, Role.SUPERVISOR):
        raise PermissionDenied(_("Only a supervisor can reassign cases."))
    if not cases:
        raise ValidationError({"cases": _("Choose at least one case.")})
    for case in cases:
        if SUPERVISE not in case_perms(user=actor, case=case):
            raise PermissionDenied(_("Only a supervisor of the case's team can assign it."))
        if case.state == CaseState.CLOSED:
            raise ValidationError({"cases": _("A closed case cannot be reassigned.")})
    result = case_reassign_bulk(actor=actor, cases=cases, caseworker=caseworker)
    audit_event_create(
        action="case.reassigned_bulk",
        actor=actor,
        object_type="accounts.user",
        object_id=str(caseworker.pk),
        details={"count": len(result), "to_user": caseworker.pk},
    )
    return result


@transaction.atomic
def case_counsellor_choose(
    *, actor: User, case: Case, counsellor: User | None, expected_version: int | None = None
) -> Case:
    """Choose (or remove) the case's counsellor from a form built on a given version of the case."""
    locked = _lock(case)
    _check_version(locked, expected_version)
    if counsellor is not None and locked.assigned_counsellor_id == counsellor.pk:
        return locked
    if counsellor is None and locked.assigned_counsellor_id is None:
        return locked
    return case_counsellor_assign(actor=actor, case=locked, counsellor=counsellor)

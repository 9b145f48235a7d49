"""The crisis path: "imminent danger" records the emergency steps taken, raises the case to critical risk
and alerts the supervisors on duty at once. Urgent help is never blocked: no consent check, no stale-form
refusal. Duty shifts say who is on duty."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import SUPERVISE, VIEW, case_perms
from casework.models import Case, CrisisAction, DutyShift, RiskLevel
from casework.selectors.crisis import crisis_alert_recipients
from casework.services.cases import _bump, _lock
from casework.services.risk import risk_rescreen_due_for_level
from core.accounts.models import Team, User, has_role
from core.accounts.roles import Role
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.notifications.kinds import register_notification_kinds
from core.notifications.services import notification_send

register_action_labels(
    {
        "crisis.recorded": gettext_lazy("Imminent danger recorded"),
        "crisis.reviewed": gettext_lazy("Crisis action reviewed"),
        "duty.shift_added": gettext_lazy("Duty shift added"),
        "duty.shift_ended": gettext_lazy("Duty shift ended"),
    }
)
register_notification_kinds({"casework.crisis": gettext_lazy("Imminent danger on a case")})

MAXIMUM_STEPS_LENGTH = 5000
# A second identical submit within this window is the same action (a double click), not a new alert.
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)
MAXIMUM_SHIFT = timedelta(days=7)


def _same_recent_action(
    *, case: Case, actor: User, steps_taken: str, emergency_services_called: bool, now: datetime
) -> CrisisAction | None:
    recent = CrisisAction.objects.filter(
        case=case,
        recorded_by=actor,
        emergency_services_called=emergency_services_called,
        recorded_at__gte=now - DOUBLE_SUBMIT_WINDOW,
    ).order_by("-recorded_at")[:5]
    for action in recent:
        if action.steps_taken == steps_taken:
            return action
    return None


@transaction.atomic
def crisis_action_record(
    *,
    actor: User,
    case: Case,
    steps_taken: str,
    emergency_services_called: bool,
    now: datetime | None = None,
) -> CrisisAction:
    """Record an imminent-danger action, raise the case to critical and alert the supervisors on duty."""
    now = now or timezone.now()
    case = _lock(case)
    if VIEW not in case_perms(user=actor, case=case, now=now):
        raise PermissionDenied(
            _("Only the case's caseworker, its supervisors or a colleague on duty cover can do this.")
        )
    steps_taken = (steps_taken or "").strip()
    if not steps_taken:
        raise ValidationError({"steps_taken": _("Say what you have done, even briefly.")})
    if len(steps_taken) > MAXIMUM_STEPS_LENGTH:
        raise ValidationError({"steps_taken": _("Keep this under 5,000 characters.")})
    emergency_services_called = bool(emergency_services_called)
    existing = _same_recent_action(
        case=case,
        actor=actor,
        steps_taken=steps_taken,
        emergency_services_called=emergency_services_called,
        now=now,
    )
    if existing is not None:
        return existing
    action = CrisisAction.objects.create(
        case=case,
        steps_taken=steps_taken,
        emergency_services_called=emergency_services_called,
        recorded_by=actor,
        recorded_at=now,
    )
    previous_level = case.risk_level
    changed = []
    if case.risk_level != RiskLevel.CRITICAL:
        case.risk_level = RiskLevel.CRITICAL
        changed.append("risk_level")
    due = risk_rescreen_due_for_level(level=RiskLevel.CRITICAL, today=timezone.localdate(now))
    if case.next_screening_due is None or case.next_screening_due > due:
        case.next_screening_due = due
        changed.append("next_screening_due")
    if changed:
        _bump(case, changed)
    recipients = crisis_alert_recipients(case=case, now=now)
    notification_send(
        recipients=recipients,
        kind="casework.crisis",
        reference=case.reference,
        link_path=reverse("casework:crisis", kwargs={"reference": case.reference}),
        is_urgent=True,
        email=True,
    )
    audit_event_create(
        action="crisis.recorded",
        actor=actor,
        target=action,
        organisation=case.organisation,
        fields=["steps_taken", "emergency_services_called", *changed],
        details={
            "case_id": case.pk,
            "emergency_services_called": emergency_services_called,
            "from_level": previous_level,
            "alerted": len(recipients),
        },
    )
    return action


@transaction.atomic
def crisis_action_review(*, actor: User, action: CrisisAction, now: datetime | None = None) -> CrisisAction:
    """A supervisor of the case's team, other than the one who recorded it, reviews a crisis action."""
    now = now or timezone.now()
    action = CrisisAction.objects.select_for_update().select_related("case").get(pk=action.pk)
    if SUPERVISE not in case_perms(user=actor, case=action.case, now=now):
        raise PermissionDenied(_("Only a supervisor of the case's team can review a crisis action."))
    if action.recorded_by_id == actor.pk:
        raise PermissionDenied(_("Another supervisor must review a crisis action you recorded yourself."))
    if action.reviewed_at is not None:
        return action
    action.reviewed_by = actor
    action.reviewed_at = now
    action.save(update_fields=["reviewed_by", "reviewed_at"])
    audit_event_create(
        action="crisis.reviewed",
        actor=actor,
        target=action,
        organisation=action.case.organisation,
        fields=["reviewed_by", "reviewed_at"],
        details={"case_id": action.case_id},
    )
    return action


def _supervises_team(user: User, team: Team) -> bool:
    return (
        user.is_active
        and team.organisation_id == user.organisation_id
        and has_role(user, Role.SUPERVISOR)
        and team.members.filter(pk=user.pk).exists()
    )


@transaction.atomic
def duty_shift_add(
    *, actor: User, team: Team, starts_at: datetime, ends_at: datetime, now: datetime | None = None
) -> DutyShift:
    """A supervisor of the team puts themselves on duty from `starts_at` until `ends_at`."""
    now = now or timezone.now()
    if not _supervises_team(actor, team):
        raise PermissionDenied(_("Only a supervisor of this team can go on duty for it."))
    errors: dict[str, str] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = _("The shift must end after it starts.")
    elif ends_at <= now:
        errors["ends_at"] = _("The shift must end in the future.")
    elif ends_at - starts_at > MAXIMUM_SHIFT:
        errors["ends_at"] = _("A shift lasts at most seven days.")
    if errors:
        raise ValidationError(errors)
    shift = DutyShift.objects.create(
        team=team, supervisor=actor, starts_at=starts_at, ends_at=ends_at, created_by=actor
    )
    audit_event_create(
        action="duty.shift_added",
        actor=actor,
        target=shift,
        fields=["starts_at", "ends_at"],
        details={"team_id": team.pk},
    )
    return shift


@transaction.atomic
def duty_shift_end(*, actor: User, shift: DutyShift, now: datetime | None = None) -> DutyShift | None:
    """End the actor's own shift now; a shift that has not started yet is withdrawn (returns None)."""
    now = now or timezone.now()
    shift = DutyShift.objects.select_for_update().get(pk=shift.pk)
    if shift.supervisor_id != actor.pk:
        raise PermissionDenied(_("Only the supervisor on this shift can end it."))
    if shift.ends_at <= now:
        return shift  # already over
    team_id, shift_id = shift.team_id, shift.pk
    if shift.starts_at >= now:
        shift.delete()
        audit_event_create(
            action="duty.shift_ended",
            actor=actor,
            object_type="casework.dutyshift",
            object_id=str(shift_id),
            details={"team_id": team_id, "withdrawn": True},
        )
        return None
    shift.ends_at = now
    shift.save(update_fields=["ends_at"])
    audit_event_create(
        action="duty.shift_ended",
        actor=actor,
        target=shift,
        fields=["ends_at"],
        details={"team_id": team_id, "withdrawn": False},
    )
    return shift

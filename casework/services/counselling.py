"""Counselling: the plan with its goals, sessions with encrypted notes, follow-up tasks and the daily digest.

Only the case's counsellor (counsel_case) writes and reads the plan's goals and the sessions' notes;
supervisors see that sessions happened. The digest e-mail says how many follow-ups wait, nothing more.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import casework.handlers_counselling  # noqa: F401 (registers the digest e-mail handler)
from casework.access import COUNSEL, case_perms
from casework.models import Case, CounsellingPlan, CounsellingSession, Task, TaskKind
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.notifications.kinds import register_notification_kinds
from core.notifications.models import Notification
from core.notifications.services import notification_send
from core.outbox.services import outbox_enqueue

register_action_labels(
    {
        "counselling_plan.updated": gettext_lazy("Counselling plan updated"),
        "counselling_session.recorded": gettext_lazy("Counselling session recorded"),
        "identity.revealed": gettext_lazy("Identity revealed"),
        "identity.viewed": gettext_lazy("Protected identity viewed"),
    }
)
register_notification_kinds({"casework.counselling_digest": gettext_lazy("Counselling follow-ups are due")})

DIGEST_KIND = "casework.counselling_digest"
DIGEST_MAIL_KIND = "casework.counselling_digest_mail"
# Where a counsellor's own tasks are listed (the tasks area); the dashboard when that page is missing.
TASK_LIST_URL_NAMES = ("casework:my_tasks", "casework:task_list", "core:home")


class StaleCounselling(ValidationError):
    """The form was built before someone else saved: reload to see what changed."""


def _today(now: dt.datetime | None) -> dt.date:
    return timezone.localdate(now or timezone.now())


def _require_counsel(actor: User, case: Case) -> None:
    if COUNSEL not in case_perms(user=actor, case=case):
        raise PermissionDenied(_("Only the case's counsellor can record counselling on this case."))


def task_list_path() -> str:
    for name in TASK_LIST_URL_NAMES:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return "/"


@transaction.atomic
def counselling_plan_save(
    *, actor: User, case: Case, goals: str, expected_version: int | None, now: dt.datetime | None = None
) -> CounsellingPlan:
    """Write the plan's goals; the form carries the plan version it was built from (0 for a new plan)."""
    _require_counsel(actor, case)
    plan = CounsellingPlan.objects.select_for_update().filter(case=case).first()
    current_version = plan.version if plan is not None else 0
    if expected_version is not None and expected_version != current_version:
        raise StaleCounselling(
            _("Someone else changed this plan while you were working on it. Reload the page to see it.")
        )
    goals = (goals or "").strip()
    if plan is None:
        plan = CounsellingPlan(case=case, goals=goals, updated_by=actor)
        plan.full_clean(exclude=["case", "updated_by"])
        plan.save()
    else:
        if plan.goals == goals:
            return plan
        plan.goals = goals
        plan.updated_by = actor
        plan.version += 1
        plan.full_clean(exclude=["case", "updated_by"])
        plan.save(update_fields=["goals", "updated_by", "version", "updated_at"])
    audit_event_create(
        action="counselling_plan.updated",
        actor=actor,
        organisation=case.organisation,
        target=case,
        fields=["goals"],
        details={"counselling_plan_id": plan.pk, "version": plan.version},
    )
    return plan


def follow_up_source_key(session_id: int) -> str:
    return f"followup:{session_id}"


def _follow_up_task_sync(*, session: CounsellingSession, now: dt.datetime) -> Task | None:
    """Create or update the session's follow-up task for its counsellor (idempotent by source key)."""
    key = follow_up_source_key(session.pk)
    task = Task.objects.select_for_update().filter(source_key=key).defer("description").first()
    if session.next_follow_up is None:
        if task is not None and task.done_at is None:
            task.done_at = now
            task.save(update_fields=["done_at"])
        return task
    if task is None:
        return Task.objects.create(
            case=session.case,
            kind=TaskKind.COUNSELLING_FOLLOW_UP,
            assignee=session.counsellor,
            due_on=session.next_follow_up,
            created_by=session.counsellor,
            source_key=key,
        )
    task.due_on = session.next_follow_up
    task.assignee = session.counsellor
    task.done_at = None
    task.save(update_fields=["due_on", "assignee", "done_at"])
    return task


@transaction.atomic
def counselling_session_record(
    *,
    actor: User,
    case: Case,
    held_on: dt.date | None,
    modality: str,
    duration_minutes: int | None,
    interpreter_used: bool,
    notes: str,
    next_follow_up: dt.date | None,
    sessions_seen: int | None = None,
    now: dt.datetime | None = None,
) -> CounsellingSession:
    """Record a session held by the actor; its follow-up date becomes a task for the actor.

    `sessions_seen` is how many sessions the form showed: a second submit of the same form is refused.
    Follow-up tasks of the actor's earlier sessions on the case that are still open are closed: this
    session was the follow-up.
    """
    now = now or timezone.now()
    today = _today(now)
    Case.objects.select_for_update().filter(pk=case.pk).first()  # one recorder at a time per case
    _require_counsel(actor, case)
    if sessions_seen is not None and CounsellingSession.objects.filter(case=case).count() != sessions_seen:
        raise StaleCounselling(
            _(
                "A session was recorded on this case while you were typing. "
                "Check the list before adding it again."
            )
        )
    errors: dict[str, str] = {}
    if held_on is None:
        errors["held_on"] = _("Give the date of the session.")
    elif held_on > today:
        errors["held_on"] = _("A session cannot be recorded before it took place.")
    if modality not in CounsellingSession.Modality.values:
        errors["modality"] = _("Choose how the session took place.")
    if duration_minutes is None or not 1 <= duration_minutes <= 600:
        errors["duration_minutes"] = _("Give the duration in minutes, from 1 to 600.")
    if next_follow_up is not None and next_follow_up < today:
        errors["next_follow_up"] = _("The next follow-up cannot be in the past.")
    if errors:
        raise ValidationError(errors)
    session = CounsellingSession(
        case=case,
        counsellor=actor,
        held_on=held_on,
        modality=modality,
        duration_minutes=duration_minutes,
        interpreter_used=interpreter_used,
        notes=(notes or "").strip(),
        next_follow_up=next_follow_up,
    )
    session.full_clean(exclude=["case", "counsellor"])
    session.save()
    earlier = (
        Task.objects.filter(
            case=case,
            kind=TaskKind.COUNSELLING_FOLLOW_UP,
            assignee=actor,
            done_at__isnull=True,
            source_key__startswith="followup:",
        )
        .exclude(source_key=follow_up_source_key(session.pk))
        .defer("description")
    )
    for task in earlier:
        task.done_at = now
        task.save(update_fields=["done_at"])
    task = _follow_up_task_sync(session=session, now=now)
    audit_event_create(
        action="counselling_session.recorded",
        actor=actor,
        organisation=case.organisation,
        target=case,
        fields=[
            name
            for name in (
                "held_on",
                "modality",
                "duration_minutes",
                "interpreter_used",
                "notes",
                "next_follow_up",
            )
            if name != "notes" or session.notes
        ],
        details={"counselling_session_id": session.pk, "follow_up_task_id": task.pk if task else None},
    )
    return session


@transaction.atomic
def counselling_identity_reveal(*, actor: User, case: Case, field: str) -> None:
    """Record that a counsellor revealed a masked identity field of the case's person (audited first)."""
    _require_counsel(actor, case)
    audit_event_create(
        action="identity.revealed",
        actor=actor,
        organisation=case.organisation,
        target=case.person,
        fields=[field],
        details={"case_id": case.pk, "via": "counselling"},
    )


@transaction.atomic
def counselling_identity_view_record(*, actor: User, case: Case, field: str) -> None:
    """Record that a counsellor was shown a protected identity field (restricted or sealed person)."""
    _require_counsel(actor, case)
    audit_event_create(
        action="identity.viewed",
        actor=actor,
        organisation=case.organisation,
        target=case.person,
        fields=[field],
        details={"case_id": case.pk, "via": "counselling"},
    )


def counselling_digest_send(*, now: dt.datetime | None = None) -> int:
    """Send each counsellor with follow-ups due today or overdue ONE content-free digest a day (beat).

    The in-app notification and the e-mail say how many follow-ups wait and link to the task list: no
    reference, no name. Idempotent per counsellor and day. Return how many counsellors were told.
    """
    now = now or timezone.now()
    today = _today(now)
    start_of_day = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    waiting = (
        Task.objects.filter(
            kind=TaskKind.COUNSELLING_FOLLOW_UP,
            done_at__isnull=True,
            due_on__lte=today,
            assignee__is_active=True,
        )
        .values("assignee")
        .annotate(count=Count("pk"))
        .order_by("assignee")
    )
    counts = {row["assignee"]: row["count"] for row in waiting}
    told = 0
    link_path = task_list_path()
    for counsellor in User.objects.filter(pk__in=counts, is_active=True).order_by("pk"):
        with transaction.atomic():
            if Notification.objects.filter(
                recipient=counsellor, kind=DIGEST_KIND, created_at__gte=start_of_day
            ).exists():
                continue
            notification_send(
                recipients=[counsellor], kind=DIGEST_KIND, link_path=link_path, is_urgent=False, email=False
            )
            outbox_enqueue(
                kind=DIGEST_MAIL_KIND,
                payload={"user_id": counsellor.pk, "count": counts[counsellor.pk], "link_path": link_path},
            )
            told += 1
    return told

"""Tasks on cases: created with a kind, an encrypted description, an assignee who may see the case and a due
date; completed and reopened. System tasks (re-screening and others) carry a source key."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, VIEW, case_perms
from casework.models import Case, CaseState, Task, TaskKind
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create

register_action_labels(
    {
        "task.created": gettext_lazy("Task created"),
        "task.completed": gettext_lazy("Task completed"),
        "task.reopened": gettext_lazy("Task reopened"),
    }
)

MAXIMUM_DESCRIPTION_LENGTH = 5000
TASK_REFUSAL = gettext_lazy("Only the task's assignee or the case's caseworker or supervisor can do this.")


def task_may_change(*, user: User, task: Task) -> bool:
    """The assignee, or whoever may change the task's case."""
    if not (user.is_authenticated and user.is_active):
        return False
    if task.assignee_id == user.pk:
        return True
    return task.case is not None and CHANGE in case_perms(user=user, case=task.case)


@transaction.atomic
def task_create(
    *,
    actor: User,
    case: Case,
    kind: str,
    assignee: User,
    due_on: date,
    description: str = "",
    now: datetime | None = None,
) -> Task:
    """Create a task on a case for a user who may see the case."""
    now = now or timezone.now()
    if CHANGE not in case_perms(user=actor, case=case, now=now):
        raise PermissionDenied(_("Only the case's caseworker or a supervisor can add tasks to it."))
    errors: dict[str, str] = {}
    if case.state == CaseState.CLOSED:
        errors["__all__"] = _("A closed case takes no new tasks. Reopen it first.")
    if kind not in TaskKind.values:
        errors["kind"] = _("Choose the kind of task.")
    if (
        assignee is None
        or not assignee.is_active
        or assignee.organisation_id != case.organisation_id
        or VIEW not in case_perms(user=assignee, case=case, now=now)
    ):
        errors["assignee"] = _("Choose someone who can see this case.")
    if due_on is None:
        errors["due_on"] = _("Give a due date.")
    elif due_on < timezone.localdate(now):
        errors["due_on"] = _("The due date cannot be in the past.")
    description = (description or "").strip()
    if len(description) > MAXIMUM_DESCRIPTION_LENGTH:
        errors["description"] = _("Keep the description under 5,000 characters.")
    if errors:
        raise ValidationError(errors)
    task = Task.objects.create(
        case=case, kind=kind, description=description, assignee=assignee, due_on=due_on, created_by=actor
    )
    audit_event_create(
        action="task.created",
        actor=actor,
        target=task,
        organisation=case.organisation,
        fields=["kind", "assignee", "due_on", *(["description"] if description else [])],
        details={"case_id": case.pk, "kind": kind, "assignee": assignee.pk},
    )
    return task


@transaction.atomic
def task_complete(*, actor: User, task: Task, now: datetime | None = None) -> Task:
    now = now or timezone.now()
    task = Task.objects.select_for_update(of=("self",)).select_related("case").get(pk=task.pk)
    if not task_may_change(user=actor, task=task):
        raise PermissionDenied(TASK_REFUSAL)
    if task.done_at is not None:
        return task  # already done: a double submit is harmless
    task.done_at = now
    task.save(update_fields=["done_at"])
    audit_event_create(
        action="task.completed",
        actor=actor,
        target=task,
        organisation=actor.organisation if task.case is None else task.case.organisation,
        fields=["done_at"],
        details={"case_id": task.case_id, "kind": task.kind},
    )
    return task


@transaction.atomic
def task_reopen(*, actor: User, task: Task) -> Task:
    task = Task.objects.select_for_update(of=("self",)).select_related("case").get(pk=task.pk)
    if not task_may_change(user=actor, task=task):
        raise PermissionDenied(TASK_REFUSAL)
    if task.done_at is None:
        return task
    task.done_at = None
    task.save(update_fields=["done_at"])
    audit_event_create(
        action="task.reopened",
        actor=actor,
        target=task,
        organisation=actor.organisation if task.case is None else task.case.organisation,
        fields=["done_at"],
        details={"case_id": task.case_id, "kind": task.kind},
    )
    return task

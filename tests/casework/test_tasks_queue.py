"""Tasks: created for someone who may see the case, completed and reopened, overdue marked; the dashboard
selectors (overdue, due soon, high risk without contact)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, RiskLevel, Task, TaskKind
from casework.selectors.tasks import high_risk_without_contact, tasks_due_soon, tasks_overdue
from casework.services.tasks import task_complete, task_create, task_reopen
from core.audit.models import AuditEvent
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db


def new_task(world, case, **overrides):
    values = {
        "actor": world.caseworker,
        "case": case,
        "kind": TaskKind.FOLLOW_UP,
        "assignee": world.caseworker,
        "due_on": timezone.localdate() + timedelta(days=2),
        "description": "Call back about the bank's letter",
    }
    values.update(overrides)
    return task_create(**values)


def test_create_complete_reopen(world, case):
    task = new_task(world, case, assignee=world.supervisor)
    assert task.assignee_id == world.supervisor.pk and task.created_by_id == world.caseworker.pk
    event = AuditEvent.objects.get(action="task.created")
    assert event.fields == ["kind", "assignee", "due_on", "description"]
    assert "bank" not in str(event.details)
    done = task_complete(actor=world.supervisor, task=task)
    assert done.done_at is not None
    assert task_complete(actor=world.supervisor, task=task).done_at == done.done_at  # double submit
    assert task_reopen(actor=world.caseworker, task=task).done_at is None
    assert AuditEvent.objects.filter(action__in=["task.completed", "task.reopened"]).count() == 2


def test_the_assignee_must_be_able_to_see_the_case(world, case):
    for user in (world.colleague, world.counsellor, world.outsider, world.other_team_caseworker):
        with pytest.raises(ValidationError) as error:
            new_task(world, case, assignee=user)
        assert list(error.value.error_dict) == ["assignee"]
    assert Task.objects.count() == 0


def test_a_due_date_in_the_past_is_refused(world, case):
    with pytest.raises(ValidationError) as error:
        new_task(world, case, due_on=timezone.localdate() - timedelta(days=1))
    assert list(error.value.error_dict) == ["due_on"]


def test_who_may_add_and_complete(world, case):
    for user in (world.colleague, world.counsellor, world.outsider):
        with pytest.raises(PermissionDenied):
            new_task(world, case, actor=user)
    task = new_task(world, case)
    for user in (world.colleague, world.counsellor, world.outsider):
        with pytest.raises(PermissionDenied):
            task_complete(actor=user, task=task)
    assert Task.objects.get().done_at is None


def test_description_is_encrypted(world, case):
    task = new_task(world, case)
    with connection.cursor() as cursor:
        cursor.execute("SELECT description FROM casework_task WHERE id = %s", [task.pk])
        (raw,) = cursor.fetchone()
    assert "bank" not in raw


def test_overdue_and_due_soon(world, case):
    today = timezone.localdate()
    due_today = new_task(world, case, due_on=today)
    later = new_task(world, case, due_on=today + timedelta(days=10))
    overdue = new_task(world, case, due_on=today)
    Task.objects.filter(pk=overdue.pk).update(due_on=today - timedelta(days=3))
    done = new_task(world, case, due_on=today)
    Task.objects.filter(pk=done.pk).update(due_on=today - timedelta(days=3))
    task_complete(actor=world.caseworker, task=done)
    assert list(tasks_overdue(world.caseworker)) == [overdue]
    assert list(tasks_due_soon(world.caseworker)) == [due_today]
    assert list(tasks_due_soon(world.caseworker, days=10)) == [due_today, later]
    with override_settings(HAVEN_TASKS_DUE_SOON_DAYS=30):
        assert list(tasks_due_soon(world.caseworker)) == [due_today, later]
    assert list(tasks_overdue(world.supervisor)) == []
    world.caseworker.is_active = False
    world.caseworker.save(update_fields=["is_active"])
    assert list(tasks_overdue(world.caseworker)) == []


def test_high_risk_without_contact(world):
    now = timezone.now()
    silent = make_case(world)
    reached = make_case(world)
    medium = make_case(world)
    new = make_case(world)
    old = now - timedelta(days=20)
    Case.objects.filter(pk__in=[silent.pk, reached.pk, medium.pk]).update(opened_at=old)
    Case.objects.filter(pk__in=[silent.pk, reached.pk, new.pk]).update(risk_level=RiskLevel.HIGH)
    Case.objects.filter(pk=reached.pk).update(last_contact_at=now - timedelta(days=2))
    assert list(high_risk_without_contact(world.caseworker, now=now)) == [silent]
    assert list(high_risk_without_contact(world.supervisor, now=now)) == [silent]
    assert list(high_risk_without_contact(world.colleague, now=now)) == []
    assert list(high_risk_without_contact(world.outsider, now=now)) == []
    assert [c.pk for c in high_risk_without_contact(world.caseworker, days=1, now=now)] == [
        silent.pk,
        reached.pk,
    ]
    with override_settings(HAVEN_HIGH_RISK_CONTACT_DAYS=30):
        assert list(high_risk_without_contact(world.caseworker, now=now)) == []


# --- Pages ---------------------------------------------------------------------------------------------


def test_case_tasks_page_adds_and_marks_overdue(world, case, signed_in):
    client = signed_in(world.caseworker)
    url = reverse("casework:case_tasks", kwargs={"reference": case.reference})
    page = client.get(url)
    assert page.status_code == 200
    due = timezone.localdate() + timedelta(days=1)
    response = client.post(
        url,
        {
            "kind": "follow_up",
            "description": "Ring the bank",
            "assignee": world.supervisor.pk,
            "due_on": due.isoformat(),
        },
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert task.assignee_id == world.supervisor.pk and task.description == "Ring the bank"
    Task.objects.filter(pk=task.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    assert "Overdue" in client.get(url).content.decode()
    # An assignee who cannot see the case is not offered and is refused.
    response = client.post(
        url, {"kind": "follow_up", "assignee": world.colleague.pk, "due_on": due.isoformat()}
    )
    assert response.status_code == 200 and Task.objects.count() == 1


def test_my_tasks_and_completing(world, case, signed_in):
    task = new_task(world, case)
    client = signed_in(world.caseworker)
    page = client.get(reverse("casework:my_tasks"))
    assert page.status_code == 200
    content = page.content.decode()
    assert case.reference in content and "bank" not in content  # lists show no description
    response = client.post(
        reverse("casework:task_complete", kwargs={"pk": task.pk}), {"next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("casework:my_tasks")
    assert Task.objects.get().done_at is not None
    response = client.post(
        reverse("casework:task_reopen", kwargs={"pk": task.pk}),
        {"next": reverse("casework:case_tasks", kwargs={"reference": case.reference})},
    )
    assert response["Location"] == reverse("casework:case_tasks", kwargs={"reference": case.reference})
    assert Task.objects.get().done_at is None


def test_completing_a_task_one_may_not_see_is_404(world, case, client):
    from core.accounts.testing import sign_in

    task = new_task(world, case)
    for user in (world.colleague, world.counsellor, world.outsider):
        client.logout()
        sign_in(client, user)
        assert client.post(reverse("casework:task_complete", kwargs={"pk": task.pk})).status_code == 404
    assert client.post(reverse("casework:task_complete", kwargs={"pk": task.pk + 1000})).status_code == 404
    assert Task.objects.get().done_at is None
    client.logout()
    assert client.post(reverse("casework:task_complete", kwargs={"pk": task.pk})).status_code == 302
    assert Task.objects.get().done_at is None

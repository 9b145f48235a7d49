"""Counselling: only the counsellor reads goals and notes, supervisors see that sessions happened, follow-up
tasks are idempotent, and the daily digest e-mail says how many follow-ups wait and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from casework.models import CounsellingPlan, CounsellingSession, ProtectionLevel, Task, TaskKind
from casework.services import counselling as services
from core.audit.models import AuditEvent
from core.notifications.models import Notification
from core.outbox.services import outbox_sweep
from tests.casework.conftest import make_case

pytestmark = [pytest.mark.django_db]

NOTES = "Talked about the night of the threats"


def _session(world, case, **changes) -> CounsellingSession:
    today = timezone.localdate()
    values = {
        "held_on": today,
        "modality": "video",
        "duration_minutes": 50,
        "interpreter_used": True,
        "notes": NOTES,
        "next_follow_up": today + dt.timedelta(days=7),
    }
    values.update(changes)
    return services.counselling_session_record(actor=world.counsellor, case=case, **values)


def test_a_session_is_recorded_with_encrypted_notes_and_a_follow_up_task(world, case):
    session = _session(world, case)
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM casework_counsellingsession WHERE id = %s", [session.pk])
        (stored,) = cursor.fetchone()
    assert "threats" not in stored
    task = Task.objects.get()
    assert (task.kind, task.assignee_id, task.due_on, task.source_key) == (
        TaskKind.COUNSELLING_FOLLOW_UP,
        world.counsellor.pk,
        session.next_follow_up,
        f"followup:{session.pk}",
    )
    event = AuditEvent.objects.get(action="counselling_session.recorded")
    assert "notes" in event.fields and "threats" not in str(event.details)


def test_the_follow_up_task_is_idempotent_and_a_new_session_closes_the_old_one(world, case):
    first = _session(world, case)
    services._follow_up_task_sync(session=first, now=timezone.now())
    assert Task.objects.count() == 1
    _session(world, case)
    tasks = Task.objects.order_by("pk")
    assert [task.done_at is not None for task in tasks] == [True, False]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"held_on": timezone.localdate() + dt.timedelta(days=1)},
            "held_on",
            "A session cannot be recorded before it took place.",
        ),
        ({"duration_minutes": 0}, "duration_minutes", "Give the duration in minutes, from 1 to 600."),
        ({"duration_minutes": 601}, "duration_minutes", "Give the duration in minutes, from 1 to 600."),
        ({"modality": "telepathy"}, "modality", "Choose how the session took place."),
        (
            {"next_follow_up": timezone.localdate() - dt.timedelta(days=1)},
            "next_follow_up",
            "The next follow-up cannot be in the past.",
        ),
    ],
)
def test_bad_session_input_is_refused_and_nothing_saved(world, case, change, field, message):
    with pytest.raises(ValidationError) as refused:
        _session(world, case, **change)
    assert refused.value.message_dict == {field: [message]}
    assert CounsellingSession.objects.count() == 0
    assert Task.objects.count() == 0


@pytest.mark.parametrize("who", ["caseworker", "supervisor", "colleague", "outsider"])
def test_only_the_counsellor_records_counselling(world, case, who):
    with pytest.raises(PermissionDenied):
        services.counselling_session_record(
            actor=getattr(world, who),
            case=case,
            held_on=timezone.localdate(),
            modality="phone",
            duration_minutes=30,
            interpreter_used=False,
            notes="x",
            next_follow_up=None,
        )
    with pytest.raises(PermissionDenied):
        services.counselling_plan_save(actor=getattr(world, who), case=case, goals="x", expected_version=0)
    assert CounsellingSession.objects.count() == 0 and CounsellingPlan.objects.count() == 0


def test_plan_goals_are_encrypted_and_version_checked(world, case):
    plan = services.counselling_plan_save(
        actor=world.counsellor, case=case, goals="Sleep again", expected_version=0
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT goals FROM casework_counsellingplan WHERE id = %s", [plan.pk])
        (stored,) = cursor.fetchone()
    assert "Sleep" not in stored
    with pytest.raises(ValidationError):
        services.counselling_plan_save(actor=world.counsellor, case=case, goals="Other", expected_version=0)
    services.counselling_plan_save(actor=world.counsellor, case=case, goals="Sleep, eat", expected_version=1)
    assert CounsellingPlan.objects.get().goals == "Sleep, eat"


def test_pages_permission_matrix(world, case, client, signed_in):
    _session(world, case)
    services.counselling_plan_save(
        actor=world.counsellor, case=case, goals="Secret goals", expected_version=0
    )
    other_case = make_case(world)  # no counsellor: the counsellor only lists it
    urls = {
        "counselling": reverse("casework:counselling", args=[case.reference]),
        "plan": reverse("casework:counselling_plan", args=[case.reference]),
        "add": reverse("casework:counselling_session_add", args=[case.reference]),
    }
    for url in urls.values():
        assert client.get(url).status_code == 302
    counsellor = signed_in(world.counsellor)
    for name in ("counselling", "counselling_plan", "counselling_session_add"):
        assert counsellor.get(reverse(f"casework:{name}", args=[other_case.reference])).status_code == 404
    for who, statuses in (
        ("outsider", (404, 404, 404)),
        ("outsider_supervisor", (404, 404, 404)),
        ("colleague", (404, 404, 404)),
        ("other_team_caseworker", (404, 404, 404)),
        ("auditor", (404, 404, 404)),
        ("caseworker", (403, 403, 403)),
        ("supervisor", (200, 403, 403)),
    ):
        user_client = signed_in(getattr(world, who))
        for (name, url), status in zip(urls.items(), statuses, strict=True):
            response = user_client.get(url)
            assert response.status_code == status, (who, name)
            assert NOTES not in response.content.decode()
            assert "Secret goals" not in response.content.decode()
        assert user_client.post(urls["plan"], {"goals": "hijack", "version": 1}).status_code in (403, 404)
        assert user_client.post(
            urls["add"],
            {
                "held_on": timezone.localdate().isoformat(),
                "modality": "phone",
                "duration_minutes": 5,
                "sessions_seen": 1,
            },
        ).status_code in (403, 404)
    assert CounsellingSession.objects.count() == 1
    assert CounsellingPlan.objects.get().goals == "Secret goals"


def test_the_supervisor_sees_that_sessions_happened_without_notes(world, case, signed_in):
    session = _session(world, case, duration_minutes=47)
    content = (
        signed_in(world.supervisor)
        .get(reverse("casework:counselling", args=[case.reference]))
        .content.decode()
    )
    assert ">47<" in content
    assert session.get_modality_display() in content
    assert NOTES not in content
    assert "Mari" not in content  # no identity on this page for a supervisor


def test_the_counsellor_sees_notes_and_what_counselling_needs(world, signed_in):
    case = make_case(
        world,
        with_counsellor=True,
        communication_needs="Prefers short written questions",
        accessibility_needs="Wheelchair user",
        needs_interpreter=True,
    )
    _session(world, case)
    client = signed_in(world.counsellor)
    content = client.get(reverse("casework:counselling", args=[case.reference])).content.decode()
    assert NOTES in content
    assert "Prefers short written questions" in content and "Wheelchair user" in content
    assert "Maria" not in content  # the legal name is never shown here
    assert ">Mari<" not in content  # confidential: masked until revealed
    response = client.post(reverse("casework:counselling_reveal_name", args=[case.reference]))
    assert response.status_code == 200
    assert "Mari" in response.content.decode()
    event = AuditEvent.objects.get(action="identity.revealed")
    assert (event.actor_id, event.fields) == (world.counsellor.pk, ["preferred_name"])


def test_an_open_persons_preferred_name_is_shown_to_the_counsellor(world, signed_in):
    case = make_case(world, with_counsellor=True, protection_level=ProtectionLevel.OPEN)
    content = (
        signed_in(world.counsellor)
        .get(reverse("casework:counselling", args=[case.reference]))
        .content.decode()
    )
    assert "Mari" in content and "Maria Example" not in content


def test_session_form_through_the_page(world, case, signed_in):
    client = signed_in(world.counsellor)
    url = reverse("casework:counselling_session_add", args=[case.reference])
    assert client.get(url).status_code == 200
    data = {
        "held_on": timezone.localdate().isoformat(),
        "modality": "phone",
        "duration_minutes": "601",
        "notes": "Typed and kept",
        "sessions_seen": "0",
    }
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "Give the duration in minutes, from 1 to 600." in refused.content.decode()
    assert "Typed and kept" in refused.content.decode()
    assert CounsellingSession.objects.count() == 0
    assert client.post(url, {**data, "duration_minutes": "45"}).status_code == 302
    again = client.post(url, {**data, "duration_minutes": "45"})  # the same form sent twice
    assert again.status_code == 400
    assert CounsellingSession.objects.count() == 1


def test_the_daily_digest_counts_and_names_nothing(world, case, settings):
    settings.HAVEN_BASE_URL = "https://haven.example"
    today = timezone.localdate()
    for due in (today, today - dt.timedelta(days=3), today + dt.timedelta(days=1)):
        Task.objects.create(
            case=case, kind=TaskKind.COUNSELLING_FOLLOW_UP, assignee=world.counsellor, due_on=due
        )
    Task.objects.create(
        case=case,
        kind=TaskKind.COUNSELLING_FOLLOW_UP,
        assignee=world.counsellor,
        due_on=today,
        done_at=timezone.now(),
    )
    mail.outbox.clear()
    assert services.counselling_digest_send() == 1
    assert services.counselling_digest_send() == 0  # once a day
    outbox_sweep()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [world.counsellor.email]
    text = message.subject + message.body
    assert "2 counselling follow-ups" in message.body
    for secret in (case.reference, case.person.pseudonym, "Maria", "Mari", world.counsellor.username):
        assert secret not in text
    notification = Notification.objects.get(kind="casework.counselling_digest")
    assert (notification.recipient_id, notification.reference) == (world.counsellor.pk, "")
    assert Notification.objects.filter(recipient=world.counsellor).count() == 1


def test_no_digest_without_due_follow_ups(world, case):
    Task.objects.create(
        case=case,
        kind=TaskKind.COUNSELLING_FOLLOW_UP,
        assignee=world.counsellor,
        due_on=timezone.localdate() + dt.timedelta(days=2),
    )
    assert services.counselling_digest_send() == 0
    outbox_sweep()
    assert mail.outbox == []

"""The permission matrix of every risk, crisis, safety plan, contacts and tasks page: anonymous -> sign in,
other organisation / same team without assignment / counsellor / other team -> 404, assigned caseworker and
supervisor -> 200; every refusal changes nothing and queues nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import (
    Case,
    Contact,
    CrisisAction,
    EmergencyAccess,
    RiskScreening,
    SafetyPlan,
    Task,
)
from casework.risk_questionnaire import DEFAULT_QUESTIONS
from core.accounts.testing import sign_in
from core.audit.models import AuditEvent
from core.notifications.models import Notification
from core.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db

PAGES = ["risk", "risk_screen", "crisis", "safety_plan", "contacts", "contact_add", "case_tasks"]


def post_data(world, case) -> dict[str, dict[str, object]]:
    now = timezone.localtime()
    return {
        "risk_screen": {
            **{question["code"]: "yes" for question in DEFAULT_QUESTIONS},
            "level": "",
            "override_reason": "",
            "version": case.version,
            "action": "save",
        },
        "crisis": {"steps_taken": "Called 112 with Maria.", "emergency_services_called": "on"},
        "safety_plan": {"code_word": "owl", "version": 0},
        "contact_add": {
            "channel": "in_person",
            "direction": "outbound",
            "outcome": "reached",
            "occurred_at": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        },
        "case_tasks": {
            "kind": "follow_up",
            "assignee": world.caseworker.pk,
            "due_on": (timezone.localdate() + timedelta(days=1)).isoformat(),
        },
    }


def snapshot(case: Case) -> tuple[object, ...]:
    fresh = Case.objects.get(pk=case.pk)
    return (
        fresh.version,
        fresh.risk_level,
        fresh.last_contact_at,
        RiskScreening.objects.count(),
        CrisisAction.objects.count(),
        SafetyPlan.objects.count(),
        Contact.objects.count(),
        Task.objects.count(),
        Notification.objects.count(),
        OutboxMessage.objects.count(),
        AuditEvent.objects.count(),
    )


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def url(name: str, case: Case) -> str:
    return reverse(f"casework:{name}", kwargs={"reference": case.reference})


def test_anonymous_is_sent_to_sign_in(world, case):
    before = snapshot(case)
    client = client_for(None)
    data = post_data(world, case)
    for name in PAGES:
        response = client.get(url(name, case))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("accounts:login")), name
    for name, payload in data.items():
        response = client.post(url(name, case), payload)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("accounts:login")), name
    assert snapshot(case) == before


@pytest.mark.parametrize(
    "who",
    [
        "outsider",
        "outsider_supervisor",
        "colleague",
        "counsellor",
        "other_team_caseworker",
        "auditor",
        "admin",
    ],
)
def test_those_without_view_case_get_404_and_nothing_changes(world, case, who):
    before = snapshot(case)
    client = client_for(getattr(world, who))
    for name in PAGES:
        assert client.get(url(name, case)).status_code == 404, name
    for name, payload in post_data(world, case).items():
        assert client.post(url(name, case), payload).status_code == 404, name
    assert snapshot(case) == before


@pytest.mark.parametrize("who", ["caseworker", "supervisor"])
def test_the_case_team_sees_every_page(world, case, who):
    client = client_for(getattr(world, who))
    for name in PAGES:
        assert client.get(url(name, case)).status_code == 200, name


@pytest.mark.parametrize("who", ["caseworker", "supervisor"])
def test_the_case_team_can_post_every_form(world, case, who):
    client = client_for(getattr(world, who))
    for name, payload in post_data(world, case).items():
        if name == "risk_screen":
            payload["version"] = Case.objects.get(pk=case.pk).version
        response = client.post(url(name, case), payload)
        assert response.status_code == 302, (name, response.content.decode()[:2000])
    assert RiskScreening.objects.count() == 1
    assert CrisisAction.objects.count() == 1
    assert SafetyPlan.objects.count() == 1
    assert Contact.objects.count() == 1
    assert Task.objects.count() == 1


def test_a_guessed_reference_is_404(world, case):
    client = client_for(world.caseworker)
    ghost = Case(reference="HV-1999-000001")
    for name in PAGES:
        assert client.get(url(name, ghost)).status_code == 404, name


def test_duty_cover_opens_the_sections_while_it_lasts(world, case):
    now = timezone.now()
    EmergencyAccess.objects.create(
        case=case,
        user=world.colleague,
        reason="Caseworker off sick, client in danger",
        started_at=now - timedelta(minutes=5),
        expires_at=now + timedelta(hours=1),
    )
    client = client_for(world.colleague)
    for name in PAGES:
        assert client.get(url(name, case)).status_code == 200, name
    EmergencyAccess.objects.filter(case=case).update(
        expires_at=now - timedelta(seconds=1), started_at=now - timedelta(hours=1)
    )
    for name in PAGES:
        assert client.get(url(name, case)).status_code == 404, name


def test_user_level_pages_need_sign_in(world):
    client = client_for(None)
    for name in ("my_tasks", "duty_rota", "risk_override_reviews", "crisis_reviews"):
        response = client.get(reverse(f"casework:{name}"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    client = client_for(world.outsider)
    for name in ("my_tasks", "duty_rota", "risk_override_reviews", "crisis_reviews"):
        assert client.get(reverse(f"casework:{name}")).status_code == 200

"""Risk screening: scoring, proposed levels, overrides with a reason and their review, re-screening tasks."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, RiskLevel, RiskQuestionnaire, RiskScreening, Task, TaskKind
from casework.risk_questionnaire import DEFAULT_QUESTIONS, QUESTION_TEXTS, Answer
from casework.selectors.risk import risk_overrides_awaiting_review
from casework.services import risk as services
from casework.services.cases import StaleCase, case_assign
from core.audit.models import AuditEvent
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db


def answers(**yes: str) -> dict[str, str]:
    """Every question answered "no", except those given."""
    result = {question["code"]: Answer.NO.value for question in DEFAULT_QUESTIONS}
    result.update(yes)
    return result


def test_version_one_is_created_once_from_the_defaults(db):
    first = services.risk_questionnaire_active()
    second = services.risk_questionnaire_active()
    assert first.pk == second.pk
    assert first.version == 1 and first.is_active
    assert RiskQuestionnaire.objects.count() == 1
    codes = [question["code"] for question in first.questions]
    assert "imminent_danger" in codes and "self_harm_plan" in codes and "self_harm_thoughts" in codes
    assert all(code in QUESTION_TEXTS for code in codes)
    critical = {question["code"] for question in first.questions if question["critical"]}
    assert critical == {"imminent_danger", "self_harm_plan"}


@pytest.mark.parametrize(
    ("given", "score", "level"),
    [
        ({}, 0, RiskLevel.LOW),
        ({"isolated": "yes", "escalation": "yes"}, 3, RiskLevel.MEDIUM),
        ({"threats_of_violence": "yes", "offender_knows_location": "yes"}, 7, RiskLevel.HIGH),
        (
            {
                "threats_of_violence": "yes",
                "offender_knows_location": "yes",
                "extortion_ongoing": "yes",
                "escalation": "yes",
            },
            12,
            RiskLevel.CRITICAL,
        ),
        ({"imminent_danger": "yes"}, 10, RiskLevel.CRITICAL),
        ({"self_harm_plan": "yes"}, 10, RiskLevel.CRITICAL),
        # Declined and unknown are not known: they add nothing, even on critical questions.
        (
            {"imminent_danger": "declined", "self_harm_plan": "unknown", "isolated": "declined"},
            0,
            RiskLevel.LOW,
        ),
    ],
)
def test_scores_propose_levels(db, given, score, level):
    questionnaire = services.risk_questionnaire_active()
    assert services.risk_score(questionnaire=questionnaire, answers=answers(**given)) == (score, level)


def test_a_critical_yes_proposes_critical_whatever_the_weight(db):
    questionnaire = RiskQuestionnaire.objects.create(
        version=7,
        is_active=False,
        questions=[{"code": "imminent_danger", "weight": 0, "critical": True}],
        thresholds={"medium": 3, "high": 6, "critical": 10},
        rescreen_days={"low": 90, "medium": 30, "high": 7, "critical": 2},
    )
    assert services.risk_score(questionnaire=questionnaire, answers={"imminent_danger": "yes"}) == (
        0,
        "critical",
    )


def test_screening_updates_the_case_and_is_audited_without_answers(world, case):
    now = timezone.now()
    screening = services.risk_screening_record(
        actor=world.caseworker,
        case=case,
        answers=answers(threats_of_violence="yes", offender_knows_location="yes", isolated="declined"),
        expected_version=case.version,
        now=now,
    )
    assert (screening.score, screening.proposed_level, screening.level) == (7, "high", "high")
    assert not screening.is_override
    case_after = Case.objects.get(pk=case.pk)
    assert case_after.risk_level == RiskLevel.HIGH
    assert case_after.next_screening_due == timezone.localdate(now) + timedelta(days=7)
    assert case_after.version == case.version + 1
    stored = json.loads(RiskScreening.objects.get(pk=screening.pk).answers)
    assert stored["isolated"] == "declined" and stored["threats_of_violence"] == "yes"
    event = AuditEvent.objects.get(action="risk.screened", object_id=str(screening.pk))
    assert event.fields == ["answers", "score", "proposed_level", "level"]
    assert "declined" not in json.dumps(event.details) and "threats" not in json.dumps(event.details)
    assert not AuditEvent.objects.filter(action="risk.overridden").exists()


def test_every_question_needs_an_answer(world, case):
    incomplete = answers()
    del incomplete["self_harm_plan"]
    incomplete["isolated"] = "maybe"
    with pytest.raises(ValidationError) as error:
        services.risk_screening_record(actor=world.caseworker, case=case, answers=incomplete)
    assert set(error.value.error_dict) == {"self_harm_plan", "isolated"}
    assert RiskScreening.objects.count() == 0


def test_an_override_needs_a_reason(world, case):
    with pytest.raises(ValidationError) as error:
        services.risk_screening_record(
            actor=world.caseworker, case=case, answers=answers(), level=RiskLevel.HIGH, override_reason="  "
        )
    assert list(error.value.error_dict) == ["override_reason"]
    assert RiskScreening.objects.count() == 0
    case.refresh_from_db()
    assert case.risk_level == RiskLevel.MEDIUM


def test_an_override_is_audited_and_waits_for_another_supervisor(world, case):
    screening = services.risk_screening_record(
        actor=world.supervisor,
        case=case,
        answers=answers(),
        level=RiskLevel.HIGH,
        override_reason="The offender turned up at her workplace yesterday.",
    )
    assert screening.is_override and screening.proposed_level == "low" and screening.level == "high"
    event = AuditEvent.objects.get(action="risk.overridden")
    assert event.details == {"case_id": case.pk, "proposed_level": "low", "level": "high"}
    assert "workplace" not in json.dumps(event.details)
    assert Case.objects.get(pk=case.pk).risk_level == RiskLevel.HIGH
    # In the second supervisor's queue, not in the queue of the one who overrode.
    assert list(risk_overrides_awaiting_review(world.second_supervisor)) == [screening]
    assert list(risk_overrides_awaiting_review(world.supervisor)) == []
    assert list(risk_overrides_awaiting_review(world.caseworker)) == []
    assert list(risk_overrides_awaiting_review(world.outsider_supervisor)) == []
    with pytest.raises(PermissionDenied):
        services.risk_override_review(actor=world.supervisor, screening=screening)
    with pytest.raises(PermissionDenied):
        services.risk_override_review(actor=world.caseworker, screening=screening)
    with pytest.raises(PermissionDenied):
        services.risk_override_review(actor=world.outsider_supervisor, screening=screening)
    reviewed = services.risk_override_review(actor=world.second_supervisor, screening=screening)
    assert reviewed.override_reviewed_by_id == world.second_supervisor.pk
    assert reviewed.override_reviewed_at is not None
    assert list(risk_overrides_awaiting_review(world.second_supervisor)) == []
    assert AuditEvent.objects.filter(action="risk.override_reviewed").count() == 1
    services.risk_override_review(actor=world.second_supervisor, screening=screening)  # a double submit
    assert AuditEvent.objects.filter(action="risk.override_reviewed").count() == 1


def test_a_caseworker_override_is_reviewed_by_a_supervisor(world, case):
    screening = services.risk_screening_record(
        actor=world.caseworker,
        case=case,
        answers=answers(imminent_danger="yes"),
        level="high",
        override_reason="Police already at the address.",
    )
    assert [s.pk for s in risk_overrides_awaiting_review(world.supervisor)] == [screening.pk]
    services.risk_override_review(actor=world.supervisor, screening=screening)


def test_a_stale_screening_is_refused(world, case):
    with pytest.raises(StaleCase):
        services.risk_screening_record(
            actor=world.caseworker, case=case, answers=answers(), expected_version=case.version - 1
        )
    assert RiskScreening.objects.count() == 0


def test_only_those_who_may_change_the_case_screen(world, case):
    for user in (world.colleague, world.counsellor, world.outsider, world.auditor):
        with pytest.raises(PermissionDenied):
            services.risk_screening_record(actor=user, case=case, answers=answers())
    assert RiskScreening.objects.count() == 0


def test_the_answers_column_holds_no_plaintext(world, case):
    screening = services.risk_screening_record(
        actor=world.caseworker,
        case=case,
        answers=answers(self_harm_thoughts="yes"),
        level="critical",
        override_reason="Said she would rather disappear.",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT answers, override_reason FROM casework_riskscreening WHERE id = %s", [screening.pk]
        )
        raw_answers, raw_reason = cursor.fetchone()
    assert "self_harm" not in raw_answers and "yes" not in raw_answers
    assert "disappear" not in raw_reason


def test_rescreening_tasks_are_created_once_for_the_assigned_caseworker(world):
    due = make_case(world)
    not_due = make_case(world)
    unassigned = make_case(world)
    Case.objects.filter(pk=due.pk).update(next_screening_due=date(2026, 3, 1))
    Case.objects.filter(pk=not_due.pk).update(next_screening_due=date(2026, 3, 20))
    Case.objects.filter(pk=unassigned.pk).update(
        next_screening_due=date(2026, 3, 1), assigned_caseworker=None
    )
    now = timezone.make_aware(timezone.datetime(2026, 3, 5, 9, 0))
    assert services.risk_rescreen_tasks_create(now=now) == 1
    assert services.risk_rescreen_tasks_create(now=now) == 0  # idempotent
    task = Task.objects.get()
    assert task.case_id == due.pk
    assert task.kind == TaskKind.RESCREEN
    assert task.assignee_id == world.caseworker.pk
    assert task.due_on == date(2026, 3, 1)
    assert task.source_key == f"rescreen:{due.pk}:2026-03-01"
    # Re-screened, then due again later: a new task for the new date.
    Case.objects.filter(pk=due.pk).update(next_screening_due=date(2026, 4, 1))
    later = timezone.make_aware(timezone.datetime(2026, 4, 2, 9, 0))
    assert services.risk_rescreen_tasks_create(now=later) == 2  # and the not-due case is due by now
    assert Task.objects.filter(case=due).count() == 2


def test_rescreening_task_follows_reassignment(world):
    case = make_case(world)
    case = case_assign(actor=world.supervisor, case=case, caseworker=world.colleague)
    Case.objects.filter(pk=case.pk).update(next_screening_due=timezone.localdate())
    services.risk_rescreen_tasks_create()
    assert Task.objects.get().assignee_id == world.colleague.pk


def test_rescreen_beat_task_is_scheduled_and_thin(world):
    from casework import tasks_risk
    from config.celery import app

    entry = app.conf.beat_schedule["casework-rescreen-due"]
    assert entry["task"] == "casework.tasks_risk.rescreen_due_sweep"
    case = make_case(world)
    Case.objects.filter(pk=case.pk).update(next_screening_due=timezone.localdate())
    tasks_risk.rescreen_due_sweep.run()
    assert Task.objects.filter(kind=TaskKind.RESCREEN).count() == 1


# --- Pages -------------------------------------------------------------------------------------------


def test_the_screen_page_proposes_then_saves(world, case, signed_in):
    client = signed_in(world.caseworker)
    url = reverse("casework:risk_screen", kwargs={"reference": case.reference})
    page = client.get(url)
    assert page.status_code == 200
    assert str(QUESTION_TEXTS["imminent_danger"].label) in page.content.decode()
    data = {**answers(self_harm_plan="yes"), "level": "", "override_reason": "", "version": case.version}
    proposed = client.post(url, {**data, "action": "propose"})
    assert proposed.status_code == 200
    assert "Critical" in proposed.content.decode()
    assert RiskScreening.objects.count() == 0
    saved = client.post(url, {**data, "action": "save"})
    assert saved.status_code == 302
    assert saved["Location"] == reverse("casework:risk", kwargs={"reference": case.reference})
    assert Case.objects.get(pk=case.pk).risk_level == RiskLevel.CRITICAL
    risk_page = client.get(saved["Location"])
    assert risk_page.status_code == 200


def test_the_screen_page_asks_for_a_reason_and_keeps_the_answers(world, case, signed_in):
    client = signed_in(world.caseworker)
    url = reverse("casework:risk_screen", kwargs={"reference": case.reference})
    data = {**answers(isolated="declined"), "level": "high", "override_reason": "", "version": case.version}
    response = client.post(url, {**data, "action": "save"})
    assert response.status_code == 200
    assert "Say why you chose a level other than the proposed one." in response.content.decode()
    assert response.context["form"]["isolated"].value() == "declined"
    assert RiskScreening.objects.count() == 0


def test_the_review_queue_page(world, case, signed_in):
    screening = services.risk_screening_record(
        actor=world.caseworker, case=case, answers=answers(), level="high", override_reason="Gut feeling."
    )
    client = signed_in(world.supervisor)
    page = client.get(reverse("casework:risk_override_reviews"))
    assert page.status_code == 200 and case.reference in page.content.decode()
    assert "Gut feeling" not in page.content.decode()
    response = client.post(reverse("casework:risk_override_review", kwargs={"pk": screening.pk}))
    assert response.status_code == 302
    screening.refresh_from_db()
    assert screening.override_reviewed_by_id == world.supervisor.pk


def test_the_review_of_an_unknown_or_foreign_override_is_404(world, case, client):
    from core.accounts.testing import sign_in

    screening = services.risk_screening_record(
        actor=world.caseworker, case=case, answers=answers(), level="high", override_reason="Reason."
    )
    for user in (world.outsider_supervisor, world.caseworker, world.colleague):
        client.logout()
        sign_in(client, user)
        response = client.post(reverse("casework:risk_override_review", kwargs={"pk": screening.pk}))
        assert response.status_code == 404
    response = client.post(reverse("casework:risk_override_review", kwargs={"pk": screening.pk + 999}))
    assert response.status_code == 404
    screening.refresh_from_db()
    assert screening.override_reviewed_at is None

"""Dashboards as queues: each queue selector returns exactly the right cases for the asking user."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import (
    Case,
    CaseState,
    Consent,
    CounsellingSession,
    CrisisAction,
    EmergencyAccess,
    LawfulBasis,
    RiskLevel,
    RiskQuestionnaire,
    RiskScreening,
    Task,
)
from casework.selectors import queues
from casework.services import cases as services
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db

NOW = timezone.now()
TODAY = timezone.localdate()


def _refs(queryset) -> list[str]:
    return sorted(case.reference for case in queryset)


def _case(world, **updates) -> Case:
    case = make_case(world)
    if updates:
        Case.objects.filter(pk=case.pk).update(**updates)
        case.refresh_from_db()
    return case


def test_unassigned_intakes(world):
    unassigned = _case(world, assigned_caseworker=None)
    _case(world)  # assigned
    _case(world, assigned_caseworker=None, state=CaseState.CLOSED, closure_reason="duplicate")
    other_team = services.case_team_change(
        actor=world.supervisor, case=make_case(world), team=world.other_team
    )
    Case.objects.filter(pk=other_team.pk).update(assigned_caseworker=None)
    assert _refs(queues.unassigned_intakes(world.supervisor)) == [unassigned.reference]
    assert other_team.reference not in _refs(queues.unassigned_intakes(world.supervisor))
    assert _refs(queues.unassigned_intakes(world.caseworker)) == []
    assert _refs(queues.unassigned_intakes(world.outsider_supervisor)) == []


def test_high_risk_without_contact(world):
    old = NOW - datetime.timedelta(days=10)
    stale = _case(world, risk_level=RiskLevel.HIGH, last_contact_at=old)
    never = _case(world, risk_level=RiskLevel.CRITICAL, opened_at=old)
    _case(world, risk_level=RiskLevel.HIGH, last_contact_at=NOW - datetime.timedelta(days=1))
    _case(world, risk_level=RiskLevel.MEDIUM, last_contact_at=old)
    _case(
        world,
        risk_level=RiskLevel.HIGH,
        last_contact_at=old,
        state=CaseState.CLOSED,
        closure_reason="goals_met",
    )
    expected = sorted([stale.reference, never.reference])
    assert _refs(queues.cases_high_risk_without_contact(world.caseworker, now=NOW)) == expected
    assert _refs(queues.cases_high_risk_without_contact(world.supervisor, team=True, now=NOW)) == expected
    assert _refs(queues.cases_high_risk_without_contact(world.colleague, now=NOW)) == []
    assert _refs(queues.cases_high_risk_without_contact(world.outsider_supervisor, team=True, now=NOW)) == []


def _consent(case, world, *, expires_in_days, withdrawn=False):
    return Consent.objects.create(
        case=case,
        scopes=["processing"],
        given_by="client",
        method="written",
        notice_version="1",
        notice_language="en",
        given_at=NOW - datetime.timedelta(days=300),
        expires_at=NOW + datetime.timedelta(days=expires_in_days),
        withdrawn_at=NOW if withdrawn else None,
        recorded_by=world.caseworker,
    )


def test_consents_expiring(world):
    soon, later, withdrawn = make_case(world), make_case(world), make_case(world)
    _consent(soon, world, expires_in_days=10)
    _consent(later, world, expires_in_days=90)
    _consent(withdrawn, world, expires_in_days=10, withdrawn=True)
    assert _refs(queues.cases_with_consents_expiring(world.caseworker, now=NOW)) == [soon.reference]
    assert _refs(queues.cases_with_consents_expiring(world.supervisor, team=True, now=NOW)) == [
        soon.reference
    ]
    assert _refs(queues.cases_with_consents_expiring(world.colleague, now=NOW)) == []


def test_reviews_go_to_supervisors_never_for_their_own_actions(world):
    overridden, basis, crisis, cover, mine = (make_case(world) for _ in range(5))
    questionnaire = RiskQuestionnaire.objects.create(
        version=99, questions=[], thresholds={}, rescreen_days={}, is_active=False
    )
    for case, by in ((overridden, world.caseworker), (mine, world.supervisor)):
        RiskScreening.objects.create(
            case=case,
            questionnaire=questionnaire,
            answers="{}",
            score=1,
            proposed_level="low",
            level="high",
            override_reason="Client disclosed threats",
            screened_by=by,
            screened_at=NOW,
            next_due=TODAY,
        )
    RiskScreening.objects.create(  # not an override
        case=mine,
        questionnaire=questionnaire,
        answers="{}",
        score=1,
        proposed_level="low",
        level="low",
        screened_by=world.caseworker,
        screened_at=NOW,
        next_due=TODAY,
    )
    LawfulBasis.objects.create(
        case=basis, kind="vital_interests", reason="Emergency", recorded_by=world.caseworker
    )
    LawfulBasis.objects.create(case=mine, kind="consent", recorded_by=world.caseworker)
    CrisisAction.objects.create(
        case=crisis, steps_taken="Called emergency services", recorded_by=world.caseworker, recorded_at=NOW
    )
    EmergencyAccess.objects.create(
        case=cover,
        user=world.colleague,
        reason="Client in danger",
        started_at=NOW,
        expires_at=NOW + datetime.timedelta(hours=2),
    )
    supervisor = world.supervisor
    assert _refs(queues.cases_with_risk_overrides_to_review(supervisor)) == [overridden.reference]
    assert _refs(queues.cases_with_risk_overrides_to_review(world.second_supervisor)) == sorted(
        [overridden.reference, mine.reference]
    )
    assert _refs(queues.cases_with_lawful_bases_to_review(supervisor)) == [basis.reference]
    assert _refs(queues.cases_with_crisis_actions_to_review(supervisor)) == [crisis.reference]
    assert _refs(queues.cases_with_emergency_accesses_to_review(supervisor)) == [cover.reference]
    for user in (world.caseworker, world.outsider_supervisor, world.other_team_caseworker):
        assert _refs(queues.cases_with_risk_overrides_to_review(user)) == []
        assert _refs(queues.cases_with_lawful_bases_to_review(user)) == []
        assert _refs(queues.cases_with_crisis_actions_to_review(user)) == []
        assert _refs(queues.cases_with_emergency_accesses_to_review(user)) == []


def test_overdue_tasks(world):
    late, on_time, done, colleagues = (make_case(world) for _ in range(4))
    Task.objects.create(
        case=late, kind="follow_up", assignee=world.caseworker, due_on=TODAY - datetime.timedelta(days=2)
    )
    Task.objects.create(
        case=on_time, kind="follow_up", assignee=world.caseworker, due_on=TODAY + datetime.timedelta(days=2)
    )
    Task.objects.create(
        case=done,
        kind="follow_up",
        assignee=world.caseworker,
        due_on=TODAY - datetime.timedelta(days=2),
        done_at=NOW,
    )
    services.case_assign(actor=world.supervisor, case=colleagues, caseworker=world.colleague)
    Task.objects.create(
        case=colleagues, kind="follow_up", assignee=world.colleague, due_on=TODAY - datetime.timedelta(days=1)
    )
    assert _refs(queues.cases_with_overdue_tasks(world.caseworker, now=NOW)) == [late.reference]
    assert _refs(queues.cases_with_overdue_tasks(world.colleague, now=NOW)) == [colleagues.reference]
    assert _refs(queues.cases_with_overdue_tasks(world.supervisor, team=True, now=NOW)) == sorted(
        [late.reference, colleagues.reference]
    )
    assert _refs(queues.cases_with_overdue_tasks(world.outsider_supervisor, team=True, now=NOW)) == []


def test_counselling_follow_ups(world):
    due = make_case(world, with_counsellor=True)
    later = make_case(world, with_counsellor=True)
    superseded = make_case(world, with_counsellor=True)
    session = {"counsellor": world.counsellor, "modality": "phone", "duration_minutes": 50}
    CounsellingSession.objects.create(
        case=due, held_on=TODAY, next_follow_up=TODAY + datetime.timedelta(days=3), **session
    )
    CounsellingSession.objects.create(
        case=later, held_on=TODAY, next_follow_up=TODAY + datetime.timedelta(days=30), **session
    )
    CounsellingSession.objects.create(
        case=superseded,
        held_on=TODAY - datetime.timedelta(days=10),
        next_follow_up=TODAY - datetime.timedelta(days=3),
        **session,
    )
    CounsellingSession.objects.create(case=superseded, held_on=TODAY, next_follow_up=None, **session)
    assert _refs(queues.counselling_follow_ups_due(world.counsellor, today=TODAY)) == [due.reference]
    assert _refs(queues.counselling_follow_ups_due(world.caseworker, today=TODAY)) == []


def test_dashboards_show_counts_and_links(world, signed_in):
    _case(world, assigned_caseworker=None)
    page = (
        signed_in(world.supervisor).get(reverse("accounts:dashboard", args=["supervisor"])).content.decode()
    )
    assert "Intakes without a caseworker" in page
    assert reverse("casework:supervision") + "?queue=unassigned" in page
    counts = {
        queue.code: queue.count for queue in queues.dashboard_queues(user=world.supervisor, role="supervisor")
    }
    assert counts["unassigned"] == 1 and counts["crisis_actions_to_review"] == 0
    page = (
        signed_in(world.caseworker).get(reverse("accounts:dashboard", args=["caseworker"])).content.decode()
    )
    assert "Cases with overdue tasks" in page and reverse("casework:my_cases") in page
    page = (
        signed_in(world.counsellor).get(reverse("accounts:dashboard", args=["counsellor"])).content.decode()
    )
    assert "Counselling follow-ups due this week" in page
    assert queues.dashboard_queues(user=world.caseworker, role="supervisor") == []


def test_a_queue_link_lists_its_cases(world, signed_in):
    unassigned = _case(world, assigned_caseworker=None)
    _case(world)
    response = signed_in(world.supervisor).get(reverse("casework:supervision"), {"queue": "unassigned"})
    assert [case.reference for case in response.context["page"].object_list] == [unassigned.reference]
    # A queue of another list is ignored: the caseworker's list stays the caseworker's own.
    response = signed_in(world.caseworker).get(reverse("casework:my_cases"), {"queue": "unassigned"})
    assert unassigned.reference not in response.content.decode()

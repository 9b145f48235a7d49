"""Opening, assigning and moving cases: permissions granted by the services, every change audited."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from casework.access import case_perms
from casework.models import Case, CaseState, ClosureReason, RiskLevel
from casework.services import cases as services
from core.audit.models import AuditEvent
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db


def test_reference_and_pseudonym_hold_no_personal_data(world):
    case = make_case(world)
    assert re.fullmatch(r"HV-\d{4}-\d{6}", case.reference)
    assert str(case) == case.reference
    assert str(case.person) == case.person.pseudonym
    assert "Maria" not in case.person.pseudonym and "Mari" not in str(case.person)


def test_references_are_consecutive_per_year(world):
    first, second = make_case(world), make_case(world)
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1


def test_who_holds_what_on_a_new_case(world, case):
    # The assigned caseworker is also in the team, whose group may list the case.
    assert case_perms(user=world.caseworker, case=case) == {
        "view_case",
        "change_case",
        "reveal_identity",
        "list_case",
    }
    assert case_perms(user=world.counsellor, case=case) == {"counsel_case", "reveal_identity", "list_case"}
    assert case_perms(user=world.supervisor, case=case) == {
        "view_case",
        "change_case",
        "supervise_case",
        "reveal_identity",
        "list_case",
    }
    assert case_perms(user=world.colleague, case=case) == {"list_case"}
    assert case_perms(user=world.other_team_caseworker, case=case) == frozenset()
    assert case_perms(user=world.outsider, case=case) == frozenset()
    assert case_perms(user=world.outsider_supervisor, case=case) == frozenset()
    assert case_perms(user=world.auditor, case=case) == frozenset()
    assert case_perms(user=world.admin, case=case) == frozenset()


def test_opening_is_audited_without_values(world):
    case = make_case(world)
    event = AuditEvent.objects.filter(action="case.opened", object_id=str(case.pk)).get()
    assert event.actor_id == world.caseworker.pk
    assert "Maria" not in str(event.details)


def test_reassignment_moves_permissions(world, case):
    services.case_assign(actor=world.supervisor, case=case, caseworker=world.colleague)
    assert case_perms(user=world.colleague, case=case) >= {"view_case", "change_case", "reveal_identity"}
    assert "view_case" not in case_perms(user=world.caseworker, case=case)


def test_only_a_supervisor_assigns(world, case):
    with pytest.raises(PermissionDenied):
        services.case_assign(actor=world.caseworker, case=case, caseworker=world.colleague)
    case.refresh_from_db()
    assert case.assigned_caseworker_id == world.caseworker.pk


def test_a_caseworker_of_another_team_cannot_take_the_case(world, case):
    with pytest.raises(ValidationError):
        services.case_assign(actor=world.supervisor, case=case, caseworker=world.other_team_caseworker)


def test_bulk_reassignment_is_all_or_nothing(world):
    first, second = make_case(world), make_case(world)
    second.team = world.other_team
    Case.objects.filter(pk=second.pk).update(team=world.other_team)
    with pytest.raises(ValidationError):  # the colleague is not in the second case's team
        services.case_reassign_bulk(actor=world.supervisor, cases=[first, second], caseworker=world.colleague)
    first.refresh_from_db()
    assert first.assigned_caseworker_id == world.caseworker.pk


def test_states_move_in_order_only(world, case):
    with pytest.raises(ValidationError):
        services.case_transition(actor=world.caseworker, case=case, to_state=CaseState.ON_HOLD)
    case = services.case_transition(actor=world.caseworker, case=case, to_state=CaseState.ASSESSMENT)
    case = services.case_transition(actor=world.caseworker, case=case, to_state=CaseState.ACTIVE)
    assert case.state == CaseState.ACTIVE


def test_a_stale_form_is_refused(world, case):
    version = case.version
    services.case_transition(actor=world.caseworker, case=case, to_state=CaseState.ASSESSMENT)
    with pytest.raises(services.StaleCase):
        services.case_transition(
            actor=world.caseworker, case=case, to_state=CaseState.ACTIVE, expected_version=version
        )


def test_high_risk_closure_needs_another_supervisor(world, case):
    Case.objects.filter(pk=case.pk).update(risk_level=RiskLevel.HIGH)
    case.refresh_from_db()
    case = services.case_closure_request(actor=world.caseworker, case=case, reason=ClosureReason.GOALS_MET)
    assert case.state == CaseState.CLOSING
    with pytest.raises(PermissionDenied):
        services.case_closure_approve(actor=world.caseworker, case=case)
    case = services.case_closure_approve(actor=world.supervisor, case=case)
    assert case.state == CaseState.CLOSED and case.closure_approved_by_id == world.supervisor.pk


def test_a_supervisor_cannot_approve_their_own_closure_request(world, case):
    Case.objects.filter(pk=case.pk).update(risk_level=RiskLevel.CRITICAL)
    case.refresh_from_db()
    services.case_closure_request(actor=world.supervisor, case=case, reason=ClosureReason.GOALS_MET)
    with pytest.raises(PermissionDenied):
        services.case_closure_approve(actor=world.supervisor, case=case)
    assert services.case_closure_approve(actor=world.second_supervisor, case=case).state == CaseState.CLOSED


def test_low_risk_closes_at_once_and_reopens(world, case):
    Case.objects.filter(pk=case.pk).update(risk_level=RiskLevel.LOW)
    case.refresh_from_db()
    case = services.case_closure_request(
        actor=world.caseworker, case=case, reason=ClosureReason.CLIENT_WITHDREW
    )
    assert case.state == CaseState.CLOSED and case.closed_at is not None
    case = services.case_reopen(actor=world.caseworker, case=case)
    assert case.state == CaseState.ACTIVE and case.closure_reason == ""


def test_unknown_closure_reason_is_refused(world, case):
    with pytest.raises(ValidationError):
        services.case_closure_request(actor=world.caseworker, case=case, reason="bored")
    case.refresh_from_db()
    assert case.state == CaseState.INTAKE


def test_deactivated_caseworker_loses_everything(world, case):
    world.caseworker.is_active = False
    world.caseworker.save(update_fields=["is_active"])
    assert case_perms(user=world.caseworker, case=case) == frozenset()

"""The case overview: who may open it, what each sees, and state changes by POST with the case version."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import Case, CaseState, ClosureReason, RiskLevel
from casework.services import cases as services
from core.audit.models import AuditEvent
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db


def _url(case: Case, name: str = "casework:case_detail") -> str:
    return reverse(name, kwargs={"reference": case.reference})


def test_anonymous_is_sent_to_sign_in(client, case):
    response = client.get(_url(case))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    "who", ["outsider", "outsider_supervisor", "colleague", "other_team_caseworker", "auditor", "admin"]
)
def test_who_may_not_open_the_case_gets_404(world, case, signed_in, who):
    client = signed_in(getattr(world, who))
    assert client.get(_url(case)).status_code == 404


def test_guessed_references_answer_404(world, case, signed_in):
    client = signed_in(world.caseworker)
    year = case.reference[3:7]
    for reference in (f"HV-{year}-999999", f"HV-{year}-000000", "HV-1999-000001"):
        assert client.get(f"/en/cases/{reference}/").status_code == 404
    assert client.get("/en/cases/not-a-reference/").status_code == 404


def test_caseworker_sees_the_overview(world, case, signed_in):
    response = signed_in(world.caseworker).get(_url(case))
    assert response.status_code == 200
    page = response.content.decode()
    assert case.reference in page and case.person.pseudonym in page
    assert "Sextortion" in page
    assert world.caseworker.staff_code in page and world.counsellor.staff_code in page
    assert world.team.name in page
    assert "Maria" not in page and "Mari<" not in page  # names never on the overview
    assert reverse("casework:case_transition", kwargs={"reference": case.reference}) in page
    assert 'value="assessment"' in page
    assert reverse("casework:case_close", kwargs={"reference": case.reference}) in page
    assert reverse("casework:case_closure_approve", kwargs={"reference": case.reference}) not in page


def test_supervisor_sees_the_overview(world, case, signed_in):
    response = signed_in(world.supervisor).get(_url(case))
    assert response.status_code == 200
    assert case.person.pseudonym in response.content.decode()


def test_counsellor_sees_the_header_only(world, case, signed_in):
    response = signed_in(world.counsellor).get(_url(case))
    assert response.status_code == 200
    page = response.content.decode()
    assert case.reference in page and case.person.pseudonym in page
    assert "Sextortion" not in page  # the case facts are the case team's
    assert world.caseworker.staff_code not in page
    assert reverse("casework:case_transition", kwargs={"reference": case.reference}) not in page
    assert "Go to counselling" in page


def test_transition_by_post_moves_the_case(world, case, signed_in):
    client = signed_in(world.caseworker)
    response = client.post(
        _url(case, "casework:case_transition"), {"to_state": "assessment", "version": case.version}
    )
    assert response.status_code == 302 and response["Location"] == _url(case)
    case.refresh_from_db()
    assert case.state == CaseState.ASSESSMENT and case.version == 3  # opened, counsellor, moved


def test_stale_version_is_refused_and_nothing_changes(world, case, signed_in):
    client = signed_in(world.caseworker)
    stale = case.version
    services.case_transition(actor=world.supervisor, case=case, to_state=CaseState.ASSESSMENT)
    events = AuditEvent.objects.count()
    response = client.post(
        _url(case, "casework:case_transition"), {"to_state": "active", "version": stale}, follow=True
    )
    assert "Someone else changed this case while you were working on it." in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.ASSESSMENT and case.version == stale + 1
    assert AuditEvent.objects.count() == events


def test_a_move_not_allowed_is_a_message_and_nothing_changes(world, case, signed_in):
    response = signed_in(world.caseworker).post(
        _url(case, "casework:case_transition"), {"to_state": "active", "version": case.version}, follow=True
    )
    assert "cannot move to" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.INTAKE


def test_transition_is_post_only(world, case, signed_in):
    assert signed_in(world.caseworker).get(_url(case, "casework:case_transition")).status_code == 405


def test_counsellor_and_colleague_cannot_move_the_case(world, case, signed_in):
    data = {"to_state": "assessment", "version": case.version}
    assert signed_in(world.counsellor).post(_url(case, "casework:case_transition"), data).status_code == 403
    assert signed_in(world.colleague).post(_url(case, "casework:case_transition"), data).status_code == 404
    assert signed_in(world.outsider).post(_url(case, "casework:case_transition"), data).status_code == 404
    case.refresh_from_db()
    assert case.state == CaseState.INTAKE


def test_closing_a_low_risk_case_needs_a_coded_reason(world, case, signed_in):
    client = signed_in(world.caseworker)
    response = client.post(
        _url(case, "casework:case_close"), {"reason": "", "version": case.version}, follow=True
    )
    assert "Choose why the case is closing." in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.INTAKE
    client.post(
        _url(case, "casework:case_close"), {"reason": ClosureReason.GOALS_MET, "version": case.version}
    )
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closure_reason == ClosureReason.GOALS_MET


def test_high_risk_closure_is_approved_by_another_supervisor_then_reopened(world, signed_in, client):
    case = make_case(world)
    Case.objects.filter(pk=case.pk).update(risk_level=RiskLevel.HIGH)
    case.refresh_from_db()
    caseworker = signed_in(world.caseworker)
    caseworker.post(_url(case, "casework:case_close"), {"reason": "goals_met", "version": case.version})
    case.refresh_from_db()
    assert case.state == CaseState.CLOSING
    page = caseworker.get(_url(case)).content.decode()
    assert _url(case, "casework:case_closure_approve") not in page  # not the caseworker's decision
    assert (
        caseworker.post(_url(case, "casework:case_closure_approve"), {"version": case.version}).status_code
        == 403
    )
    supervisor = signed_in(world.supervisor)
    assert _url(case, "casework:case_closure_approve") in supervisor.get(_url(case)).content.decode()
    supervisor.post(_url(case, "casework:case_closure_approve"), {"version": case.version})
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closure_approved_by_id == world.supervisor.pk
    supervisor.post(_url(case, "casework:case_reopen"), {"version": case.version})
    case.refresh_from_db()
    assert case.state == CaseState.ACTIVE and case.closed_at is None


def test_supervisor_refuses_a_closure(world, signed_in):
    case = make_case(world)
    Case.objects.filter(pk=case.pk).update(risk_level=RiskLevel.CRITICAL)
    case.refresh_from_db()
    services.case_closure_request(actor=world.caseworker, case=case, reason=ClosureReason.CLIENT_WITHDREW)
    case.refresh_from_db()
    client = signed_in(world.supervisor)
    client.post(_url(case, "casework:case_closure_refuse"), {"version": case.version - 1})  # stale
    case.refresh_from_db()
    assert case.state == CaseState.CLOSING
    client.post(_url(case, "casework:case_closure_refuse"), {"version": case.version})
    case.refresh_from_db()
    assert case.state == CaseState.ACTIVE and case.closure_reason == ""


def test_a_tampered_form_changes_nothing(world, case, signed_in):
    client = signed_in(world.caseworker)
    response = client.post(_url(case, "casework:case_transition"), {"to_state": "assessment"}, follow=True)
    assert "Nothing was changed" in response.content.decode()
    client.post(_url(case, "casework:case_transition"), {"to_state": "flying", "version": case.version})
    case.refresh_from_db()
    assert case.state == CaseState.INTAKE

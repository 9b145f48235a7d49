"""The caseworker's and the supervisor's case lists: visible cases only, pseudonyms only, filters, pages,
and a fixed number of queries per page whatever its size."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import Case, CaseKind, CaseState, RiskLevel
from casework.selectors.cases import CaseFilters, case_list_for_caseworker, case_list_for_supervisor
from casework.services import cases as services
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db

MY_CASES = reverse("casework:my_cases")
SUPERVISION = reverse("casework:supervision")


def _references(response) -> list[str]:
    return [case.reference for case in response.context["page"].object_list]


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get(MY_CASES).status_code == 302
    assert client.get(SUPERVISION).status_code == 302


def test_caseworker_sees_own_cases_with_pseudonyms_only(world, signed_in):
    mine = make_case(world, legal_name="Quentin Fakename", preferred_name="Quen")
    theirs = make_case(world)
    services.case_assign(actor=world.supervisor, case=theirs, caseworker=world.colleague)
    response = signed_in(world.caseworker).get(MY_CASES)
    assert response.status_code == 200
    assert _references(response) == [mine.reference]
    page = response.content.decode()
    assert mine.person.pseudonym in page and world.caseworker.staff_code in page
    assert "Quentin" not in page and "Quen<" not in page
    assert theirs.reference not in page


def test_the_list_never_loads_encrypted_columns(world):
    make_case(world)
    row = case_list_for_caseworker(world.caseworker)[0]
    deferred = row.person.get_deferred_fields()
    assert {"legal_name", "preferred_name", "date_of_birth", "address", "other_names"} <= deferred


def test_counsellor_lists_the_cases_they_counsel(world, signed_in):
    counselled = make_case(world, with_counsellor=True)
    make_case(world)
    assert _references(signed_in(world.counsellor).get(MY_CASES)) == [counselled.reference]


def test_outsiders_and_other_teams_see_nothing(world, signed_in):
    make_case(world)
    for user in (world.outsider, world.other_team_caseworker, world.colleague, world.auditor):
        assert list(case_list_for_caseworker(user)) == []
    assert list(case_list_for_supervisor(world.outsider_supervisor)) == []


def test_supervisor_sees_the_team_cases(world, signed_in):
    first, second = make_case(world), make_case(world)
    response = signed_in(world.supervisor).get(SUPERVISION)
    assert response.status_code == 200
    assert _references(response) == [second.reference, first.reference]


def test_supervision_is_for_supervisors(world, signed_in):
    response = signed_in(world.caseworker).get(SUPERVISION)
    assert response.status_code == 403
    assert "Only supervisors see their teams" in response.content.decode()


def test_a_deactivated_supervisor_sees_nothing(world):
    make_case(world)
    world.supervisor.is_active = False
    world.supervisor.save()
    assert list(case_list_for_supervisor(world.supervisor)) == []


def test_filters(world, signed_in):
    fraud = make_case(world)
    Case.objects.filter(pk=fraud.pk).update(
        categories=["fraud", "identity_theft"], risk_level=RiskLevel.HIGH, kind=CaseKind.WITNESS_SUPPORT
    )
    other = make_case(world)
    services.case_transition(actor=world.caseworker, case=other, to_state=CaseState.ASSESSMENT)
    client = signed_in(world.supervisor)
    assert _references(client.get(SUPERVISION, {"category": "fraud"})) == [fraud.reference]
    assert _references(client.get(SUPERVISION, {"category": "sextortion"})) == [other.reference]
    assert _references(client.get(SUPERVISION, {"risk_level": "high"})) == [fraud.reference]
    assert _references(client.get(SUPERVISION, {"kind": "witness_support"})) == [fraud.reference]
    assert _references(client.get(SUPERVISION, {"state": "assessment"})) == [other.reference]
    assert _references(client.get(SUPERVISION, {"state": "closed"})) == []
    # A made-up filter value is ignored, not an error.
    assert len(_references(client.get(SUPERVISION, {"state": "flying"}))) == 2
    assert case_list_for_caseworker(world.caseworker, filters=CaseFilters(category="fraud")).get() == fraud


def test_pages_of_25(world, signed_in):
    cases = [make_case(world) for _ in range(27)]
    client = signed_in(world.caseworker)
    first = client.get(MY_CASES)
    assert len(_references(first)) == 25
    assert _references(first)[0] == cases[-1].reference
    second = client.get(MY_CASES, {"page": 2})
    assert _references(second) == [cases[1].reference, cases[0].reference]
    assert "page=2" in first.content.decode()
    assert len(_references(client.get(MY_CASES, {"page": "999"}))) == 2  # past the end: the last page


@pytest.mark.parametrize("rows", [1, 25])
def test_caseworker_list_costs_a_fixed_number_of_queries(world, signed_in, django_assert_num_queries, rows):
    for _ in range(rows):
        make_case(world)
    client = signed_in(world.caseworker)
    # session, user, sign-in device, count, the nav's roles, the page (person and caseworker joined), and
    # the session's activity stamp (savepoint, update, release)
    with django_assert_num_queries(9):
        response = client.get(MY_CASES)
    assert len(_references(response)) == rows


@pytest.mark.parametrize("rows", [1, 25])
def test_supervisor_list_costs_a_fixed_number_of_queries(world, signed_in, django_assert_num_queries, rows):
    for _ in range(rows):
        make_case(world)
    client = signed_in(world.supervisor)
    # as the caseworker's list, plus the supervisor role check
    with django_assert_num_queries(10):
        response = client.get(SUPERVISION, {"state": "intake", "category": "sextortion"})
    assert len(_references(response)) == rows

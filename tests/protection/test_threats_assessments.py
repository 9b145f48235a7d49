"""Threat assessments: the score, the proposed level (never applied by itself), reviews due, access."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from casework.models import Person
from core.accounts.testing import sign_in
from core.audit.models import AuditEvent
from protection import threat_catalogue as catalogue
from protection.models import LevelChange, ThreatAssessment
from protection.queries.threats import threat_reviews_due
from protection.services.levels import protection_level_change
from protection.services.threats import threat_assessment_record
from tests.protection.conftest import make_case

pytestmark = pytest.mark.django_db

# organised_crime 5 + death_threat 6 + offender_knows_address 4 = 15 (restricted from 12)
HIGH = {
    "sources": ["organised_crime"],
    "threat_kinds": ["death_threat"],
    "vulnerabilities": ["offender_knows_address"],
}
# + physical_violence 5 + prior_violence 4 = 24 (sealed from 20)
VERY_HIGH = {
    "sources": ["organised_crime"],
    "threat_kinds": ["death_threat", "physical_violence"],
    "vulnerabilities": ["offender_knows_address", "prior_violence"],
}
LOW = {"sources": ["online_offender"], "threat_kinds": ["intimidation"], "vulnerabilities": []}


@pytest.fixture
def signed_in(client):
    def _sign_in(user):
        sign_in(client, user)
        return client

    return _sign_in


@pytest.fixture
def case(world):
    return make_case(world, with_counsellor=True)


def _assess(actor, case, values, *, days: int = 30, notes: str = "", now=None) -> ThreatAssessment:
    return threat_assessment_record(
        actor=actor, person=case.person, review_interval_days=days, notes=notes, now=now, **values
    )


def test_catalogue_score_and_thresholds():
    assert catalogue.threat_score(**HIGH) == 15
    assert catalogue.threat_score(**VERY_HIGH) == 24
    assert catalogue.threat_score(**LOW) == 5
    assert catalogue.threat_score(sources=["accused", "accused"], threat_kinds=[], vulnerabilities=[]) == 4
    assert [catalogue.level_for_score(score) for score in (0, 11, 12, 19, 20, 99)] == [
        "",
        "",
        "restricted",
        "restricted",
        "sealed",
        "sealed",
    ]
    codes = [
        factor.code
        for group in (catalogue.SOURCES, catalogue.THREAT_KINDS, catalogue.VULNERABILITIES)
        for factor in group
    ]
    assert len(codes) == len(set(codes))


def test_high_score_proposes_a_level_but_changes_nothing(world, unit, case):
    assessment = _assess(unit.officer, case, HIGH, notes="Calls from a prepaid number")
    assert (assessment.score, assessment.proposed_level) == (15, "restricted")
    assert Person.objects.get(pk=case.person_id).protection_level == "confidential"
    assert not LevelChange.objects.exists()
    event = AuditEvent.objects.get(action="protection.threat_assessed")
    assert (event.details["score"], event.details["proposed_level"]) == (15, "restricted")
    assert "notes" in event.fields
    assert _assess(unit.officer, case, VERY_HIGH).proposed_level == "sealed"
    assert _assess(unit.officer, case, LOW).proposed_level == ""


def test_no_proposal_at_or_below_the_current_level(world, unit):
    case = make_case(world, protection_level="restricted")
    assert _assess(unit.officer, case, HIGH).proposed_level == ""
    assert _assess(unit.officer, case, VERY_HIGH).proposed_level == "sealed"
    anonymous = make_case(world, protection_level="anonymous", legal_name="", preferred_name="")
    assert _assess(unit.officer, anonymous, VERY_HIGH).proposed_level == ""


def test_review_interval_and_next_review(world, unit, case):
    now = timezone.now()
    assessment = _assess(unit.officer, case, LOW, days=14, now=now)
    assert assessment.next_review_on == timezone.localdate(now) + dt.timedelta(days=14)
    for days in (0, 366, -1):
        with pytest.raises(ValidationError):
            _assess(unit.officer, case, LOW, days=days)
    assert ThreatAssessment.objects.count() == 1


def test_unknown_codes_refused(world, unit, case):
    with pytest.raises(ValidationError) as error:
        _assess(unit.officer, case, {**LOW, "threat_kinds": ["alien_abduction"]})
    assert "threat_kinds" in error.value.error_dict
    assert not ThreatAssessment.objects.exists()


def test_only_serving_officers_assess(world, unit, unserved_officer, case):
    for actor in (world.caseworker, world.supervisor, unserved_officer, world.outsider):
        with pytest.raises(PermissionDenied):
            _assess(actor, case, HIGH)
    assert not ThreatAssessment.objects.exists()


def test_notes_encrypted_at_rest(world, unit, case):
    _assess(unit.officer, case, LOW, notes="Offender drives a blue van")
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM protection_threatassessment")
        (stored,) = cursor.fetchone()
    assert "blue van" not in stored


def test_reviews_due_for_serving_officers_latest_only(world, unit, unserved_officer, case):
    past = timezone.now() - dt.timedelta(days=20)  # the arrangement began 30 days ago
    _assess(unit.officer, case, LOW, days=10, now=past)  # due, but superseded below
    other = make_case(world)
    due = _assess(unit.officer, other, HIGH, days=5, now=past)
    _assess(unit.officer, case, LOW, days=90)  # latest for case: not due
    rows = list(threat_reviews_due(unit.officer))
    assert [row.pk for row in rows] == [due.pk]
    assert rows[0].case_reference == other.reference
    assert list(threat_reviews_due(unserved_officer)) == []
    assert list(threat_reviews_due(world.caseworker)) == []
    later = timezone.now() + dt.timedelta(days=91)
    assert {row.person_id for row in threat_reviews_due(unit.officer, now=later)} == {
        case.person_id,
        other.person_id,
    }


# --- the page ------------------------------------------------------------------------------------------


def _url(case) -> str:
    return reverse("protection:threats", kwargs={"reference": case.reference})


def test_permission_matrix(client, world, unit, unserved_officer, case, signed_in):
    url = _url(case)
    assert client.get(url).status_code == 302
    expected = {
        world.outsider: 404,
        world.colleague: 404,
        world.other_team_caseworker: 404,
        unserved_officer: 404,
        world.caseworker: 403,
        world.counsellor: 403,
        world.supervisor: 403,
        unit.officer: 200,
    }
    for user, status in expected.items():
        client.logout()
        assert signed_in(user).get(url).status_code == status, user.username
    data = {**HIGH, "review_interval_days": "30", "notes": ""}
    for user, status in ((world.caseworker, 403), (unserved_officer, 404), (world.outsider, 404)):
        client.logout()
        assert signed_in(user).post(url, data).status_code == status
    assert not ThreatAssessment.objects.exists()


def test_officer_assesses_and_raises_with_the_button(world, unit, case, signed_in):
    client = signed_in(unit.officer)
    response = client.post(_url(case), {**HIGH, "review_interval_days": "400"})
    assert response.status_code == 200
    assert not ThreatAssessment.objects.exists()
    response = client.post(_url(case), {**HIGH, "review_interval_days": "30", "notes": "Seen near school"})
    assert response.status_code == 302
    page = client.get(_url(case)).content.decode()
    assert "Raise to Restricted" in page
    assert "Maria" not in page
    assert Person.objects.get(pk=case.person_id).protection_level == "confidential"
    response = client.post(
        reverse("protection:level_change", kwargs={"reference": case.reference}),
        {"to_level": "restricted", "expected_level": "confidential"},
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=case.person_id).protection_level == "restricted"
    assert "Raise to" not in client.get(_url(case)).content.decode()


def test_proposal_disappears_once_raised_elsewhere(world, unit, case):
    _assess(unit.officer, case, HIGH)
    protection_level_change(actor=world.caseworker, person=case.person, to_level="sealed", case=case)
    from protection.queries.threats import latest_threat_assessment, pending_level_proposal

    person = Person.objects.get(pk=case.person_id)
    assert pending_level_proposal(person=person, assessment=latest_threat_assessment(person=person)) == ""

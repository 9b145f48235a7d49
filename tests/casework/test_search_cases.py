"""Search: POST only, exact, only among the cases the user may see, never a value in the audit trail."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, ContactChannel, EmergencyAccess, ProtectionLevel
from casework.selectors.cases import CaseSearch, case_search
from casework.services.cases import case_open, person_create_for_intake
from core.audit.models import AuditEvent
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db

SEARCH = reverse("casework:search")
BIRTH = datetime.date(1990, 4, 2)


@pytest.fixture
def found(world) -> Case:
    case = make_case(world, legal_name="Zelda Testperson", preferred_name="Zed", date_of_birth=BIRTH)
    ContactChannel.objects.create(person=case.person, kind="phone", value="+44 20 7946 0123")
    ContactChannel.objects.create(person=case.person, kind="email", value="Zelda.Test@Example.org")
    return case


def _search(user, **terms) -> list[str]:
    return [case.reference for case in case_search(user, search=CaseSearch(**terms))]


def test_each_kind_finds_the_case(world, found):
    user = world.caseworker
    assert _search(user, reference=found.reference) == [found.reference]
    assert _search(user, reference=found.reference.lower()) == [found.reference]
    assert _search(user, pseudonym=found.person.pseudonym.upper()) == [found.reference]
    assert _search(user, name="  zelda   TESTPERSON ") == [found.reference]
    assert _search(user, name="zed") == [found.reference]
    assert _search(user, name="Zelda Testperson", date_of_birth=BIRTH) == [found.reference]
    assert _search(user, phone="0044 20-7946-0123") == [found.reference]
    assert _search(user, email="zelda.test@example.org") == [found.reference]


def test_near_misses_find_nothing(world, found):
    user = world.caseworker
    assert _search(user, name="Zelda") == []
    assert _search(user, name="Zelda Testperson", date_of_birth=datetime.date(1990, 4, 3)) == []
    assert _search(user, name="Zed", date_of_birth=BIRTH) == []  # a date goes with the legal name only
    assert _search(user, phone="+44 20 7946 0124") == []
    assert _search(user, reference="HV-1999-000001") == []
    assert _search(user, name="Zelda Testperson", email="other@example.org") == []  # criteria combine


def test_supervisor_finds_the_team_case(world, found):
    assert _search(world.supervisor, name="Zelda Testperson") == [found.reference]


@pytest.mark.parametrize(
    "who",
    [
        "colleague",
        "counsellor",
        "other_team_caseworker",
        "outsider",
        "outsider_supervisor",
        "auditor",
        "admin",
    ],
)
def test_nobody_else_finds_it(world, found, who):
    user = getattr(world, who)
    for terms in (
        {"reference": found.reference},
        {"pseudonym": found.person.pseudonym},
        {"name": "Zelda Testperson"},
        {"phone": "+442079460123"},
        {"email": "zelda.test@example.org"},
    ):
        assert _search(user, **terms) == [], terms


def test_another_organisation_with_the_same_name_is_never_found(world, found):
    person = person_create_for_intake(
        organisation_id=world.outsider_organisation.pk, role="victim", legal_name="Zelda Testperson"
    )
    theirs = case_open(actor=world.outsider, person=person, kind="victim_support", team=None)
    assert _search(world.caseworker, name="Zelda Testperson") == [found.reference]
    assert _search(world.outsider, name="Zelda Testperson") == [theirs.reference]


def test_a_live_emergency_access_makes_the_case_searchable(world, found):
    now = timezone.now()
    EmergencyAccess.objects.create(
        case=found,
        user=world.colleague,
        reason="Client called in distress",
        started_at=now,
        expires_at=now + datetime.timedelta(hours=4),
    )
    assert _search(world.colleague, name="Zelda Testperson") == [found.reference]
    EmergencyAccess.objects.filter(case=found).update(
        expires_at=now - datetime.timedelta(minutes=1), started_at=now - datetime.timedelta(hours=4)
    )
    assert _search(world.colleague, name="Zelda Testperson") == []


@pytest.mark.parametrize("level", [ProtectionLevel.RESTRICTED, ProtectionLevel.SEALED])
def test_a_protected_person_is_not_found_by_identity(world, level):
    case = make_case(world, legal_name="Yara Hiddenname", preferred_name="", protection_level=level)
    ContactChannel.objects.create(person=case.person, kind="phone", value="+33 1 23 45 67 89")
    assert _search(world.caseworker, name="Yara Hiddenname") == []
    assert _search(world.caseworker, phone="+33123456789") == []
    assert _search(world.supervisor, name="Yara Hiddenname") == []
    # The pseudonym and the reference are not identity: the case team still finds its case.
    assert _search(world.caseworker, pseudonym=case.person.pseudonym) == [case.reference]
    assert _search(world.caseworker, reference=case.reference) == [case.reference]


def test_an_open_person_is_found(world):
    case = make_case(world, legal_name="Olga Openperson", protection_level=ProtectionLevel.OPEN)
    assert _search(world.caseworker, name="Olga Openperson") == [case.reference]


def test_search_is_post_only(world, found, signed_in):
    client = signed_in(world.caseworker)
    assert client.get(SEARCH).status_code == 405
    assert client.get(SEARCH, {"name": "Zelda Testperson"}).status_code == 405
    assert not AuditEvent.objects.filter(action="case.searched").exists()


def test_anonymous_cannot_search(client, found):
    response = client.post(SEARCH, {"name": "Zelda Testperson"})
    assert response.status_code == 302
    assert "Zelda" not in response["Location"]


def test_search_page_shows_reference_and_pseudonym_and_keeps_the_form(world, found, signed_in):
    response = signed_in(world.caseworker).post(SEARCH, {"name": "Zelda Testperson"})
    assert response.status_code == 200
    page = response.content.decode()
    assert found.reference in page and found.person.pseudonym in page
    assert 'value="Zelda Testperson"' in page  # what was typed is still in the form
    assert not re.search(r"\bZed\b", page) and "7946 0123" not in page and "Example.org" not in page


def test_nothing_found_says_so(world, found, signed_in):
    page = signed_in(world.colleague).post(SEARCH, {"name": "Zelda Testperson"}).content.decode()
    assert "No case you may see matches this search." in page
    assert found.reference not in page


def test_a_date_of_birth_alone_is_refused(world, found, signed_in):
    response = signed_in(world.caseworker).post(SEARCH, {"date_of_birth": "1990-04-02"})
    page = response.content.decode()
    assert "A date of birth is searched only together with a name." in page
    assert found.reference not in page
    assert not AuditEvent.objects.filter(action="case.searched").exists()


def test_bad_input_is_explained(world, signed_in):
    client = signed_in(world.caseworker)
    assert "Enter a reference, a pseudonym" in client.post(SEARCH, {}).content.decode()
    assert "country code" in client.post(SEARCH, {"phone": "020 7946 0123"}).content.decode()


def test_the_audit_trail_records_kinds_never_values(world, found, signed_in):
    client = signed_in(world.caseworker)
    client.post(SEARCH, {"name": "Zelda Testperson", "date_of_birth": "1990-04-02", "phone": "+442079460123"})
    event = AuditEvent.objects.get(action="case.searched")
    assert event.actor_id == world.caseworker.pk
    assert sorted(event.fields) == ["date_of_birth", "legal_name", "phone"]
    assert event.details == {"results": 1}
    everything = str(AuditEvent.objects.values_list("fields", "details", "object_id"))
    assert "Zelda" not in everything and "7946" not in everything and "1990" not in everything

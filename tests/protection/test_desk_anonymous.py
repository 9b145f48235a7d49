"""Whistleblowers and anonymous people (issue "Protection", item 7).

An anonymous person (no identity collected) works end to end through the case pages; a restricted
whistleblower's name finds nothing in casework search without a grant, while the officer finds the person
by pseudonym.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from casework.models import IDENTITY_FIELDS, CaseKind, PersonRole, ProtectionLevel, RiskLevel
from casework.services.cases import case_counsellor_assign, case_open, person_create_for_intake
from core.audit.models import AuditEvent
from protection.models import DisclosureGrant
from tests.casework.conftest import make_case, signed_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

CASE_PAGES = ("case_detail", "contacts", "case_tasks", "safety_plan", "counselling", "person")


def _anonymous_case(world):
    person = person_create_for_intake(
        organisation_id=world.organisation.pk,
        role=PersonRole.WHISTLEBLOWER,
        protection_level=ProtectionLevel.ANONYMOUS,
    )
    case = case_open(
        actor=world.caseworker,
        person=person,
        kind=CaseKind.WHISTLEBLOWER_REPORT,
        team=world.team,
        categories=["fraud"],
        risk_level=RiskLevel.HIGH,
    )
    return case_counsellor_assign(actor=world.caseworker, case=case, counsellor=world.counsellor)


def test_an_anonymous_person_has_no_identity_at_all(world):
    case = _anonymous_case(world)
    person = case.person
    assert person.protection_level == ProtectionLevel.ANONYMOUS
    for name in IDENTITY_FIELDS:
        if name != "contact_channels":
            assert getattr(person, name) in (None, ""), name
    assert not person.channels.exists()


@pytest.mark.parametrize("page", CASE_PAGES)
def test_anonymous_person_works_through_the_case_pages(world, unit, signed_in, page):  # noqa: F811
    case = _anonymous_case(world)
    try:
        url = reverse(f"casework:{page}", kwargs={"reference": case.reference})
    except NoReverseMatch:
        pytest.skip(f"casework:{page} does not exist yet")
    users = [world.caseworker, world.supervisor]
    if page == "counselling":
        users = [world.counsellor]
    for user in users:
        response = signed_in(user).get(url)
        assert response.status_code == 200, (page, user.username, response.status_code)
        content = response.content.decode()
        assert case.person.pseudonym in content
        assert "/reveal" not in content, (page, user.username)
        assert "Reveal" not in content, (page, user.username)
        assert 'id="identity-title"' not in content
    assert not AuditEvent.objects.filter(action__in=["identity.revealed", "identity.viewed"]).exists()


def test_anonymous_person_on_the_officers_page(world, unit, signed_in):  # noqa: F811
    case = _anonymous_case(world)
    client = signed_in(unit.officer)
    response = client.get(reverse("protection:person", kwargs={"reference": case.reference}))
    content = response.content.decode()
    assert response.status_code == 200
    assert "no identity was collected" in content
    assert reverse("protection:person_reveal", kwargs={"reference": case.reference}) not in content
    response = client.post(reverse("protection:person_reveal", kwargs={"reference": case.reference}))
    assert response.status_code == 403  # nothing to reveal
    assert not AuditEvent.objects.filter(action__in=["identity.revealed", "identity.viewed"]).exists()
    response = client.post(reverse("protection:person_search"), {"term": case.person.pseudonym})
    assert case.reference in response.content.decode()
    assert client.get(reverse("protection:desk")).status_code == 200


# --- a restricted whistleblower and the casework search ------------------------------------------------


NAME = "Jonas Whistleblower"


def _restricted_whistleblower(world):
    return make_case(
        world,
        protection_level=ProtectionLevel.RESTRICTED,
        role=PersonRole.WHISTLEBLOWER,
        legal_name=NAME,
        preferred_name="Jonas",
    )


def _casework_search(client, **data):
    response = client.post(reverse("casework:search"), data)
    assert response.status_code == 200
    return response.content.decode()


def test_restricted_whistleblower_is_not_found_by_name_without_a_grant(world, unit, signed_in):  # noqa: F811
    case = _restricted_whistleblower(world)
    control = make_case(world, protection_level=ProtectionLevel.CONFIDENTIAL, legal_name="Carla Control")
    # The search works: the caseworker finds a confidential person by name.
    assert control.reference in _casework_search(signed_in(world.caseworker), name="Carla Control")
    for user in (
        world.caseworker,
        world.colleague,
        world.supervisor,
        world.second_supervisor,
        world.counsellor,
        world.auditor,
        world.outsider,
        unit.officer,
    ):
        client = signed_in(user)
        for data in ({"name": NAME}, {"name": "Jonas"}, {"name": NAME.lower()}):
            assert case.reference not in _casework_search(client, **data), (user.username, data)


def test_a_grant_holder_finds_the_whistleblower_by_name(world, unit, signed_in):  # noqa: F811
    case = _restricted_whistleblower(world)
    now = timezone.now()
    DisclosureGrant.objects.create(
        person=case.person,
        grantee=world.caseworker,
        kind=DisclosureGrant.Kind.REQUEST,
        fields=["legal_name"],
        granted_by=unit.officer,
        starts_at=now - dt.timedelta(minutes=1),
        expires_at=now + dt.timedelta(hours=72),
    )
    assert case.reference in _casework_search(signed_in(world.caseworker), name=NAME)
    assert case.reference not in _casework_search(signed_in(world.supervisor), name=NAME)


def test_the_officer_finds_the_whistleblower_by_pseudonym(world, unit, unserved_officer, signed_in):  # noqa: F811
    case = _restricted_whistleblower(world)
    url = reverse("protection:person_search")
    response = signed_in(unit.officer).post(url, {"term": case.person.pseudonym})
    assert reverse("protection:person", kwargs={"reference": case.reference}) in response.content.decode()
    assert NAME not in response.content.decode()
    response = signed_in(unit.officer).post(url, {"term": NAME})
    assert case.reference not in response.content.decode()
    response = signed_in(unserved_officer).post(url, {"term": case.person.pseudonym})
    assert case.reference not in response.content.decode()

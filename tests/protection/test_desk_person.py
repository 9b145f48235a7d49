"""The officer's search and person page: who reaches it, what it shows, one audit event per view."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from casework.models import ChannelKind, ContactChannel, PersonRole, ProtectionLevel
from core.audit.models import AuditEvent
from protection.views.desk import PERSON_LINKS
from tests.casework.conftest import make_case, signed_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _person_url(case):
    return reverse("protection:person", kwargs={"reference": case.reference})


@pytest.mark.parametrize("level", [ProtectionLevel.RESTRICTED, ProtectionLevel.SEALED])
def test_each_view_of_a_protected_person_writes_one_event_naming_fields(world, unit, signed_in, level):  # noqa: F811
    case = make_case(world, protection_level=level, legal_name="Sofia Hidden", preferred_name="Sof")
    ContactChannel.objects.create(person=case.person, kind=ChannelKind.PHONE, value="+44 20 7946 0000")
    client = signed_in(unit.officer)

    response = client.get(_person_url(case))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Sofia Hidden" in content and "+44 20 7946 0000" in content
    viewed = _events("identity.viewed")
    assert len(viewed) == 1
    event = viewed[0]
    assert event.fields == ["preferred_name", "legal_name", "contact_channels"]
    assert event.organisation_id == world.organisation.pk
    assert event.actor_id == unit.officer.pk
    assert (event.object_type, event.object_id) == ("casework.case", str(case.pk))
    assert event.details == {"person": case.person_id, "purpose": "protection"}
    assert "Sofia" not in repr(event.details) + repr(event.fields)

    client.get(_person_url(case))
    assert len(_events("identity.viewed")) == 2  # one per page view
    assert _events("identity.revealed") == []


def test_a_confidential_person_is_masked_until_revealed(world, unit, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.CONFIDENTIAL, legal_name="Carla Confidential")
    client = signed_in(unit.officer)
    response = client.get(_person_url(case))
    content = response.content.decode()
    assert "Carla Confidential" not in content
    assert reverse("protection:person_reveal", kwargs={"reference": case.reference}) in content
    assert _events("identity.viewed") == [] and _events("identity.revealed") == []

    response = client.post(reverse("protection:person_reveal", kwargs={"reference": case.reference}))
    assert response.status_code == 200
    assert "Carla Confidential" in response.content.decode()
    revealed = _events("identity.revealed")
    assert len(revealed) == 1
    assert revealed[0].organisation_id == world.organisation.pk
    assert "legal_name" in revealed[0].fields
    assert "Carla" not in repr(revealed[0].details)

    # The value was for that one response: the next page view is masked again.
    assert "Carla Confidential" not in client.get(_person_url(case)).content.decode()


def test_reveal_is_post_only(world, unit, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.CONFIDENTIAL)
    url = reverse("protection:person_reveal", kwargs={"reference": case.reference})
    assert signed_in(unit.officer).get(url).status_code == 405
    assert _events("identity.revealed") == []


def test_an_open_person_is_shown_without_an_audit_event(world, unit, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.OPEN, legal_name="Olga Open")
    response = signed_in(unit.officer).get(_person_url(case))
    assert "Olga Open" in response.content.decode()
    assert _events("identity.viewed") == []


def test_an_officer_of_another_unit_gets_404_like_a_missing_case(world, unit, unserved_officer, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    client = signed_in(unserved_officer)
    assert client.get(_person_url(case)).status_code == 404
    assert client.get(reverse("protection:person", kwargs={"reference": "HV-2000-999999"})).status_code == 404
    reveal = reverse("protection:person_reveal", kwargs={"reference": case.reference})
    assert client.post(reveal).status_code == 404
    assert _events("identity.viewed") == [] and _events("identity.revealed") == []


def test_the_case_team_gets_403_with_a_reason_others_404(world, unit, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED, with_counsellor=True)
    for member in (world.caseworker, world.supervisor, world.colleague, world.counsellor):
        response = signed_in(member).get(_person_url(case))
        assert response.status_code == 403, member.username
        assert "Only the protection officers serving this support service" in response.content.decode()
    for stranger in (world.outsider, world.auditor, world.admin, world.other_team_caseworker):
        assert signed_in(stranger).get(_person_url(case)).status_code == 404, stranger.username
    assert _events("identity.viewed") == []


def test_a_case_of_an_unserved_organisation_is_404_even_for_our_officer(world, unit, signed_in):  # noqa: F811
    from tests.protection.test_desk_queues import _outsider_case

    theirs = _outsider_case(world)
    assert signed_in(unit.officer).get(_person_url(theirs)).status_code == 404


def test_links_to_the_other_protection_pages_only_when_they_exist(world, unit, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    content = signed_in(unit.officer).get(_person_url(case)).content.decode()
    for name, _label in PERSON_LINKS:
        try:
            url = reverse(name, kwargs={"reference": case.reference})
        except NoReverseMatch:
            continue
        assert f'href="{url}"' in content


# --- search ---------------------------------------------------------------------------------------------


def test_search_by_reference_or_pseudonym_among_served_people(world, unit, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.SEALED, role=PersonRole.WHISTLEBLOWER)
    client = signed_in(unit.officer)
    url = reverse("protection:person_search")
    for term in (
        case.reference,
        case.reference.lower(),
        case.person.pseudonym,
        f"  {case.person.pseudonym} ",
    ):
        response = client.post(url, {"term": term})
        assert response.status_code == 200
        assert reverse("protection:person", kwargs={"reference": case.reference}) in response.content.decode()
    response = client.post(url, {"term": "Maria Example"})  # never by name
    assert case.reference not in response.content.decode()
    searched = _events("protection.person_searched")
    assert [event.details for event in searched] == [{"result_count": 1}] * 4 + [{"result_count": 0}]
    assert _events("identity.viewed") == []


def test_search_refuses_other_units_get_and_empty_input(world, unit, unserved_officer, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.SEALED)
    url = reverse("protection:person_search")
    response = signed_in(unserved_officer).post(url, {"term": case.person.pseudonym})
    assert response.status_code == 200
    assert case.reference not in response.content.decode()
    assert signed_in(unit.officer).get(url).status_code == 405
    response = signed_in(unit.officer).post(url, {"term": "   "})
    assert response.status_code == 400
    response = signed_in(world.caseworker).post(url, {"term": case.person.pseudonym})
    assert response.status_code == 403
    assert case.reference not in response.content.decode()

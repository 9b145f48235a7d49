"""Protection level changes: raise (case team or officer), lower (officer with a reason), floors, grants."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, Person
from core.accounts.testing import sign_in
from core.audit.models import AuditEvent
from core.notifications.models import Notification
from protection.models import DisclosureGrant, LevelChange
from protection.services.levels import StaleLevel, protection_level_change
from protection.signals import protection_level_raised
from tests.protection.conftest import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    def _sign_in(user):
        sign_in(client, user)
        return client

    return _sign_in


@pytest.fixture
def case(world):
    return make_case(world, with_counsellor=True)


def _url(case: Case) -> str:
    return reverse("protection:level_change", kwargs={"reference": case.reference})


def _level(case: Case) -> str:
    return Person.objects.get(pk=case.person_id).protection_level


def _grant(person: Person, grantee, granted_by, *, hours: int = 72) -> DisclosureGrant:
    now = timezone.now()
    return DisclosureGrant.objects.create(
        person=person,
        grantee=grantee,
        kind=DisclosureGrant.Kind.REQUEST,
        fields=["legal_name"],
        purpose="Court letter",
        granted_by=granted_by,
        starts_at=now - dt.timedelta(hours=1),
        expires_at=now + dt.timedelta(hours=hours),
    )


# --- services ------------------------------------------------------------------------------------------


def test_caseworker_raises_immediately_with_history_audit_version_and_officer_notice(world, unit, case):
    version = case.version
    change = protection_level_change(
        actor=world.caseworker, person=case.person, to_level="restricted", case=case
    )
    assert _level(case) == "restricted"
    assert (change.from_level, change.to_level, change.changed_by) == (
        "confidential",
        "restricted",
        world.caseworker,
    )
    assert Case.objects.get(pk=case.pk).version == version + 1
    event = AuditEvent.objects.get(action="protection.level_changed")
    assert event.details["from"] == "confidential"
    assert event.details["to"] == "restricted"
    assert event.details["direction"] == "raised"
    assert event.organisation_id == world.organisation.pk
    notices = Notification.objects.filter(kind="protection.level_raised").order_by("recipient_id")
    assert [notice.recipient for notice in notices] == [unit.officer, unit.second_officer]
    assert {notice.reference for notice in notices} == {case.reference}
    assert {notice.link_path for notice in notices} == {_url(case)}


def test_officer_raise_does_not_notify_officers(world, unit, case):
    protection_level_change(actor=unit.officer, person=case.person, to_level="sealed")
    assert _level(case) == "sealed"
    assert not Notification.objects.filter(kind="protection.level_raised").exists()


def test_lowering_needs_an_officer_and_a_reason(world, unit, case):
    with pytest.raises(PermissionDenied):
        protection_level_change(
            actor=world.caseworker, person=case.person, to_level="open", reason="Safe now"
        )
    with pytest.raises(ValidationError) as error:
        protection_level_change(actor=unit.officer, person=case.person, to_level="open", reason="   ")
    assert "reason" in error.value.error_dict
    assert _level(case) == "confidential"
    assert not LevelChange.objects.exists()
    assert not AuditEvent.objects.filter(action="protection.level_changed").exists()
    change = protection_level_change(
        actor=unit.officer, person=case.person, to_level="open", reason="The threat ended in court."
    )
    assert _level(case) == "open"
    assert change.reason == "The threat ended in court."
    assert AuditEvent.objects.get(action="protection.level_changed").fields == ["protection_level", "reason"]


def test_minor_never_below_confidential(world, unit):
    case = make_case(world, is_minor=True, protection_level="restricted")
    protection_level_change(actor=unit.officer, person=case.person, to_level="confidential", reason="Calmer")
    with pytest.raises(ValidationError) as error:
        protection_level_change(
            actor=unit.officer, person=case.person, to_level="open", reason="Calmer still"
        )
    assert error.value.error_dict["to_level"][0].messages == ["A minor is always at least confidential."]
    assert _level(case) == "confidential"


@pytest.mark.parametrize(("start", "target"), [("confidential", "anonymous"), ("anonymous", "sealed")])
def test_anonymous_is_chosen_at_intake_only(world, unit, start, target):
    case = make_case(world, protection_level=start, legal_name="", preferred_name="")
    with pytest.raises(ValidationError) as error:
        protection_level_change(actor=unit.officer, person=case.person, to_level=target, reason="Because")
    assert "Anonymous is chosen at intake only" in error.value.error_dict["to_level"][0].messages[0]
    assert _level(case) == start


def test_same_level_and_unknown_level_refused(world, unit, case):
    for level in ("confidential", "topsecret"):
        with pytest.raises(ValidationError):
            protection_level_change(actor=unit.officer, person=case.person, to_level=level, reason="x")
    assert not LevelChange.objects.exists()


def test_strangers_cannot_change_any_level(world, unit, unserved_officer, case):
    for actor in (world.outsider, world.colleague, world.counsellor, unserved_officer, world.admin):
        with pytest.raises(PermissionDenied):
            protection_level_change(actor=actor, person=case.person, to_level="sealed")
    assert _level(case) == "confidential"


def test_stale_expected_level_refused(world, unit, case):
    protection_level_change(actor=unit.officer, person=case.person, to_level="restricted")
    with pytest.raises(StaleLevel):
        protection_level_change(
            actor=unit.second_officer, person=case.person, to_level="sealed", expected_level="confidential"
        )
    assert _level(case) == "restricted"


def test_raising_ends_live_grants_and_sends_the_signal(world, unit, case):
    live = _grant(case.person, world.caseworker, unit.officer)
    other_person_case = make_case(world)
    other = _grant(other_person_case.person, world.caseworker, unit.officer)
    received: list[dict] = []

    def receiver(sender, **kwargs):  # type: ignore[no-untyped-def]
        received.append(kwargs)

    protection_level_raised.connect(receiver)
    try:
        protection_level_change(actor=world.caseworker, person=case.person, to_level="sealed", case=case)
    finally:
        protection_level_raised.disconnect(receiver)
    live.refresh_from_db()
    other.refresh_from_db()
    assert live.revoked_at is not None
    assert live.ended_reason == "level_raised"
    assert other.revoked_at is None
    assert [{"person_id": item["person_id"]} for item in received] == [{"person_id": case.person_id}]


def test_lowering_keeps_grants_and_sends_no_signal(world, unit):
    case = make_case(world, protection_level="sealed")
    grant = _grant(case.person, world.caseworker, unit.officer)
    received: list[dict] = []

    def receiver(sender, **kwargs):  # type: ignore[no-untyped-def]
        received.append(kwargs)

    protection_level_raised.connect(receiver)
    try:
        protection_level_change(
            actor=unit.officer, person=case.person, to_level="restricted", reason="Calmer"
        )
    finally:
        protection_level_raised.disconnect(receiver)
    grant.refresh_from_db()
    assert grant.revoked_at is None
    assert received == []


def test_reason_is_encrypted_at_rest(world, unit, case):
    protection_level_change(
        actor=unit.officer, person=case.person, to_level="sealed", reason="Threat from organised group"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM protection_levelchange")
        (stored,) = cursor.fetchone()
    assert "organised" not in stored
    assert LevelChange.objects.get().reason == "Threat from organised group"


# --- the page ------------------------------------------------------------------------------------------


def test_permission_matrix_get(client, world, unit, unserved_officer, case, signed_in):
    url = _url(case)
    response = client.get(url)
    assert response.status_code == 302
    expected = {
        world.outsider: 404,
        world.colleague: 404,
        world.other_team_caseworker: 404,
        unserved_officer: 404,
        world.counsellor: 403,
        world.caseworker: 200,
        world.supervisor: 200,
        unit.officer: 200,
    }
    for user, status in expected.items():
        client.logout()
        assert signed_in(user).get(url).status_code == status, user.username
    client.logout()
    assert signed_in(world.counsellor).get(url).content.decode().count("Only the case&#x27;s caseworker") == 1


def test_caseworker_raises_on_the_page(world, unit, case, signed_in):
    response = signed_in(world.caseworker).post(
        _url(case), {"to_level": "restricted", "expected_level": "confidential", "reason": ""}
    )
    assert response.status_code == 302
    assert _level(case) == "restricted"


def test_caseworker_lowering_on_the_page_is_403_with_reason(world, unit, case, signed_in):
    response = signed_in(world.caseworker).post(
        _url(case), {"to_level": "open", "expected_level": "confidential", "reason": "Safe"}
    )
    assert response.status_code == 403
    assert "Only a protection officer can lower a protection level." in response.content.decode()
    assert _level(case) == "confidential"
    assert not LevelChange.objects.exists()


def test_officer_lowering_without_reason_shows_the_error(world, unit, case, signed_in):
    response = signed_in(unit.officer).post(
        _url(case), {"to_level": "open", "expected_level": "confidential"}
    )
    assert response.status_code == 200
    assert "Give the reason for lowering the protection level." in response.content.decode()
    assert _level(case) == "confidential"
    response = signed_in(unit.officer).post(
        _url(case), {"to_level": "open", "expected_level": "confidential", "reason": "Proceedings ended"}
    )
    assert response.status_code == 302
    assert _level(case) == "open"


def test_refusals_change_nothing(client, world, unit, unserved_officer, case, signed_in):
    data = {"to_level": "sealed", "expected_level": "confidential"}
    assert client.post(_url(case), data).status_code == 302  # to sign in
    for user, status in ((world.outsider, 404), (unserved_officer, 404), (world.counsellor, 403)):
        client.logout()
        assert signed_in(user).post(_url(case), data).status_code == status
    assert _level(case) == "confidential"
    assert not LevelChange.objects.exists()
    assert not Notification.objects.exists()


def test_stale_form_keeps_the_typed_reason(world, unit, case, signed_in):
    protection_level_change(actor=unit.second_officer, person=case.person, to_level="restricted")
    response = signed_in(unit.officer).post(
        _url(case), {"to_level": "open", "expected_level": "confidential", "reason": "My typed reason"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "changed this person&#x27;s protection level meanwhile" in body
    assert "My typed reason" in body
    assert _level(case) == "restricted"


def test_page_shows_no_identity(world, unit, case, signed_in):
    protection_level_change(actor=unit.officer, person=case.person, to_level="sealed")
    for user in (world.caseworker, unit.officer):
        body = signed_in(user).get(_url(case)).content.decode()
        assert "Maria" not in body
        assert case.person.pseudonym in body

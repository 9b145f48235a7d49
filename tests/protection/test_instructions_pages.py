"""Handling instructions: officers write (versioned, encrypted), the case team reads them without identity."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse

from core.accounts.testing import sign_in
from core.audit.models import AuditEvent
from protection.models import HandlingInstruction
from protection.queries.instructions import handling_instruction_for
from protection.services.instructions import StaleInstruction, handling_instruction_save
from tests.protection.conftest import make_case

pytestmark = pytest.mark.django_db

TEXT = "Never call before 18:00. Use the code word before speaking."


@pytest.fixture
def signed_in(client):
    def _sign_in(user):
        sign_in(client, user)
        return client

    return _sign_in


@pytest.fixture
def case(world):
    return make_case(world, with_counsellor=True, protection_level="restricted")


def _url(case) -> str:
    return reverse("protection:instructions", kwargs={"reference": case.reference})


def test_officer_writes_and_updates_with_versions_and_audit(world, unit, case):
    first = handling_instruction_save(actor=unit.officer, person=case.person, text=TEXT, expected_version=0)
    assert first.version == 1
    second = handling_instruction_save(
        actor=unit.second_officer, person=case.person, text="Only by e-mail.", expected_version=1
    )
    assert (second.pk, second.version, second.text, second.updated_by) == (
        first.pk,
        2,
        "Only by e-mail.",
        unit.second_officer,
    )
    events = AuditEvent.objects.filter(action="protection.instructions_saved").order_by("sequence")
    assert [event.details["version"] for event in events] == [1, 2]
    assert [event.fields for event in events] == [["text"], ["text"]]


def test_stale_edit_refused(world, unit, case):
    handling_instruction_save(actor=unit.officer, person=case.person, text=TEXT, expected_version=0)
    with pytest.raises(StaleInstruction):
        handling_instruction_save(
            actor=unit.second_officer, person=case.person, text="Other", expected_version=0
        )
    assert handling_instruction_for(case.person).text == TEXT


def test_only_officers_write(world, unit, unserved_officer, case):
    for actor in (world.caseworker, world.supervisor, unserved_officer, world.outsider):
        with pytest.raises(PermissionDenied):
            handling_instruction_save(actor=actor, person=case.person, text=TEXT, expected_version=0)
    with pytest.raises(ValidationError):
        handling_instruction_save(actor=unit.officer, person=case.person, text="   ", expected_version=0)
    assert not HandlingInstruction.objects.exists()


def test_text_encrypted_at_rest(world, unit, case):
    handling_instruction_save(actor=unit.officer, person=case.person, text=TEXT, expected_version=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM protection_handlinginstruction")
        (stored,) = cursor.fetchone()
    assert "code word" not in stored


def test_panel_include_shows_the_text_and_no_identity(world, unit, case):
    instruction = handling_instruction_save(
        actor=unit.officer, person=case.person, text=TEXT, expected_version=0
    )
    html = render_to_string("protection/instructions/_panel.html", {"handling_instruction": instruction})
    assert "Never call before 18:00." in html
    assert "Maria" not in html
    assert "Mari" not in html
    assert case.person.pseudonym not in html
    empty = render_to_string("protection/instructions/_panel.html", {"handling_instruction": None})
    assert "no handling instructions" in empty


def test_permission_matrix(client, world, unit, unserved_officer, case, signed_in):
    handling_instruction_save(actor=unit.officer, person=case.person, text=TEXT, expected_version=0)
    url = _url(case)
    assert client.get(url).status_code == 302
    expected = {
        world.outsider: 404,
        world.colleague: 404,
        world.other_team_caseworker: 404,
        unserved_officer: 404,
        world.caseworker: 200,
        world.counsellor: 200,
        world.supervisor: 200,
        unit.officer: 200,
    }
    for user, status in expected.items():
        client.logout()
        response = signed_in(user).get(url)
        assert response.status_code == status, user.username
        if status == 200:
            body = response.content.decode()
            assert "Never call before 18:00." in body
            assert "Maria" not in body
            assert ('name="text"' in body) is (user == unit.officer)


def test_case_team_cannot_post(client, world, unit, unserved_officer, case, signed_in):
    data = {"text": "Changed by the team", "version": "0"}
    for user, status in (
        (world.caseworker, 403),
        (world.counsellor, 403),
        (world.outsider, 404),
        (unserved_officer, 404),
    ):
        client.logout()
        response = signed_in(user).post(_url(case), data)
        assert response.status_code == status
    client.logout()
    assert (
        "Only a protection officer serving this organisation"
        in signed_in(world.caseworker).post(_url(case), data).content.decode()
    )
    assert not HandlingInstruction.objects.exists()
    assert not AuditEvent.objects.filter(action="protection.instructions_saved").exists()


def test_officer_page_saves_and_stale_keeps_the_typed_text(world, unit, case, signed_in):
    client = signed_in(unit.officer)
    assert client.post(_url(case), {"text": TEXT, "version": "0"}).status_code == 302
    handling_instruction_save(
        actor=unit.second_officer, person=case.person, text="Newer text", expected_version=1
    )
    response = client.post(_url(case), {"text": "My careful edit", "version": "1"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "My careful edit" in body
    assert "Newer text" in body
    assert 'name="version" value="2"' in body
    assert handling_instruction_for(case.person).text == "Newer text"

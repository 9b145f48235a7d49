"""The person section: masked identity, reveal (audited, this response only), audited views, edits."""

from __future__ import annotations

import pytest
from django.test import Client

from casework.models import Case, ContactChannel, Person, ProtectionLevel
from core.audit.models import AuditEvent
from tests.casework.conftest import make_case

pytestmark = [pytest.mark.django_db]

LEGAL = "Maria Example"


def url(case: Case, suffix: str = "") -> str:
    return f"/en/cases/{case.reference}/person/{suffix}"


@pytest.fixture
def person_case(world):  # type: ignore[no-untyped-def]
    case = make_case(world, with_counsellor=True, online_handles="@maria_private")
    ContactChannel.objects.create(person=case.person, kind="phone", value="+44 20 7946 0000")
    return case


def test_identity_is_masked_until_revealed_and_the_reveal_is_audited(world, signed_in, person_case):
    client = signed_in(world.caseworker)
    page = client.get(url(person_case))
    assert page.status_code == 200
    body = page.content.decode()
    assert LEGAL not in body and "+44 20 7946 0000" not in body and person_case.person.pseudonym in body
    assert "Reveal identity" in body
    revealed = client.post(url(person_case, "reveal/"))
    assert revealed.status_code == 200
    body = revealed.content.decode()
    assert LEGAL in body and "@maria_private" in body and "+44 20 7946 0000" in body
    event = AuditEvent.objects.get(action="identity.revealed")
    assert event.actor_id == world.caseworker.pk and event.object_id == str(person_case.pk)
    assert "legal_name" in event.fields and "contact_channels" in event.fields
    assert LEGAL not in str(event.details)
    # Nothing was kept: the next view is masked again, and the session holds no value.
    assert LEGAL not in client.get(url(person_case)).content.decode()
    assert LEGAL not in str(dict(client.session.items()))


def test_a_counsellor_sees_masked_identity_and_may_reveal_but_not_edit(world, signed_in, person_case):
    client = signed_in(world.counsellor)
    body = client.get(url(person_case)).content.decode()
    assert LEGAL not in body and "Change the person" not in body
    assert LEGAL in client.post(url(person_case, "reveal/")).content.decode()
    assert client.get(url(person_case, "edit/")).status_code == 403
    assert client.get(url(person_case, "channels/add/")).status_code == 403


@pytest.mark.parametrize(
    "who", ["outsider", "outsider_supervisor", "other_team_caseworker", "colleague", "auditor"]
)
def test_outsiders_get_404_everywhere(world, signed_in, person_case, who):
    client = signed_in(getattr(world, who))
    channel = ContactChannel.objects.get()
    for path in ("", "edit/", "channels/add/", f"channels/{channel.pk}/edit/"):
        assert client.get(url(person_case, path)).status_code == 404
    assert client.post(url(person_case, "reveal/")).status_code == 404
    assert client.post(url(person_case, "edit/"), {"version": "1", "role": "witness"}).status_code == 404
    assert not AuditEvent.objects.filter(action="identity.revealed").exists()
    assert Client().get(url(person_case)).status_code == 302


def test_a_restricted_person_is_hidden_and_an_officer_view_is_audited(
    world, signed_in, person_case, monkeypatch
):
    Person.objects.filter(pk=person_case.person_id).update(protection_level=ProtectionLevel.RESTRICTED)
    client = signed_in(world.caseworker)
    body = client.get(url(person_case)).content.decode()
    assert LEGAL not in body and "Reveal identity" not in body
    assert client.post(url(person_case, "reveal/")).status_code == 403
    # Editing shows no identity field the caseworker may not see; posting one changes nothing.
    edit = client.get(url(person_case, "edit/")).content.decode()
    assert 'name="legal_name"' not in edit
    client.post(
        url(person_case, "edit/"),
        {"version": str(person_case.version), "role": "victim", "language": "es", "legal_name": "Changed"},
    )
    assert Person.objects.get().legal_name == LEGAL
    assert client.get(url(person_case, "channels/add/")).status_code == 403

    from protection import selectors

    monkeypatch.setattr(selectors, "granted_identity_fields", lambda **kwargs: frozenset({"legal_name"}))
    body = client.get(url(person_case)).content.decode()
    assert LEGAL in body and "@maria_private" not in body
    event = AuditEvent.objects.get(action="identity.viewed")
    assert event.fields == ["legal_name"]


def test_editing_with_a_stale_version_is_refused_and_keeps_the_typed_text(world, signed_in, person_case):
    client = signed_in(world.caseworker)
    form = client.get(url(person_case, "edit/"))
    assert LEGAL in form.content.decode()  # the form shows the values: that is a reveal, audited
    assert AuditEvent.objects.filter(action="identity.revealed", details__purpose="edit").exists()
    answers = {
        "version": str(person_case.version),
        "role": "victim",
        "language": "es",
        "preferred_name": "Mariela",
        "preferred_name_status": "answered",
        "legal_name": LEGAL,
        "legal_name_status": "answered",
        "online_handles": "@maria_private",
        "online_handles_status": "answered",
    }
    for name in ("other_names", "date_of_birth", "nationality", "address", "identity_documents"):
        answers[f"{name}_status"] = "unknown"
    Case.objects.filter(pk=person_case.pk).update(version=person_case.version + 1)
    stale = client.post(url(person_case, "edit/"), answers)
    assert stale.status_code == 409
    assert "Someone else changed this case" in stale.content.decode() and "Mariela" in stale.content.decode()
    assert Person.objects.get().preferred_name == "Mari"
    answers["version"] = str(person_case.version + 1)
    assert client.post(url(person_case, "edit/"), answers).status_code == 302
    person = Person.objects.get()
    assert person.preferred_name == "Mariela" and person.answer_status["nationality"] == "unknown"
    event = AuditEvent.objects.get(action="person.updated")
    assert "preferred_name" in event.fields and "Mariela" not in str(event.details)


def test_a_future_birth_date_is_refused_on_edit(world, signed_in, person_case):
    client = signed_in(world.caseworker)
    response = client.post(
        url(person_case, "edit/"),
        {
            "version": str(person_case.version),
            "role": "victim",
            "language": "es",
            "date_of_birth": "2999-01-01",
        },
    )
    assert response.status_code == 200
    assert "A date of birth cannot be in the future." in response.content.decode()
    assert not AuditEvent.objects.filter(action="person.updated").exists()


def test_channels_need_a_country_code_and_compromise_is_audited(world, signed_in, person_case, monkeypatch):
    client = signed_in(world.caseworker)
    refused = client.post(
        url(person_case, "channels/add/"),
        {"version": str(person_case.version), "kind": "phone", "value": "020 7946 0001", "safety": "safe"},
    )
    assert refused.status_code == 200
    assert "Enter the phone number with its country code" in refused.content.decode()
    assert ContactChannel.objects.count() == 1
    calls = []
    from casework.services import people

    monkeypatch.setattr(people, "channel_unsafe_notify_partners", lambda **kwargs: calls.append(kwargs))
    channel = ContactChannel.objects.get()
    client.get(url(person_case, f"channels/{channel.pk}/edit/"))
    person_case.refresh_from_db()
    response = client.post(
        url(person_case, f"channels/{channel.pk}/edit/"),
        {
            "version": str(person_case.version),
            "kind": "phone",
            "value": "+44 20 7946 0000",
            "safety": "compromised",
        },
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.safety == "compromised"
    assert calls == [{"channel_id": channel.pk}]
    event = AuditEvent.objects.get(action="channel.marked_unsafe")
    assert event.fields == ["safety"] and "7946" not in str(event.details)

"""Who may open, resume and autosave a draft; autosave's optimistic concurrency."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from casework.models import Person, ProtectionLevel
from casework.services.intake import draft_data
from core.audit.models import AuditEvent
from tests.casework.conftest import make_case
from tests.casework.test_intake_support import (  # noqa: F401
    channel_answers,
    person_answers,
    post_step,
    start_draft,
    step_url,
)

pytestmark = [pytest.mark.django_db]


def autosave(client, draft, *, version, step="person", data=None):  # type: ignore[no-untyped-def]
    return client.post(
        f"/en/cases/intake/{draft.pk}/autosave/",
        data=json.dumps({"step": step, "version": version, "data": data or {"preferred_name": "Mar"}}),
        content_type="application/json",
    )


def test_autosave_saves_as_typed_and_refuses_a_stale_version(world, signed_in):
    client = signed_in(world.caseworker)
    draft = start_draft(client)
    response = autosave(client, draft, version=draft.version, data={"preferred_name": "Mar", "unknown": "x"})
    assert response.status_code == 204
    assert response["X-Draft-Version"] == str(draft.version + 1)
    draft.refresh_from_db()
    assert draft_data(draft)["steps"]["person"] == {"preferred_name": "Mar"}
    assert draft_data(draft)["done"] == []
    stale = autosave(client, draft, version=draft.version - 1)
    assert stale.status_code == 409
    assert "saved from another window or by a colleague" in stale.json()["message"]
    assert not AuditEvent.objects.filter(action="intake.step_saved").exists()  # autosaves are not audited
    assert autosave(client, draft, version=draft.version, step="nonsense").status_code == 400
    bad = client.post(f"/en/cases/intake/{draft.pk}/autosave/", data="{", content_type="application/json")
    assert bad.status_code == 400


def test_autosave_refuses_anonymous_and_outsiders(world, signed_in):
    draft = start_draft(signed_in(world.caseworker))
    anonymous = autosave(Client(), draft, version=draft.version)
    assert anonymous.status_code == 403
    for user in (world.outsider, world.other_team_caseworker):
        assert autosave(signed_in(user), draft, version=draft.version).status_code == 404
    assert autosave(signed_in(world.counsellor), draft, version=draft.version).status_code == 403
    draft.refresh_from_db()
    assert draft_data(draft)["steps"] == {}


def test_a_colleague_of_the_team_resumes_the_draft_audited(world, signed_in, client):
    owner = Client()
    from core.accounts.testing import sign_in

    sign_in(owner, world.caseworker)
    draft = start_draft(owner)
    post_step(owner, draft, "person", person_answers())
    draft.refresh_from_db()
    owner_version = draft.version

    colleague = signed_in(world.colleague)
    listing = colleague.get("/en/cases/intake/start/").content.decode()
    assert f"/en/cases/intake/{draft.pk}/resume/" in listing
    page = colleague.get(step_url(draft, "channels"))
    assert page.status_code == 200 and "Resume this draft" in page.content.decode()
    assert colleague.post(f"/en/cases/intake/{draft.pk}/resume/").status_code == 302
    event = AuditEvent.objects.get(action="intake.resumed")
    assert event.actor_id == world.colleague.pk and event.object_id == str(draft.pk)
    assert colleague.get(step_url(draft, "channels")).status_code == 200
    assert post_step(colleague, draft, "channels", channel_answers()).status_code == 302
    # The first caseworker's open window is refused instead of overwriting the colleague's work.
    assert autosave(owner, draft, version=owner_version).status_code == 409


@pytest.mark.parametrize("who", ["other_team_caseworker", "outsider", "outsider_supervisor"])
def test_other_teams_and_organisations_get_404(world, signed_in, who):
    draft = start_draft(signed_in(world.caseworker))
    client = signed_in(getattr(world, who))
    assert client.get(step_url(draft, "person")).status_code == 404
    assert client.post(f"/en/cases/intake/{draft.pk}/resume/").status_code == 404
    assert client.post(f"/en/cases/intake/{draft.pk}/submit/", {"draft_version": "1"}).status_code == 404
    assert client.post(f"/en/cases/intake/{draft.pk}/abandon/", {"draft_version": "1"}).status_code == 404
    assert f"/intake/{draft.pk}/" not in client.get("/en/cases/intake/start/").content.decode()
    assert not AuditEvent.objects.filter(action="intake.resumed").exists()


def test_only_caseworkers_and_supervisors_take_intakes(world, signed_in):
    assert signed_in(world.counsellor).get("/en/cases/intake/start/").status_code == 403
    assert signed_in(world.auditor).post("/en/cases/intake/start/").status_code == 403
    assert Client().get("/en/cases/intake/start/").status_code == 302  # to the sign-in page
    assert signed_in(world.supervisor).post("/en/cases/intake/start/").status_code == 302


# --- Possible duplicates ----------------------------------------------------------------------------------


def _person_step(client, world, **overrides):  # type: ignore[no-untyped-def]
    draft = start_draft(client)
    post_step(client, draft, "person", person_answers(**overrides))
    return draft


def test_duplicates_are_shown_only_among_visible_cases(world, signed_in):
    import datetime as dt

    visible = make_case(world, legal_name="Maria Testperson", date_of_birth=dt.date(1990, 4, 30))
    hidden = make_case(world, legal_name="Maria Testperson", date_of_birth=dt.date(1990, 4, 30))
    from casework.models import Case

    Case.objects.filter(pk=hidden.pk).update(team=world.other_team)
    from core.permissions import perm_revoke

    for perm in ("view_case", "change_case", "reveal_identity"):
        perm_revoke(
            actor=world.admin, perm=f"casework.{perm}", obj=hidden, user=world.caseworker, reason_code="test"
        )
    client = signed_in(world.caseworker)
    draft = _person_step(client, world)
    body = client.get(step_url(draft, "channels")).content.decode()
    assert visible.reference in body and visible.person.pseudonym in body
    assert hidden.reference not in body and hidden.person.pseudonym not in body
    # A colleague who may only list the team's cases sees no match at all.
    colleague = signed_in(world.colleague)
    other = _person_step(colleague, world)
    assert visible.reference not in colleague.get(step_url(other, "channels")).content.decode()


def test_a_phone_match_is_found(world, signed_in):
    from casework.models import ContactChannel

    existing = make_case(world, legal_name="Someone Else")
    ContactChannel.objects.create(person=existing.person, kind="phone", value="+34 600 123 456")
    client = signed_in(world.caseworker)
    draft = _person_step(client, world)
    post_step(client, draft, "channels", channel_answers({"kind": "phone", "value": "0034600123456"}))
    assert existing.reference in client.get(step_url(draft, "case")).content.decode()


def test_a_restricted_match_is_never_shown_and_alerts_silently(world, signed_in):
    import datetime as dt

    protected = make_case(world, legal_name="Maria Testperson", date_of_birth=dt.date(1990, 4, 30))
    Person.objects.filter(pk=protected.person_id).update(protection_level=ProtectionLevel.RESTRICTED)
    client = signed_in(world.caseworker)
    draft = _person_step(client, world)
    body = client.get(step_url(draft, "channels")).content.decode()
    assert protected.reference not in body and protected.person.pseudonym not in body
    assert "Possible duplicates" not in body
    event = AuditEvent.objects.get(action="intake.protected_match")
    assert event.object_id == str(protected.person_id) and event.actor_id == world.caseworker.pk
    assert "Maria" not in json.dumps(event.details) and event.fields in ([], None, "")


def test_abandoning_needs_the_holder_and_a_version(world, signed_in):
    from django.core.exceptions import PermissionDenied

    from casework.services.intake import StaleDraft, intake_draft_abandon, intake_draft_create

    draft = intake_draft_create(actor=world.caseworker)
    with pytest.raises(PermissionDenied):
        intake_draft_abandon(actor=world.colleague, draft=draft, expected_version=draft.version)
    with pytest.raises(StaleDraft):
        intake_draft_abandon(actor=world.caseworker, draft=draft, expected_version=None)
    draft.refresh_from_db()
    assert draft.status == "open"
    client = signed_in(world.colleague)
    response = client.post(f"/en/cases/intake/{draft.pk}/abandon/", {})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == "open"

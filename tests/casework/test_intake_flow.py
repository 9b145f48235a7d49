"""The guided intake through the test client: each step, review, submit; refusals leave nothing behind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from casework.access import case_perms
from casework.models import Case, Consent, ContactChannel, IntakeDraft, LawfulBasis, MinorAssessment, Person
from casework.selectors.consent import lawful_bases_awaiting_review
from casework.services.consent import lawful_basis_review
from casework.services.intake import draft_data
from core.audit.models import AuditEvent
from tests.casework.test_intake_support import (  # noqa: F401
    case_answers,
    channel_answers,
    consent_answers,
    emergency_answers,
    fill_intake,
    person_answers,
    post_step,
    start_draft,
    step_url,
    submit,
)

pytestmark = [pytest.mark.django_db]

SECRET_NAME = "Maria Testperson"


def test_the_whole_intake_opens_a_case(world, signed_in):
    client = signed_in(world.caseworker)
    assert client.get("/en/cases/intake/start/").status_code == 200
    draft = start_draft(client)
    for step in ("person", "channels", "case", "lawful_basis"):
        assert client.get(step_url(draft, step)).status_code == 200
    draft = fill_intake(client, world)
    review = client.get(step_url(draft, "review"))
    assert review.status_code == 200
    assert SECRET_NAME in review.content.decode()  # the author's own review
    response = submit(client, draft)
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    person = Person.objects.get()
    assert person.legal_name == SECRET_NAME and person.preferred_name == "Mari"
    assert person.date_of_birth == dt.date(1990, 4, 30)
    assert person.answer_status == {
        "other_names": "declined",
        "nationality": "unknown",
        "address": "declined",
        "identity_documents": "unknown",
    }
    assert person.language == "es" and person.needs_interpreter is True
    assert person.protection_level == "confidential" and person.is_minor is False
    channel = ContactChannel.objects.get()
    assert (channel.kind, channel.value, channel.is_preferred) == ("phone", "+34600123456", True)
    assert (case.kind, case.categories, case.risk_level, case.team_id) == (
        "victim_support",
        ["cyberstalking", "sextortion"],
        "high",
        world.team.pk,
    )
    assert case.assigned_caseworker_id == world.caseworker.pk
    assert case_perms(user=world.caseworker, case=case) >= {"view_case", "change_case", "reveal_identity"}
    assert case_perms(user=world.outsider, case=case) == frozenset()
    basis = LawfulBasis.objects.get()
    assert basis.kind == "consent" and basis.reviewed_at is None
    consent = Consent.objects.get()
    assert consent.scopes == ["processing", "referral"] and consent.given_by == "client"
    assert consent.interpreter_present is True and consent.notice_language == "es"
    actions = set(AuditEvent.objects.filter(object_id=str(case.pk)).values_list("action", flat=True))
    assert {"case.opened", "consent.recorded", "intake.submitted"} <= actions
    draft.refresh_from_db()
    assert draft.status == IntakeDraft.Status.SUBMITTED and draft.case_id == case.pk
    assert draft_data(draft) == {"steps": {}, "done": []}  # nothing kept that the case does not need
    assert not AuditEvent.objects.filter(details__icontains="Maria").exists()


def test_without_a_lawful_basis_nothing_is_created(world, signed_in):
    client = signed_in(world.caseworker)
    draft = start_draft(client)
    post_step(client, draft, "person", person_answers())
    post_step(client, draft, "channels", channel_answers())
    post_step(client, draft, "case", case_answers(world.team))
    response = submit(client, draft)
    assert response.status_code == 200
    body = response.content.decode()
    assert "An intake needs a lawful basis" in body
    assert step_url(draft, "lawful_basis") + "?check=1" in body
    assert Case.objects.count() == 0 and Person.objects.count() == 0 and ContactChannel.objects.count() == 0
    draft.refresh_from_db()
    assert draft.status == IntakeDraft.Status.OPEN


def test_an_emergency_basis_goes_to_the_supervisors_review_queue(world, signed_in):
    client = signed_in(world.caseworker)
    draft = fill_intake(client, world, basis=emergency_answers())
    assert submit(client, draft).status_code == 302
    basis = LawfulBasis.objects.get()
    assert basis.kind == "vital_interests" and basis.reason.startswith("Imminent danger")
    assert Consent.objects.count() == 0
    assert list(lawful_bases_awaiting_review(world.supervisor)) == [basis]
    assert list(lawful_bases_awaiting_review(world.caseworker)) == []  # not a supervisor
    assert list(lawful_bases_awaiting_review(world.outsider_supervisor)) == []
    lawful_basis_review(actor=world.supervisor, basis=basis, upheld=True)
    assert list(lawful_bases_awaiting_review(world.second_supervisor)) == []
    assert AuditEvent.objects.filter(action="lawful_basis.recorded").count() == 1


def test_a_reason_is_needed_for_another_basis(world, signed_in):
    client = signed_in(world.caseworker)
    draft = start_draft(client)
    post_step(client, draft, "person", person_answers())
    response = post_step(client, draft, "lawful_basis", {"basis": "legal_obligation", "reason": ""})
    assert response.status_code == 200
    assert "Explain why this basis applies" in response.content.decode()
    assert "lawful_basis" not in draft_data(IntakeDraft.objects.get(pk=draft.pk))["steps"]


def test_declined_and_unknown_must_match_the_answer(world, signed_in):
    client = signed_in(world.caseworker)
    draft = start_draft(client)
    response = post_step(
        client,
        draft,
        "person",
        person_answers(
            legal_name="", legal_name_status="answered", nationality="Spanish", nationality_status="unknown"
        ),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter the answer, or choose “Declined to answer” or “Unknown”." in body
    assert "You chose “Unknown”: clear this field, or choose “Answered”." in body
    assert "person" not in draft_data(IntakeDraft.objects.get(pk=draft.pk))["steps"]


@pytest.mark.parametrize(
    ("birth_date", "message"),
    [
        (
            (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            "A date of birth cannot be in the future.",
        ),
        ("2001-02-30", "This date does not exist."),
        ("1850-01-01", "older than 120 years"),
    ],
)
def test_impossible_birth_dates_are_refused(world, signed_in, birth_date, message):
    client = signed_in(world.caseworker)
    draft = start_draft(client)
    response = post_step(client, draft, "person", person_answers(date_of_birth=birth_date))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert draft_data(IntakeDraft.objects.get(pk=draft.pk)) == {"steps": {}, "done": []}
    assert Person.objects.count() == 0


def test_a_consent_given_in_the_future_is_refused(world, signed_in):
    client = signed_in(world.caseworker)
    draft = start_draft(client)
    post_step(client, draft, "person", person_answers())
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = post_step(client, draft, "lawful_basis", consent_answers(given_on=future))
    assert "The consent cannot have been given in the future." in response.content.decode()


def test_a_phone_number_needs_its_country_code(world, signed_in):
    client = signed_in(world.caseworker)
    draft = start_draft(client)
    post_step(client, draft, "person", person_answers())
    response = post_step(
        client, draft, "channels", channel_answers({"kind": "phone", "value": "0612 345 678"})
    )
    assert response.status_code == 200
    assert "Enter the phone number with its country code" in response.content.decode()
    assert "channels" not in draft_data(IntakeDraft.objects.get(pk=draft.pk))["steps"]
    assert ContactChannel.objects.count() == 0


def test_a_double_submit_opens_one_case(world, signed_in):
    client = signed_in(world.caseworker)
    draft = fill_intake(client, world)
    version = draft.version
    first = submit(client, draft, version=version)
    second = submit(client, draft, version=version)
    case = Case.objects.get()
    assert first.status_code == 302 and second.status_code == 302
    assert second["Location"] == case.get_absolute_url()
    assert Person.objects.count() == 1 and Consent.objects.count() == 1


def test_a_stale_step_is_refused_and_keeps_what_was_typed(world, signed_in):
    client = signed_in(world.caseworker)
    draft = start_draft(client)
    old_version = draft.version
    post_step(client, draft, "person", person_answers())
    response = post_step(
        client, draft, "person", person_answers(preferred_name="Marita"), version=old_version
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "saved from another window or by a colleague" in body
    assert 'value="Marita"' in body
    assert draft_data(IntakeDraft.objects.get(pk=draft.pk))["steps"]["person"]["preferred_name"] == "Mari"


def test_a_minor_needs_an_assessment_that_matches_the_consent(world, signed_in):
    client = signed_in(world.caseworker)
    birth = timezone.localdate().replace(year=timezone.localdate().year - 14) - dt.timedelta(days=1)
    minor_person = person_answers(date_of_birth=birth.isoformat(), protection_level="open")
    draft = start_draft(client)
    post_step(client, draft, "person", minor_person)
    draft.refresh_from_db()
    assert client.get(step_url(draft, "minor")).status_code == 200
    refused = post_step(client, draft, "lawful_basis", consent_answers(given_by="client"))
    assert "a guardian or the competent minor gives the consent" in refused.content.decode()
    post_step(client, draft, "channels", channel_answers())
    post_step(client, draft, "case", case_answers(world.team))
    post_step(client, draft, "lawful_basis", consent_answers(given_by="competent_minor"))
    post_step(client, draft, "minor", {"outcome": "guardian_consents", "reason": "Guardian present"})
    response = submit(client, draft)
    assert response.status_code == 200
    assert "competent to" in response.content.decode()
    assert Case.objects.count() == 0
    post_step(client, draft, "minor", {"outcome": "competent", "reason": "Understands the consequences"})
    assert submit(client, draft).status_code == 302
    case = Case.objects.get()
    assert case.is_minor and case.person.is_minor
    assert case.person.protection_level == "confidential"  # a minor is confidential at least
    assert MinorAssessment.objects.get().outcome == "competent"


def test_a_suspected_guardian_is_kept_out_with_another_basis(world, signed_in):
    client = signed_in(world.caseworker)
    draft = fill_intake(
        client,
        world,
        person=person_answers(is_minor="on", date_of_birth="", date_of_birth_status="unknown"),
        basis=consent_answers(given_by="guardian"),
        minor={"outcome": "guardian_excluded", "reason": "The stepfather is suspected"},
    )
    response = submit(client, draft)
    assert "record vital interests or a legal obligation" in response.content.decode()
    post_step(client, draft, "lawful_basis", emergency_answers())
    assert submit(client, draft).status_code == 302
    assert MinorAssessment.objects.get().outcome == "guardian_excluded"
    assert LawfulBasis.objects.get().kind == "vital_interests"


def test_no_plaintext_in_the_database_the_session_or_messages(world, signed_in):
    client = signed_in(world.caseworker)
    draft = fill_intake(client, world)
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM casework_intakedraft WHERE id = %s", [draft.pk])
        (stored,) = cursor.fetchone()
    assert SECRET_NAME not in stored and "mari_secret_handle" not in stored and "600123456" not in stored
    session = client.session
    assert SECRET_NAME not in str(dict(session.items()))
    response = submit(client, draft)
    followed = client.get(response["Location"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM casework_person")
        rows = cursor.fetchall()
        cursor.execute("SELECT * FROM casework_contactchannel")
        rows += cursor.fetchall()
        cursor.execute("SELECT session_data FROM django_session")
        sessions = cursor.fetchall()
    assert SECRET_NAME not in str(rows) and "Mari'" not in str(rows) and "600123456" not in str(rows)
    from django.contrib.sessions.backends.db import SessionStore

    for (raw,) in sessions:
        decoded = str(SessionStore().decode(raw))
        assert SECRET_NAME not in decoded and "mari_secret_handle" not in decoded
    for message in followed.context["messages"] if followed.context else []:
        assert SECRET_NAME not in str(message)


def test_abandoning_erases_the_answers(world, signed_in):
    client = signed_in(world.caseworker)
    draft = start_draft(client)
    post_step(client, draft, "person", person_answers())
    draft.refresh_from_db()
    response = client.post(f"/en/cases/intake/{draft.pk}/abandon/", {"draft_version": str(draft.version)})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == IntakeDraft.Status.ABANDONED and draft_data(draft) == {"steps": {}, "done": []}
    assert client.get(step_url(draft, "person")).status_code == 404

"""Retention, legal hold and erasure: the sweep anonymises exactly the expired closed cases, skips held
ones, is idempotent and leaves no plaintext; erasure is verified through a safe channel and refused while
proceedings need the record; only supervisors decide."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework import retention
from casework.models import (
    Case,
    ChannelKind,
    ChannelSafety,
    Contact,
    ContactChannel,
    CounsellingSession,
    CriminalProcess,
    ErasureRequest,
    LawfulBasis,
    Person,
    RiskQuestionnaire,
    RiskScreening,
    SafetyPlan,
    Task,
)
from casework.services import documents as document_services
from casework.services import records as services
from casework.services.cases import case_closure_request
from core.accounts.testing import sign_in
from core.audit.models import AuditEvent
from core.crypto.fields import decrypt_value
from tests.casework.conftest import make_case
from tests.casework.test_documents_upload import (
    PDF_BYTES,
    database_text_containing,
    stored_files,
)

pytestmark = pytest.mark.django_db

CLOSED_AT = dt.datetime(2020, 3, 10, 12, 0, tzinfo=dt.UTC)
AFTER_SIX_YEARS = dt.datetime(2026, 3, 11, 12, 0, tzinfo=dt.UTC)
MARKER = "ZQX-free-text-marker"


@pytest.fixture
def media(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def close(world, case, *, when=CLOSED_AT):
    return case_closure_request(actor=world.caseworker, case=case, reason="goals_met", now=when)


def fill(world, case, marker: str = MARKER) -> None:
    """Give the case free text in many of its rows, and the person a channel."""
    user = world.caseworker
    now = timezone.now()
    Contact.objects.create(
        case=case,
        channel_kind="phone",
        direction="outbound",
        outcome="reached",
        occurred_at=now,
        notes=f"{marker} contact notes",
        recorded_by=user,
    )
    SafetyPlan.objects.create(
        case=case, code_word=f"{marker}-word", device_seizure_steps=f"{marker} steps", updated_by=user
    )
    CounsellingSession.objects.create(
        case=case,
        counsellor=world.counsellor,
        held_on=now.date(),
        modality="phone",
        duration_minutes=50,
        notes=f"{marker} counselling",
    )
    questionnaire, _ = RiskQuestionnaire.objects.get_or_create(
        version=9901,
        defaults={"questions": [], "thresholds": {}, "rescreen_days": {}, "is_active": False},
    )
    RiskScreening.objects.create(
        case=case,
        questionnaire=questionnaire,
        answers=json.dumps({"self_harm": "yes", "note": marker}),
        score=3,
        proposed_level="medium",
        level="high",
        override_reason=f"{marker} override",
        screened_by=user,
        screened_at=now,
        next_due=now.date(),
    )
    Task.objects.create(case=case, kind="follow_up", description=f"{marker} task", due_on=now.date())
    LawfulBasis.objects.create(case=case, kind="vital_interests", reason=f"{marker} basis", recorded_by=user)
    CriminalProcess.objects.create(case=case, crime_reference=f"{marker}-crime", police_officer="PC Officer")
    ContactChannel.objects.create(person=case.person, kind=ChannelKind.PHONE, value="+447700900123")


def raw_tokens(table: str, column: str, case_id: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE case_id = %s', [case_id])
        return [row[0] for row in cursor.fetchall()]


# --- The retention periods ----------------------------------------------------------------------------------


def test_periods_come_from_the_setting_at_call_time(settings):
    assert retention.retention_period("notes") == 6
    assert retention.retention_period("documents") == 6
    assert retention.retention_period("partner_snapshots") == 2
    assert retention.retention_period("audit_trail") == 10
    settings.HAVEN_RETENTION = {"notes": 3, "documents": dt.timedelta(days=30)}
    assert retention.retention_period("notes") == 3
    assert retention.retention_due(category="documents", closed_at=CLOSED_AT) == CLOSED_AT + dt.timedelta(30)
    settings.HAVEN_RETENTION = {"notes": -1}
    with pytest.raises(Exception, match="cannot be negative"):
        retention.retention_period("notes")


def test_minors_count_from_their_18th_birthday():
    due = retention.retention_due(
        category="notes", closed_at=CLOSED_AT, is_minor=True, date_of_birth=dt.date(2010, 7, 1)
    )
    assert due == dt.datetime(2034, 7, 1, 12, 0, tzinfo=dt.UTC)  # 18 on 1 July 2028, plus 6 years
    adult_at_closure = retention.retention_due(
        category="notes", closed_at=CLOSED_AT, is_minor=True, date_of_birth=dt.date(2001, 1, 1)
    )
    assert adult_at_closure == dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    unknown = retention.retention_due(
        category="notes", closed_at=CLOSED_AT, is_minor=True, date_of_birth=None
    )
    assert unknown == dt.datetime(2044, 3, 10, 12, 0, tzinfo=dt.UTC)  # 18 + 6 years after closure


# --- The sweep ----------------------------------------------------------------------------------------------


def test_the_sweep_anonymises_exactly_the_expired_closed_cases(world, media):
    expired = make_case(world, legal_name="Expired Person", date_of_birth=dt.date(1980, 1, 2))
    fill(world, expired)
    document = document_services.document_upload(
        actor=world.caseworker,
        case=expired,
        data=PDF_BYTES,
        original_name="expired-evidence.pdf",
        kind="evidence",
    )
    close(world, expired)
    recent = make_case(world, legal_name="Recent Person")
    fill(world, recent, marker="RECENT-marker")
    close(world, recent, when=dt.datetime(2022, 1, 1, tzinfo=dt.UTC))
    held = make_case(world, legal_name="Held Person")
    fill(world, held, marker="HELD-marker")
    close(world, held)
    services.legal_hold_place(actor=world.supervisor, case=held, reason="criminal_proceedings")
    still_open = make_case(world, legal_name="Open Person")
    minor = make_case(world, legal_name="Young Person", is_minor=True, date_of_birth=dt.date(2008, 1, 1))
    close(world, minor)

    # One day before the end of the period: nothing happens.
    assert services.retention_sweep(now=AFTER_SIX_YEARS - dt.timedelta(days=2)).anonymised == []
    assert not AuditEvent.objects.filter(action="retention.anonymised").exists()

    result = services.retention_sweep(now=AFTER_SIX_YEARS)
    assert result.anonymised == [expired.pk]

    expired.refresh_from_db()
    assert expired.anonymised_at == AFTER_SIX_YEARS
    person = Person.objects.get(pk=expired.person_id)
    assert person.anonymised_at == AFTER_SIX_YEARS
    assert person.pseudonym == expired.person.pseudonym
    assert (person.legal_name, person.preferred_name, person.date_of_birth, person.address) == (
        "",
        "",
        None,
        "",
    )
    assert (person.legal_name_index, person.preferred_name_index, person.name_and_birth_date_index) == (
        None,
        None,
        None,
    )
    assert not ContactChannel.objects.filter(person=person).exists()

    # Free text destroyed: the raw columns decrypt to nothing, and the marker is nowhere in the database.
    for table, column, empty in [
        ("casework_contact", "notes", ""),
        ("casework_safetyplan", "code_word", ""),
        ("casework_safetyplan", "device_seizure_steps", ""),
        ("casework_counsellingsession", "notes", ""),
        ("casework_riskscreening", "answers", "{}"),
        ("casework_riskscreening", "override_reason", ""),
        ("casework_task", "description", ""),
        ("casework_lawfulbasis", "reason", ""),
        ("casework_criminalprocess", "crime_reference", ""),
        ("casework_criminalprocess", "police_officer", ""),
        ("casework_document", "original_name", ""),
    ]:
        tokens = raw_tokens(table, column, expired.pk)
        assert tokens, table
        assert all(decrypt_value(token) == empty for token in tokens), (table, column)
    assert database_text_containing(MARKER) == []
    assert database_text_containing("expired-evidence") == []
    # The document's bytes are gone, its row stays.
    document.refresh_from_db()
    assert document.destroyed_at == AFTER_SIX_YEARS
    assert stored_files(media) == []

    event = AuditEvent.objects.get(action="retention.anonymised")
    assert event.actor_id is None and event.object_id == str(expired.pk)
    assert event.details == {
        "rows": 8,
        "fields": 13,
        "documents": 1,
        "channels": 1,
        "person": True,
        "other_rows": 0,
    }

    # The others are untouched.
    for kept in (recent, held, still_open, minor):
        kept.refresh_from_db()
        assert kept.anonymised_at is None
        assert Person.objects.get(pk=kept.person_id).anonymised_at is None
    assert Contact.objects.get(case=recent).notes == "RECENT-marker contact notes"
    assert Contact.objects.get(case=held).notes == "HELD-marker contact notes"
    assert Person.objects.get(pk=held.person_id).legal_name == "Held Person"

    # Idempotent: a second run changes nothing and audits nothing.
    count = AuditEvent.objects.count()
    assert services.retention_sweep(now=AFTER_SIX_YEARS + dt.timedelta(days=1)).anonymised == []
    assert AuditEvent.objects.count() == count

    # The minor's record is kept until six years after their 18th birthday.
    assert services.retention_sweep(now=dt.datetime(2031, 12, 31, tzinfo=dt.UTC)).anonymised == [recent.pk]
    assert services.retention_sweep(now=dt.datetime(2032, 1, 2, tzinfo=dt.UTC)).anonymised == [minor.pk]

    # Lifting the hold lets the next sweep anonymise the held case.
    services.legal_hold_lift(actor=world.supervisor, case=held, reason="proceedings_ended")
    assert services.retention_sweep(now=dt.datetime(2032, 1, 3, tzinfo=dt.UTC)).anonymised == [held.pk]


def test_a_person_with_another_kept_case_keeps_their_identity_until_the_last_case(world, media):
    first = make_case(world, legal_name="Twice Helped")
    fill(world, first)
    close(world, first)
    second = Case.objects.get(pk=first.pk)  # a second case of the same person
    from casework.services.cases import case_open

    second = case_open(actor=world.caseworker, person=first.person, kind="victim_support", team=world.team)
    assert services.retention_sweep(now=AFTER_SIX_YEARS).anonymised == [first.pk]
    person = Person.objects.get(pk=first.person_id)
    assert person.anonymised_at is None and person.legal_name == "Twice Helped"
    assert Contact.objects.get(case=first).notes == ""
    close(world, second, when=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    assert services.retention_sweep(now=dt.datetime(2032, 4, 2, tzinfo=dt.UTC)).anonymised == [second.pk]
    person.refresh_from_db()
    assert person.anonymised_at is not None and person.legal_name == ""


def test_documents_can_go_before_the_notes(world, media, settings):
    settings.HAVEN_RETENTION = {"documents": 1}
    case = make_case(world)
    document_services.document_upload(
        actor=world.caseworker, case=case, data=PDF_BYTES, original_name="a.pdf", kind="evidence"
    )
    close(world, case)
    result = services.retention_sweep(now=dt.datetime(2021, 3, 11, tzinfo=dt.UTC))
    assert (result.anonymised, result.documents_destroyed) == ([], 1)
    assert stored_files(media) == []
    case.refresh_from_db()
    assert case.anonymised_at is None
    assert AuditEvent.objects.get(action="retention.documents_destroyed").details == {"documents": 1}


def test_the_beat_task_runs_the_sweep(world):
    from casework.tasks_records import retention_sweep
    from config.celery import app

    assert (
        app.conf.beat_schedule["casework-retention-sweep"]["task"] == "casework.tasks_records.retention_sweep"
    )
    case = make_case(world)
    close(world, case, when=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    retention_sweep.run()
    case.refresh_from_db()
    assert case.anonymised_at is not None


# --- Legal hold ---------------------------------------------------------------------------------------------


def test_only_supervisors_place_and_lift_a_hold(world, case, signed_in):
    with pytest.raises(PermissionDenied):
        services.legal_hold_place(actor=world.caseworker, case=case, reason="criminal_proceedings")
    client = signed_in(world.caseworker)
    response = client.post(
        reverse("casework:legal_hold_place", args=[case.reference]), {"reason": "criminal_proceedings"}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.legal_hold is False
    assert not AuditEvent.objects.filter(action__startswith="legal_hold").exists()

    client = signed_in(world.supervisor)
    response = client.post(
        reverse("casework:legal_hold_place", args=[case.reference]), {"reason": "nonsense"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = client.post(
        reverse("casework:legal_hold_place", args=[case.reference]), {"reason": "criminal_proceedings"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.legal_hold is True
    assert AuditEvent.objects.get(action="legal_hold.placed").details == {"reason": "criminal_proceedings"}
    response = client.post(
        reverse("casework:legal_hold_lift", args=[case.reference]), {"reason": "proceedings_ended"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.legal_hold is False
    assert AuditEvent.objects.get(action="legal_hold.lifted").actor_id == world.supervisor.pk


# --- Erasure ------------------------------------------------------------------------------------------------


def test_erasure_verified_through_a_safe_channel_and_completed(world, media, signed_in):
    case = make_case(world, legal_name="Erase Me")
    fill(world, case)
    compromised = ContactChannel.objects.create(
        person=case.person,
        kind=ChannelKind.EMAIL,
        value="abuser-knows@example.org",
        safety=ChannelSafety.COMPROMISED,
    )
    safe = ContactChannel.objects.get(person=case.person, kind=ChannelKind.PHONE)
    close(world, case, when=timezone.now())

    caseworker = signed_in(world.caseworker)
    assert caseworker.post(reverse("casework:erasure_request_add", args=[case.reference])).status_code == 302
    caseworker.post(reverse("casework:erasure_request_add", args=[case.reference]))  # double submit
    erasure_request = ErasureRequest.objects.get(case=case)
    assert erasure_request.status == "received" and erasure_request.received_by == world.caseworker

    verify_url = reverse("casework:erasure_request_verify", args=[case.reference, erasure_request.pk])
    assert caseworker.post(verify_url, {"channel": safe.pk}).status_code == 403
    with pytest.raises(ValidationError):
        services.erasure_request_verify(
            actor=world.supervisor, erasure_request=erasure_request, channel=compromised
        )

    supervisor = Client()
    sign_in(supervisor, world.supervisor)
    page = supervisor.get(reverse("casework:records", args=[case.reference])).content.decode()
    assert f'value="{safe.pk}"' in page and f'value="{compromised.pk}"' not in page
    assert "+447700900123" not in page and "abuser-knows" not in page
    response = supervisor.post(verify_url, {"channel": compromised.pk})
    assert response.status_code == 200
    assert ErasureRequest.objects.get().status == "received"
    assert supervisor.post(verify_url, {"channel": safe.pk}).status_code == 302
    erasure_request.refresh_from_db()
    assert (erasure_request.status, erasure_request.verified_through_id) == ("verified", safe.pk)
    verified = AuditEvent.objects.get(action="erasure_request.verified")
    assert verified.details == {
        "case": case.pk,
        "channel": safe.pk,
        "channel_kind": "phone",
        "safety": "safe",
    }

    complete_url = reverse("casework:erasure_request_complete", args=[case.reference, erasure_request.pk])
    assert caseworker.post(complete_url).status_code == 403
    assert supervisor.post(complete_url).status_code == 302
    erasure_request.refresh_from_db()
    case.refresh_from_db()
    assert erasure_request.status == "completed" and erasure_request.decided_by == world.supervisor
    assert case.anonymised_at is not None
    assert Person.objects.get(pk=case.person_id).legal_name == ""
    assert database_text_containing(MARKER) == []
    completed = AuditEvent.objects.get(action="erasure_request.completed")
    assert completed.details["person"] is True and completed.details["channels"] == 2
    assert [event.action for event in AuditEvent.objects.filter(action__startswith="erasure_request")] == [
        "erasure_request.recorded",
        "erasure_request.verified",
        "erasure_request.completed",
    ]


def test_erasure_is_refused_while_proceedings_need_the_record(world, media):
    case = make_case(world)
    fill(world, case)
    safe = ContactChannel.objects.get(person=case.person)
    process = CriminalProcess.objects.get(case=case)
    process.hearing_dates = [(timezone.localdate() + dt.timedelta(days=30)).isoformat()]
    process.save(update_fields=["hearing_dates"])
    close(world, case, when=timezone.now())
    erasure_request = services.erasure_request_record(actor=world.caseworker, case=case)
    services.erasure_request_verify(actor=world.supervisor, erasure_request=erasure_request, channel=safe)
    assert services.erasure_blockers(case=case) == ["proceedings"]
    with pytest.raises(ValidationError, match="Proceedings need the record"):
        services.erasure_request_complete(actor=world.supervisor, erasure_request=erasure_request)
    with pytest.raises(PermissionDenied):
        services.erasure_request_refuse(
            actor=world.caseworker, erasure_request=erasure_request, reason="proceedings"
        )
    services.erasure_request_refuse(
        actor=world.supervisor, erasure_request=erasure_request, reason="proceedings"
    )
    erasure_request.refresh_from_db()
    assert (erasure_request.status, erasure_request.refusal_reason) == ("refused", "proceedings")
    case.refresh_from_db()
    assert case.anonymised_at is None
    assert Contact.objects.get(case=case).notes == f"{MARKER} contact notes"
    assert AuditEvent.objects.get(action="erasure_request.refused").details == {
        "case": case.pk,
        "reason": "proceedings",
    }
    # A past hearing no longer blocks; a legal hold does.
    process.hearing_dates = ["2020-01-01"]
    process.save(update_fields=["hearing_dates"])
    assert services.erasure_blockers(case=case) == []
    services.legal_hold_place(actor=world.supervisor, case=case, reason="civil_proceedings")
    case.refresh_from_db()
    second = services.erasure_request_record(actor=world.caseworker, case=case)
    services.erasure_request_verify(actor=world.supervisor, erasure_request=second, channel=safe)
    with pytest.raises(ValidationError, match="legal hold"):
        services.erasure_request_complete(actor=world.supervisor, erasure_request=second)
    assert Case.objects.get(pk=case.pk).anonymised_at is None


def test_an_unverified_request_cannot_be_completed(world, case):
    erasure_request = services.erasure_request_record(actor=world.caseworker, case=case)
    with pytest.raises(ValidationError, match="Verify the request"):
        services.erasure_request_complete(actor=world.supervisor, erasure_request=erasure_request)
    services.erasure_request_refuse(
        actor=world.supervisor, erasure_request=erasure_request, reason="not_verified"
    )
    assert ErasureRequest.objects.get().status == "refused"


# --- Who may see the page -----------------------------------------------------------------------------------

REFUSED = ["outsider", "outsider_supervisor", "colleague", "counsellor", "other_team_caseworker", "auditor"]


@pytest.mark.parametrize("who", [*REFUSED, "anonymous", "caseworker", "supervisor"])
def test_records_permission_matrix(world, case, who):
    client = Client()
    if who != "anonymous":
        sign_in(client, getattr(world, who))
    count = AuditEvent.objects.count()
    page = client.get(reverse("casework:records", args=[case.reference]))
    add = client.post(reverse("casework:erasure_request_add", args=[case.reference]))
    hold = client.post(reverse("casework:legal_hold_place", args=[case.reference]), {"reason": "complaint"})
    if who == "anonymous":
        assert {page.status_code, add.status_code, hold.status_code} == {302}
    elif who in REFUSED:
        assert (page.status_code, add.status_code, hold.status_code) == (404, 404, 404)
    elif who == "caseworker":
        assert (page.status_code, add.status_code, hold.status_code) == (200, 302, 403)
        assert ErasureRequest.objects.count() == 1
        return
    else:
        assert (page.status_code, add.status_code, hold.status_code) == (200, 302, 302)
        return
    assert not ErasureRequest.objects.exists()
    case.refresh_from_db()
    assert case.legal_hold is False
    assert AuditEvent.objects.count() == count

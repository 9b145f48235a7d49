# ruff: noqa: F811
"""Case summaries end to end with the real renderer (WeasyPrint): ask, outbox, render, download, expire."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from casework.models import CaseSummary, ProtectionLevel, SummaryPurpose
from casework.services import summaries as services
from core.audit.models import AuditEvent
from core.crypto.files import decrypt_bytes
from core.outbox.models import OutboxMessage
from core.outbox.services import outbox_sweep
from protection.models import DisclosureGrant
from tests.summaries.helpers_flow import (  # noqa: F401 (fixtures)
    LEGAL_NAME,
    PREFERRED_NAME,
    partner,
    private_media,
    signed_in,
    stored_bytes,
    summary_case,
    unit,
    world,
)

pytestmark = pytest.mark.django_db

HEADERS = {
    "Content-Type": "application/pdf",
    "Content-Disposition": None,  # filled per case
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    # The view sends no-store; core.middleware.NoStoreMiddleware makes it stricter for signed-in users.
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0, private",
}


def urls(case, summary_id: int = 0) -> dict[str, str]:
    reference = case.reference
    return {
        "list": reverse("casework:summaries", kwargs={"reference": reference}),
        "request": reverse("casework:summary_request", kwargs={"reference": reference}),
        "status": reverse(
            "casework:summary_status", kwargs={"reference": reference, "summary_id": summary_id}
        ),
        "download": reverse(
            "casework:summary_download", kwargs={"reference": reference, "summary_id": summary_id}
        ),
    }


def ask(client, case, **data):  # type: ignore[no-untyped-def]
    payload = {"purpose": "legal_partner", "language": "en", **data}
    return client.post(urls(case)["request"], payload)


def ready_summary(world, case, *, actor=None, purpose=SummaryPurpose.LEGAL_PARTNER, language="en"):  # type: ignore[no-untyped-def]
    summary = services.summary_request(
        actor=actor or world.caseworker, case=case, purpose=purpose, language=language
    )
    assert outbox_sweep() >= 1
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.READY, summary.failure_code
    return summary


def storage_files() -> list[str]:
    root = default_storage.location
    found = []
    for folder, _dirs, files in os.walk(root):
        found += [os.path.relpath(os.path.join(folder, name), root) for name in files]
    return sorted(found)


# --- Asking ----------------------------------------------------------------------------------------------


def test_asking_writes_the_summary_and_one_outbox_message_with_the_id_only(
    world, summary_case, signed_in, django_capture_on_commit_callbacks
):
    client = signed_in(world.caseworker)
    before = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        response = ask(client, summary_case, purpose="legal_partner", language="ar")
    assert response.status_code == 302
    assert response["Location"] == urls(summary_case)["list"]
    summary = CaseSummary.objects.get()
    assert summary.case == summary_case
    assert summary.requested_by == world.caseworker
    assert summary.purpose == "legal_partner"
    assert summary.language == "ar"
    assert summary.include_counselling is False
    assert summary.status == CaseSummary.Status.REQUESTED
    assert summary.expires_at - summary.requested_at == timedelta(hours=24)
    assert summary.requested_at >= before
    assert summary.protection_level == ProtectionLevel.CONFIDENTIAL
    assert summary.storage_name == ""
    message = OutboxMessage.objects.get()
    assert message.kind == "casework.summary_render"
    assert message.payload == {"summary_id": summary.pk}
    assert len(callbacks) == 1  # the nudge, after commit
    event = AuditEvent.objects.get(action="summary.requested")
    assert event.object_id == str(summary.pk)
    assert event.details["purpose"] == "legal_partner"
    assert LEGAL_NAME not in json.dumps(event.details)


def test_the_celery_message_holds_the_outbox_id_only(
    world, summary_case, signed_in, django_capture_on_commit_callbacks
):
    from celery.signals import before_task_publish

    published: list[str] = []

    def capture(sender=None, body=None, headers=None, **kwargs):  # type: ignore[no-untyped-def]
        published.append(json.dumps([sender, body, headers], default=str))

    before_task_publish.connect(capture)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ask(signed_in(world.caseworker), summary_case)
    finally:
        before_task_publish.disconnect(capture)
    message = OutboxMessage.objects.get()
    assert len(published) == 1
    assert "core.outbox.tasks.outbox_deliver" in published[0]
    assert f'"message_id": {message.pk}' in published[0]
    for marker in (LEGAL_NAME, PREFERRED_NAME, summary_case.person.pseudonym, summary_case.reference):
        assert marker not in published[0]


def test_a_double_submit_asks_once(world, summary_case, signed_in):
    client = signed_in(world.caseworker)
    assert ask(client, summary_case).status_code == 302
    assert ask(client, summary_case).status_code == 302
    assert CaseSummary.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
    assert AuditEvent.objects.filter(action="summary.requested").count() == 1
    # Another language is another request; the same one a minute later too.
    assert ask(client, summary_case, language="fr").status_code == 302
    later = timezone.now() + timedelta(minutes=1, seconds=1)
    services.summary_request(
        actor=world.caseworker, case=summary_case, purpose="legal_partner", language="en", now=later
    )
    assert CaseSummary.objects.count() == 3


def test_the_form_offers_what_the_user_may_ask_for(world, summary_case, signed_in, unit):
    page = signed_in(world.caseworker).get(urls(summary_case)["list"])
    assert page.status_code == 200
    form = page.context["form"]
    assert [value for value, _label in form.fields["purpose"].choices] == ["client", "legal_partner"]
    assert "include_counselling" not in form.fields  # the caseworker does not hold counsel_case
    assert form.initial["language"] == "ar"  # the person's language, which Haven has
    assert [value for value, _label in form.fields["language"].choices] == [
        "en",
        "ar",
        "es",
        "fr",
        "ru",
        "zh-hans",
    ]
    assert b"summary_progress.js" in page.content
    officer_page = signed_in(unit.officer).get(urls(summary_case)["list"])
    assert officer_page.status_code == 200
    officer_form = officer_page.context["form"]
    assert [value for value, _label in officer_form.fields["purpose"].choices] == ["protection_review"]


def test_default_language_falls_back_to_the_users(world, signed_in):
    from tests.casework.conftest import make_case

    case = make_case(world, language="sw")
    world.caseworker.language = "fr"
    world.caseworker.save(update_fields=["language"])
    page = signed_in(world.caseworker).get(urls(case)["list"])
    assert page.context["form"].initial["language"] == "fr"


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(world, summary_case, signed_in):
    client = signed_in(world.caseworker)
    response = ask(client, summary_case, purpose="everything", language="xx")
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["purpose"] == ["Choose what the summary is for."]
    assert form.errors["language"] == ["Choose a language from the list."]
    assert CaseSummary.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_purposes_are_checked_by_the_service_too(world, summary_case, unit):
    with pytest.raises(PermissionDenied):
        services.summary_request(
            actor=world.caseworker, case=summary_case, purpose="protection_review", language="en"
        )
    with pytest.raises(PermissionDenied):
        services.summary_request(actor=unit.officer, case=summary_case, purpose="client", language="en")
    with pytest.raises(PermissionDenied):
        services.summary_request(
            actor=world.caseworker,
            case=summary_case,
            purpose="client",
            language="en",
            include_counselling=True,
        )
    # The counsellor may ask for a client summary (of the counselling), never for a legal partner.
    with pytest.raises(PermissionDenied):
        services.summary_request(
            actor=world.counsellor, case=summary_case, purpose="legal_partner", language="en"
        )
    assert CaseSummary.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_a_caseworker_posting_protection_review_gets_403(world, summary_case, signed_in):
    response = ask(signed_in(world.caseworker), summary_case, purpose="protection_review")
    # The choice is not offered: the form refuses it next to the field.
    assert response.status_code == 400
    assert response.context["form"].errors["purpose"] == ["Choose what the summary is for."]
    assert CaseSummary.objects.count() == 0


# --- Rendering, storing, downloading ------------------------------------------------------------------------


def test_render_store_and_download_by_the_requester(world, summary_case, signed_in):
    client = signed_in(world.caseworker)
    ask(client, summary_case, purpose="legal_partner", language="ar")
    summary = CaseSummary.objects.get()
    status = client.get(urls(summary_case, summary.pk)["status"], HTTP_X_HAVEN_BACKGROUND="1")
    assert status.json() == {
        "id": summary.pk,
        "status": "requested",
        "label": "Waiting to be made",
        "is_final": False,
        "download_url": "",
    }

    assert outbox_sweep() == 1
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.READY
    assert summary.attempts == 1
    assert summary.rendered_at is not None
    assert summary.page_count >= 1
    assert summary.protection_level == ProtectionLevel.CONFIDENTIAL
    assert summary.grant_ids == []
    assert len(summary.keyed_hash) == 64
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.DELIVERED
    assert AuditEvent.objects.filter(action="summary.generated", object_id=str(summary.pk)).count() == 1
    # The PDF shows the confidential person's name to the case team: recorded as a reveal by the requester.
    reveal = AuditEvent.objects.get(action="identity.revealed")
    assert reveal.actor_id == world.caseworker.pk
    assert "legal_name" in reveal.fields
    assert reveal.details["summary_id"] == summary.pk

    # Stored encrypted under a random name that says nothing about the case or the person.
    assert storage_files() == [summary.storage_name]
    assert summary.storage_name.startswith("summaries/")
    for marker in (summary_case.reference, summary_case.person.pseudonym, "HV-", "summary.pdf", LEGAL_NAME):
        assert marker not in summary.storage_name
    raw = stored_bytes(summary)
    assert b"%PDF" not in raw
    for marker in (LEGAL_NAME, PREFERRED_NAME, summary_case.reference, summary_case.person.pseudonym):
        assert marker.encode() not in raw
    assert decrypt_bytes(raw).startswith(b"%PDF")

    status = client.get(urls(summary_case, summary.pk)["status"], HTTP_X_HAVEN_BACKGROUND="1")
    assert status.json()["status"] == "ready"
    assert status.json()["download_url"] == urls(summary_case, summary.pk)["download"]
    assert "no-store" in status["Cache-Control"]
    page = client.get(urls(summary_case)["list"])
    assert urls(summary_case, summary.pk)["download"].encode() in page.content

    response = client.get(urls(summary_case, summary.pk)["download"])
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert len(response.content) == summary.size
    expected = dict(HEADERS)
    expected["Content-Disposition"] = f'attachment; filename="{summary_case.reference}-summary.pdf"'
    for header, value in expected.items():
        assert response[header] == value
    assert response["Content-Length"] == str(summary.size)
    event = AuditEvent.objects.get(action="summary.downloaded")
    assert event.actor_id == world.caseworker.pk
    assert event.object_id == str(summary.pk)


def test_nobody_but_the_requester_reaches_a_summary(world, summary_case, signed_in, unit, partner, client):
    summary = ready_summary(world, summary_case)
    paths = urls(summary_case, summary.pk)
    # The supervisor, the counsellor and the officer may open the summaries page, yet the summary is not
    # theirs: 404.
    for user in (world.supervisor, world.counsellor, unit.officer):
        signed_in(user)
        assert client.get(paths["list"]).status_code == 200
        assert summary.pk not in [row.pk for row in client.get(paths["list"]).context["rows"]]
        assert client.get(paths["status"]).status_code == 404
        assert client.get(paths["download"]).status_code == 404
        client.logout()
    # Everyone else may not even open the page.
    for user in (world.colleague, world.auditor, world.other_team_caseworker,
                 world.outsider, world.outsider_supervisor, world.admin, partner):  # fmt: skip
        signed_in(user)
        for name, path in paths.items():
            response = client.post(path) if name == "request" else client.get(path)
            assert response.status_code == 404, (user.username, name)
        client.logout()
    assert CaseSummary.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
    # A guessed summary id of another case is 404 even for the requester of this one.
    signed_in(world.caseworker)
    assert client.get(urls(summary_case, summary.pk + 1000)["download"]).status_code == 404
    assert AuditEvent.objects.filter(action="summary.downloaded").count() == 0
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.READY


def test_anonymous_users_are_sent_to_sign_in(world, summary_case, client):
    summary = ready_summary(world, summary_case)
    for name, path in urls(summary_case, summary.pk).items():
        response = client.post(path) if name == "request" else client.get(path)
        assert response.status_code == 302, name
        assert "/accounts/sign-in/" in response["Location"]
    assert CaseSummary.objects.count() == 1


def test_wrong_methods(world, summary_case, signed_in):
    client = signed_in(world.caseworker)
    summary = ready_summary(world, summary_case)
    paths = urls(summary_case, summary.pk)
    assert client.get(paths["request"]).status_code == 405
    assert client.post(paths["download"]).status_code == 405
    assert client.post(paths["status"]).status_code == 405
    assert CaseSummary.objects.count() == 1


def test_a_protection_officer_asks_for_a_protection_review(world, summary_case, signed_in, unit):
    client = signed_in(unit.officer)
    response = ask(client, summary_case, purpose="protection_review", language="fr")
    assert response.status_code == 302
    summary = CaseSummary.objects.get()
    assert summary.purpose == "protection_review"
    outbox_sweep()
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.READY
    download = client.get(urls(summary_case, summary.pk)["download"])
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF")


def test_a_tampered_file_is_not_served(world, summary_case, signed_in):
    summary = ready_summary(world, summary_case)
    with default_storage.open(summary.storage_name, "wb") as stored:
        stored.write(b"not the summary")
    response = signed_in(world.caseworker).get(urls(summary_case, summary.pk)["download"])
    assert response.status_code == 409
    assert b"%PDF" not in response.content
    assert AuditEvent.objects.filter(action="summary.integrity_failed").count() == 1
    assert AuditEvent.objects.filter(action="summary.downloaded").count() == 0


# --- Expiry -----------------------------------------------------------------------------------------------


def test_expires_after_24_hours(world, summary_case, signed_in, django_capture_on_commit_callbacks):
    summary = ready_summary(world, summary_case)
    name = summary.storage_name
    just_before = summary.expires_at - timedelta(seconds=1)
    nothing = {"time_limit": 0, "grant_ended": 0, "level_raised": 0}
    assert services.summaries_expire(now=just_before) == nothing
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.summaries_expire(now=summary.expires_at)
    assert counts == {"time_limit": 1, "grant_ended": 0, "level_raised": 0}
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.EXPIRED
    assert summary.storage_name == ""
    assert not default_storage.exists(name)
    assert storage_files() == []
    event = AuditEvent.objects.get(action="summary.expired")
    assert event.details["reason"] == "time_limit"
    response = signed_in(world.caseworker).get(urls(summary_case, summary.pk)["download"])
    assert response.status_code == 404
    assert b"This summary has expired" in response.content
    # Idempotent.
    assert services.summaries_expire(now=summary.expires_at) == {
        "time_limit": 0,
        "grant_ended": 0,
        "level_raised": 0,
    }


def test_download_after_24_hours_expires_it_at_once(world, summary_case, django_capture_on_commit_callbacks):
    summary = ready_summary(world, summary_case)
    name = summary.storage_name
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.SummaryUnavailable) as refused,
    ):
        services.summary_download(actor=world.caseworker, summary=summary, now=summary.expires_at)
    assert refused.value.reason == "time_limit"
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.EXPIRED
    assert not default_storage.exists(name)


def restricted_case_with_grant(world, summary_case, unit):  # type: ignore[no-untyped-def]
    person = summary_case.person
    person.protection_level = ProtectionLevel.RESTRICTED
    person.save(update_fields=["protection_level"])
    now = timezone.now()
    grant = DisclosureGrant.objects.create(
        person=person,
        grantee=world.caseworker,
        kind=DisclosureGrant.Kind.REQUEST,
        fields=["legal_name"],
        purpose="court letter",
        granted_by=unit.officer,
        starts_at=now - timedelta(minutes=5),
        expires_at=now + timedelta(hours=72),
    )
    return grant


def test_revoking_a_relied_on_grant_expires_the_summary(
    world, summary_case, signed_in, unit, django_capture_on_commit_callbacks
):
    from protection.services.disclosure import GrantRevokeReason, grant_revoke

    grant = restricted_case_with_grant(world, summary_case, unit)
    summary = ready_summary(world, summary_case)
    assert summary.grant_ids == [grant.pk]
    assert summary.protection_level == ProtectionLevel.RESTRICTED
    name = summary.storage_name
    assert decrypt_bytes(stored_bytes(summary)).startswith(b"%PDF")
    reason_code = GrantRevokeReason.values[0]
    grant_revoke(actor=unit.officer, grant=grant, reason_code=reason_code)
    client = signed_in(world.caseworker)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(urls(summary_case, summary.pk)["download"])
    assert response.status_code == 404
    assert b"relied on a disclosure that has ended" in response.content
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.EXPIRED
    assert not default_storage.exists(name)
    assert AuditEvent.objects.get(action="summary.expired").details["reason"] == "grant_ended"
    assert AuditEvent.objects.filter(action="summary.downloaded").count() == 0


def test_the_beat_expires_summaries_whose_grant_ended(
    world, summary_case, unit, django_capture_on_commit_callbacks
):
    grant = restricted_case_with_grant(world, summary_case, unit)
    summary = ready_summary(world, summary_case)
    name = summary.storage_name
    DisclosureGrant.objects.filter(pk=grant.pk).update(ended_reason="expired")
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.summaries_expire()
    assert counts == {"time_limit": 0, "grant_ended": 1, "level_raised": 0}
    assert not default_storage.exists(name)


def test_raising_the_level_expires_the_persons_summaries_at_once(
    world, summary_case, signed_in, django_capture_on_commit_callbacks
):
    from protection.services.levels import protection_level_change

    summary = ready_summary(world, summary_case)
    waiting = services.summary_request(
        actor=world.caseworker, case=summary_case, purpose="client", language="en"
    )
    name = summary.storage_name
    with django_capture_on_commit_callbacks(execute=True):
        protection_level_change(
            actor=world.caseworker, person=summary_case.person, to_level=ProtectionLevel.RESTRICTED
        )
    summary.refresh_from_db()
    waiting.refresh_from_db()
    assert summary.status == CaseSummary.Status.EXPIRED
    assert waiting.status == CaseSummary.Status.EXPIRED
    assert not default_storage.exists(name)
    reasons = sorted(event.details["reason"] for event in AuditEvent.objects.filter(action="summary.expired"))
    assert reasons == ["level_raised", "level_raised"]
    response = signed_in(world.caseworker).get(urls(summary_case, summary.pk)["download"])
    assert response.status_code == 404
    assert b"This summary has expired" in response.content
    # The waiting one is not made any more.
    outbox_sweep()
    waiting.refresh_from_db()
    assert waiting.status == CaseSummary.Status.EXPIRED


def test_a_level_raised_without_the_signal_is_caught_at_download(
    world, summary_case, signed_in, django_capture_on_commit_callbacks
):
    summary = ready_summary(world, summary_case)
    person = summary_case.person
    person.protection_level = ProtectionLevel.SEALED
    person.save(update_fields=["protection_level"])
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.caseworker).get(urls(summary_case, summary.pk)["download"])
    assert response.status_code == 404
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.EXPIRED
    assert AuditEvent.objects.get(action="summary.expired").details["reason"] == "level_raised"


# --- Failures ---------------------------------------------------------------------------------------------


def test_a_render_error_is_retried_then_fails_with_a_code(world, summary_case, monkeypatch, caplog):
    from casework.summaries import render

    def broken(*, summary, now):  # type: ignore[no-untyped-def]
        raise ValueError(f"cannot render {LEGAL_NAME}")

    monkeypatch.setattr(render, "summary_render", broken)
    summary = services.summary_request(
        actor=world.caseworker, case=summary_case, purpose="client", language="en"
    )
    now = timezone.now()
    for attempt in (1, 2):
        assert outbox_sweep(now=now) == 0
        message = OutboxMessage.objects.get()
        assert message.status == OutboxMessage.Status.PENDING
        assert message.attempts == attempt
        assert message.last_error == "SummaryRenderRetry"
        summary.refresh_from_db()
        assert summary.status == CaseSummary.Status.REQUESTED
        now = message.available_at
    assert outbox_sweep(now=now) == 1
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.FAILED
    assert summary.failure_code == "render_error"
    assert summary.attempts == 3
    assert summary.storage_name == ""
    event = AuditEvent.objects.get(action="summary.failed")
    assert event.details["code"] == "render_error"
    assert LEGAL_NAME not in caplog.text
    assert LEGAL_NAME not in json.dumps(event.details)
    assert storage_files() == []


def test_a_render_that_keeps_crashing_fails_after_three_attempts(world, summary_case):
    summary = services.summary_request(
        actor=world.caseworker, case=summary_case, purpose="client", language="en"
    )
    assert services.summary_generate(summary_id=summary.pk, attempt=4).status == CaseSummary.Status.FAILED
    summary.refresh_from_db()
    assert summary.failure_code == "gave_up"


def test_a_requester_who_lost_access_gets_no_summary(world, summary_case, signed_in):
    summary = services.summary_request(
        actor=world.caseworker, case=summary_case, purpose="client", language="en"
    )
    world.caseworker.is_active = False
    world.caseworker.save(update_fields=["is_active"])
    outbox_sweep()
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.FAILED
    assert summary.failure_code == "no_access"
    assert storage_files() == []


def test_generate_is_idempotent(world, summary_case):
    summary = ready_summary(world, summary_case)
    again = services.summary_generate(summary_id=summary.pk)
    assert again.status == CaseSummary.Status.READY
    assert again.storage_name == summary.storage_name
    assert AuditEvent.objects.filter(action="summary.generated").count() == 1
    assert storage_files() == [summary.storage_name]
    assert services.summary_generate(summary_id=summary.pk + 999) is None


def test_counselling_notes_are_offered_to_counsel_case_holders_only(world, summary_case, signed_in):
    from casework.models import EmergencyAccess

    # The case's counsellor on duty cover holds view_case (cover) and counsel_case (assignment).
    now = timezone.now()
    EmergencyAccess.objects.create(
        case=summary_case,
        user=world.counsellor,
        reason="cover",
        started_at=now,
        expires_at=now + timedelta(hours=4),
    )
    client = signed_in(world.counsellor)
    page = client.get(urls(summary_case)["list"])
    assert "include_counselling" in page.context["form"].fields
    assert ask(client, summary_case, purpose="client", include_counselling="on").status_code == 302
    summary = CaseSummary.objects.get()
    assert summary.include_counselling is True
    outbox_sweep()
    summary.refresh_from_db()
    assert summary.status == CaseSummary.Status.READY
    # The caseworker's form has no such field: a forged value is ignored.
    forged = ask(signed_in(world.caseworker), summary_case, purpose="client", include_counselling="on")
    assert forged.status_code == 302
    assert CaseSummary.objects.get(requested_by=world.caseworker).include_counselling is False

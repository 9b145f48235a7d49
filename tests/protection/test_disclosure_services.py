"""Disclosure requests, decisions and grants through the services: who may, what is written, what is shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from casework.access import case_perms
from casework.identity import Visibility, identity_visibility
from casework.models import ProtectionLevel
from casework.services.cases import case_assign
from core.audit.models import AuditEvent
from core.notifications.models import Notification
from core.outbox.models import OutboxMessage
from core.outbox.services import outbox_sweep
from protection.models import DisclosureGrant, DisclosureRequest
from protection.queries import disclosure as queries
from protection.services import disclosure as services
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db

PURPOSE = "Tell the court liaison officer"
JUSTIFICATION = "The hearing clerk needs the legal name for the summons"
DECISION = "Proportionate for the hearing summons"
NO_NOTICE = "Telling her now would alert the suspect living with her"
ALREADY = "This request was already decided or withdrawn."


def ask(world, case, fields=("legal_name",), actor=None, **extra):
    values = {"purpose": PURPOSE, "justification": JUSTIFICATION}
    values.update(extra)
    return services.disclosure_request_create(
        actor=actor or world.caseworker, case=case, fields=list(fields), **values
    )


def approve(officer, request, **extra):
    values = {"reason": DECISION, "person_notified": True}
    values.update(extra)
    return services.disclosure_request_approve(actor=officer, request=request, **values)


def seen(user, case, field="legal_name", now=None):
    return identity_visibility(
        user, case.person, field, case_perms=case_perms(user=user, case=case, now=now), now=now
    )


def actions():
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


@pytest.fixture
def restricted(world):
    return make_case(world, protection_level=ProtectionLevel.RESTRICTED)


@pytest.fixture
def sealed(world):
    return make_case(world, protection_level=ProtectionLevel.SEALED)


# --- Asking ---------------------------------------------------------------------------------------------


def test_a_request_waits_and_tells_the_serving_officers_by_reference_only(
    world, unit, unserved_officer, restricted
):
    request = ask(world, restricted, fields=["address", "legal_name"], requested_hours=48)
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.PENDING
    assert request.fields == ["legal_name", "address"]
    assert request.requested_hours == 48
    assert request.requester == world.caseworker
    notes = Notification.objects.filter(kind="protection.disclosure_requested")
    assert {note.recipient for note in notes} == {unit.officer, unit.second_officer}
    assert {note.reference for note in notes} == {restricted.reference}
    assert {note.link_path for note in notes} == {f"/en/protection/disclosure/{request.pk}/decide/"}
    event = AuditEvent.objects.get(action="disclosure.requested")
    assert event.fields == ["legal_name", "address"]
    assert event.actor == world.caseworker
    assert event.organisation == world.organisation
    assert event.details["disclosure_request_id"] == request.pk
    assert event.details["officers_serving"] == 2


@pytest.mark.parametrize(
    ("level", "message"),
    [
        (ProtectionLevel.OPEN, "the case team can reveal the identity itself"),
        (ProtectionLevel.CONFIDENTIAL, "the case team can reveal the identity itself"),
        (ProtectionLevel.ANONYMOUS, "no identity was collected"),
    ],
)
def test_no_request_for_an_open_confidential_or_anonymous_person(world, unit, level, message):
    case = make_case(world, protection_level=level)
    with pytest.raises(ValidationError) as refusal:
        ask(world, case)
    assert message in " ".join(refusal.value.messages)
    assert not DisclosureRequest.objects.exists()
    assert "disclosure.requested" not in actions()
    assert not Notification.objects.filter(kind__startswith="protection.").exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"justification": "   "}, "justification", "Say why the work cannot be done without it."),
        ({"purpose": ""}, "purpose", "Say what you need the identity for."),
        ({"fields": ["legal_name", "password"]}, "fields", "Choose identity fields from the list."),
        ({"fields": ["communication_needs"]}, "fields", "Choose identity fields from the list."),
        ({"fields": []}, "fields", "Choose at least one identity field."),
        ({"requested_hours": 0}, "requested_hours", "Ask for between 1 and 720 hours."),
        ({"requested_hours": 721}, "requested_hours", "Ask for between 1 and 720 hours."),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_written(world, unit, restricted, changes, field, message):
    fields = changes.pop("fields", ["legal_name"])
    with pytest.raises(ValidationError) as refusal:
        ask(world, restricted, fields=fields, **changes)
    assert refusal.value.message_dict == {field: [message]}
    assert not DisclosureRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="disclosure.").exists()
    assert not Notification.objects.filter(kind__startswith="protection.").exists()


def test_only_the_case_team_asks(world, unit, restricted):
    for user in (world.colleague, world.outsider, world.other_team_caseworker, unit.officer, world.admin):
        with pytest.raises(PermissionDenied):
            ask(world, restricted, actor=user)
    assert not DisclosureRequest.objects.exists()
    ask(world, restricted, actor=world.supervisor)  # supervisors of the team are on the case team
    assert DisclosureRequest.objects.count() == 1


def test_an_identical_waiting_request_is_refused(world, unit, restricted):
    first = ask(world, restricted, fields=["legal_name", "address"])
    with pytest.raises(ValidationError) as refusal:
        ask(world, restricted, fields=["address", "legal_name"])
    assert refusal.value.messages == ["You already asked for these fields; that request is still waiting."]
    ask(world, restricted, fields=["legal_name"])  # other fields: a new request
    services.disclosure_request_withdraw(actor=world.caseworker, request=first)
    ask(world, restricted, fields=["legal_name", "address"])  # the first no longer waits
    assert DisclosureRequest.objects.count() == 3


def test_with_no_officer_the_request_waits_and_the_admins_are_alerted(world, restricted):
    request = ask(world, restricted)
    assert DisclosureRequest.objects.get().status == DisclosureRequest.Status.PENDING
    alerts = Notification.objects.filter(kind="protection.no_officer")
    assert sorted(note.recipient.username for note in alerts) == ["admin", "admin2"]
    assert {note.reference for note in alerts} == {restricted.reference}
    assert not Notification.objects.filter(kind="protection.disclosure_requested").exists()
    assert AuditEvent.objects.get(action="disclosure.requested").details["officers_serving"] == 0
    assert request.pk


def test_an_ended_arrangement_counts_as_no_officer(world, unit, restricted):
    unit.serving_arrangements.update(ends_on=timezone.localdate() - dt.timedelta(days=1))
    ask(world, restricted)
    assert Notification.objects.filter(kind="protection.no_officer").count() == 2
    assert not Notification.objects.filter(kind="protection.disclosure_requested").exists()


# --- Deciding -------------------------------------------------------------------------------------------


def test_the_requester_never_decides_service_and_database(world, unit, restricted):
    now = timezone.now()
    own = DisclosureRequest.objects.create(
        person=restricted.person,
        case=restricted,
        requester=unit.officer,
        fields=["legal_name"],
        purpose=PURPOSE,
        justification=JUSTIFICATION,
        created_at=now,
    )
    with pytest.raises(PermissionDenied) as refusal:
        approve(unit.officer, own)
    assert str(refusal.value) == "You cannot decide a request you made yourself."
    with pytest.raises(PermissionDenied):
        services.disclosure_request_deny(actor=unit.officer, request=own, reason=DECISION)
    own.refresh_from_db()
    assert own.status == DisclosureRequest.Status.PENDING
    assert not DisclosureGrant.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        DisclosureRequest.objects.filter(pk=own.pk).update(
            first_decided_by=unit.officer, first_decided_at=now
        )


def test_two_different_officers_is_a_database_rule_too(world, unit, sealed):
    request = ask(world, sealed)
    approve(unit.officer, request)
    with pytest.raises(IntegrityError), transaction.atomic():
        DisclosureRequest.objects.filter(pk=request.pk).update(second_decided_by=unit.officer)


@pytest.mark.parametrize("who", ["caseworker", "colleague", "supervisor", "admin", "unserved", "outsider"])
def test_only_a_serving_officer_decides(world, unit, unserved_officer, restricted, who):
    user = unserved_officer if who == "unserved" else getattr(world, who)
    request = ask(world, restricted)
    with pytest.raises(PermissionDenied):
        approve(user, request)
    with pytest.raises(PermissionDenied):
        services.disclosure_request_deny(actor=user, request=request, reason=DECISION)
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.PENDING
    assert request.first_decided_by is None
    assert not DisclosureGrant.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["disclosure.approved", "disclosure.denied"]).exists()


def test_approval_needs_a_reason_and_a_record_of_telling_the_person(world, unit, restricted):
    request = ask(world, restricted)
    with pytest.raises(ValidationError) as refusal:
        approve(unit.officer, request, reason="  ")
    assert refusal.value.message_dict == {"reason": ["Give the reason for your decision."]}
    with pytest.raises(ValidationError) as refusal:
        approve(unit.officer, request, person_notified=False)
    assert refusal.value.message_dict == {
        "no_notification_reason": ["Record that the person has been told, or why they are not told."]
    }
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.PENDING
    assert not DisclosureGrant.objects.exists()
    approve(unit.officer, request, person_notified=False, no_notification_reason=NO_NOTICE)
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.APPROVED
    assert request.person_notified_at is None
    assert request.no_notification_reason == NO_NOTICE


def test_approval_grants_the_fields_until_expiry_then_hides_them(world, unit, restricted):
    request = ask(world, restricted, requested_hours=10)
    assert seen(world.caseworker, restricted) == Visibility.HIDDEN
    before = timezone.now()
    approve(unit.officer, request)
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.APPROVED
    assert request.first_decided_by == unit.officer
    assert request.person_notified_at is not None
    grant = DisclosureGrant.objects.get()
    assert grant.request == request
    assert grant.kind == DisclosureGrant.Kind.REQUEST
    assert grant.grantee == world.caseworker
    assert grant.granted_by == unit.officer
    assert grant.fields == ["legal_name"]
    assert grant.purpose == PURPOSE
    assert grant.expires_at - grant.starts_at == dt.timedelta(hours=10)
    assert grant.starts_at >= before
    assert seen(world.caseworker, restricted) == Visibility.AUDITED
    assert seen(world.caseworker, restricted, "address") == Visibility.HIDDEN
    assert seen(world.supervisor, restricted) == Visibility.HIDDEN
    note = Notification.objects.get(kind="protection.disclosure_decided")
    assert (note.recipient, note.reference) == (world.caseworker, restricted.reference)
    event = AuditEvent.objects.get(action="disclosure.approved")
    assert event.fields == ["legal_name"]
    assert event.details["grant_id"] == grant.pk

    later = grant.expires_at + dt.timedelta(minutes=1)
    assert seen(world.caseworker, restricted, now=later) == Visibility.HIDDEN  # re-checked before the task
    assert services.grants_expire(now=grant.starts_at + dt.timedelta(hours=1)) == {"grants": 0, "requests": 0}
    assert services.grants_expire(now=later) == {"grants": 1, "requests": 0}
    assert services.grants_expire(now=later) == {"grants": 0, "requests": 0}  # idempotent
    grant.refresh_from_db()
    assert grant.ended_reason == "expired"
    expired = AuditEvent.objects.filter(action="grant.expired")
    assert [(event.object_id, event.actor_id) for event in expired] == [(str(grant.pk), None)]
    assert expired.get().organisation == world.organisation
    assert seen(world.caseworker, restricted, now=later) == Visibility.HIDDEN


def test_sealed_needs_two_different_officers(world, unit, sealed):
    request = ask(world, sealed)
    approve(unit.officer, request)
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.AWAITING_SECOND
    assert not DisclosureGrant.objects.exists()
    assert seen(world.caseworker, sealed) == Visibility.HIDDEN
    assert not Notification.objects.filter(kind="protection.disclosure_decided").exists()
    second = Notification.objects.get(kind="protection.disclosure_second_needed")
    assert second.recipient == unit.second_officer

    with pytest.raises(PermissionDenied) as refusal:
        approve(unit.officer, request)
    assert str(refusal.value) == "A second, different protection officer must take this decision."
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.AWAITING_SECOND
    assert request.second_decided_by is None
    assert not DisclosureGrant.objects.exists()

    assert request in queries.disclosure_requests_pending(unit.second_officer)
    assert request not in queries.disclosure_requests_pending(unit.officer)

    approve(unit.second_officer, request, reason="Agreed with the first officer")
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.APPROVED
    assert (request.first_decided_by, request.second_decided_by) == (unit.officer, unit.second_officer)
    assert request.decision_reason == f"{DECISION}\n\nAgreed with the first officer"
    grant = DisclosureGrant.objects.get()
    assert grant.granted_by == unit.second_officer
    assert seen(world.caseworker, sealed) == Visibility.AUDITED
    assert AuditEvent.objects.filter(action="disclosure.second_approval").count() == 1
    assert AuditEvent.objects.get(action="disclosure.approved").details["awaiting_second"] is True


def test_sealed_second_officer_may_deny(world, unit, sealed):
    request = ask(world, sealed)
    approve(unit.officer, request)
    services.disclosure_request_deny(actor=unit.second_officer, request=request, reason="Not proportionate")
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.DENIED
    assert request.second_decided_by == unit.second_officer
    assert not DisclosureGrant.objects.exists()
    assert Notification.objects.get(kind="protection.disclosure_decided").recipient == world.caseworker


def test_deny_needs_a_reason_and_is_audited(world, unit, restricted):
    request = ask(world, restricted)
    with pytest.raises(ValidationError):
        services.disclosure_request_deny(actor=unit.officer, request=request, reason="")
    services.disclosure_request_deny(actor=unit.officer, request=request, reason="Not needed for the work")
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.DENIED
    assert request.first_decided_by == unit.officer
    assert AuditEvent.objects.get(action="disclosure.denied").fields == ["legal_name"]
    assert seen(world.caseworker, restricted) == Visibility.HIDDEN


@pytest.mark.parametrize("how", ["approved", "denied", "withdrawn", "expired", "expired_by_clock"])
def test_a_request_no_longer_waiting_cannot_be_decided(world, unit, restricted, how):
    request = ask(world, restricted)
    now = None
    if how == "approved":
        approve(unit.officer, request)
    elif how == "denied":
        services.disclosure_request_deny(actor=unit.officer, request=request, reason=DECISION)
    elif how == "withdrawn":
        services.disclosure_request_withdraw(actor=world.caseworker, request=request)
    elif how == "expired":
        services.grants_expire(now=timezone.now() + dt.timedelta(days=15))
    else:
        now = timezone.now() + dt.timedelta(days=15)  # the task has not run yet
    before = DisclosureRequest.objects.get(pk=request.pk)
    grants = DisclosureGrant.objects.count()
    for decide in (
        lambda: approve(unit.second_officer, request, now=now),
        lambda: services.disclosure_request_deny(
            actor=unit.second_officer, request=request, reason=DECISION, now=now
        ),
        lambda: services.disclosure_request_withdraw(actor=world.caseworker, request=request, now=now),
    ):
        with pytest.raises(ValidationError) as refusal:
            decide()
        assert refusal.value.messages == [ALREADY]
    after = DisclosureRequest.objects.get(pk=request.pk)
    assert (after.status, after.first_decided_by_id, after.second_decided_by_id) == (
        before.status,
        before.first_decided_by_id,
        before.second_decided_by_id,
    )
    assert DisclosureGrant.objects.count() == grants


def test_only_the_requester_withdraws(world, unit, restricted):
    request = ask(world, restricted)
    for user in (world.supervisor, unit.officer, world.colleague):
        with pytest.raises(PermissionDenied):
            services.disclosure_request_withdraw(actor=user, request=request)
    services.disclosure_request_withdraw(actor=world.caseworker, request=request)
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.WITHDRAWN
    assert AuditEvent.objects.get(action="disclosure.withdrawn").actor == world.caseworker


@override_settings(HAVEN_DISCLOSURE_REQUEST_DAYS=2)
def test_requests_left_undecided_expire_after_the_configured_days(world, unit, restricted, sealed):
    waiting = ask(world, restricted)
    half_way = ask(world, sealed)
    approve(unit.officer, half_way)
    assert services.grants_expire(now=timezone.now() + dt.timedelta(days=1)) == {"grants": 0, "requests": 0}
    assert services.grants_expire(now=timezone.now() + dt.timedelta(days=3)) == {"grants": 0, "requests": 2}
    for request in (waiting, half_way):
        request.refresh_from_db()
        assert request.status == DisclosureRequest.Status.EXPIRED
    assert AuditEvent.objects.filter(action="disclosure.expired").count() == 2
    assert services.grants_expire(now=timezone.now() + dt.timedelta(days=3)) == {"grants": 0, "requests": 0}


# --- Grants ---------------------------------------------------------------------------------------------


def test_an_officer_revokes_a_grant(world, unit, unserved_officer, restricted):
    approve(unit.officer, ask(world, restricted))
    grant = DisclosureGrant.objects.get()
    for user in (world.caseworker, world.supervisor, world.admin, unserved_officer):
        with pytest.raises(PermissionDenied):
            services.grant_revoke(actor=user, grant=grant, reason_code="purpose_met")
    with pytest.raises(ValidationError):
        services.grant_revoke(actor=unit.second_officer, grant=grant, reason_code="because")
    assert seen(world.caseworker, restricted) == Visibility.AUDITED
    services.grant_revoke(actor=unit.second_officer, grant=grant, reason_code="misuse_suspected")
    grant.refresh_from_db()
    assert grant.revoked_by == unit.second_officer
    assert grant.ended_reason == "revoked"
    assert seen(world.caseworker, restricted) == Visibility.HIDDEN
    event = AuditEvent.objects.get(action="grant.revoked")
    assert event.details["reason"] == "misuse_suspected"
    assert event.fields == ["legal_name"]
    with pytest.raises(ValidationError) as refusal:
        services.grant_revoke(actor=unit.officer, grant=grant, reason_code="purpose_met")
    assert refusal.value.messages == ["This grant has already ended."]
    assert services.grants_expire(now=grant.expires_at + dt.timedelta(hours=1)) == {
        "grants": 0,
        "requests": 0,
    }


def test_grants_end_for_person_ends_every_live_grant(world, unit, restricted):
    approve(unit.officer, ask(world, restricted))
    approve(unit.officer, ask(world, restricted, actor=world.supervisor, fields=["address"]))
    standing = services.standing_grant_create(actor=unit.officer, case=restricted)
    assert (
        services.grants_end_for_person(
            actor=world.caseworker, person=restricted.person, reason_code="level_raised"
        )
        == 3
    )
    assert set(DisclosureGrant.objects.values_list("ended_reason", flat=True)) == {"level_raised"}
    assert AuditEvent.objects.filter(action="grant.ended").count() == 3
    assert seen(world.caseworker, restricted) == Visibility.HIDDEN
    assert seen(world.caseworker, restricted, "contact_channels") == Visibility.HIDDEN
    assert (
        services.grants_end_for_person(actor=None, person=restricted.person, reason_code="level_raised") == 0
    )
    assert standing.pk


def test_standing_contact_grant_shows_channels_only_and_lapses_without_review(world, unit, restricted):
    now = timezone.now()
    grant = services.standing_grant_create(actor=unit.officer, case=restricted, now=now)
    assert services.standing_grant_create(actor=unit.second_officer, case=restricted, now=now) == grant
    assert DisclosureGrant.objects.count() == 1
    assert grant.kind == DisclosureGrant.Kind.STANDING_CONTACT
    assert grant.fields == ["contact_channels"]
    assert grant.grantee == world.caseworker
    assert grant.review_due_at == now + dt.timedelta(days=30)
    assert grant.expires_at == now + dt.timedelta(days=365)
    assert seen(world.caseworker, restricted, "contact_channels", now=now) == Visibility.AUDITED
    assert seen(world.caseworker, restricted, "legal_name", now=now) == Visibility.HIDDEN
    assert AuditEvent.objects.get(action="grant.standing_created").fields == ["contact_channels"]

    overdue = now + dt.timedelta(days=31)
    assert seen(world.caseworker, restricted, "contact_channels", now=overdue) == Visibility.HIDDEN
    assert list(queries.standing_grants_review_due(unit.officer, now=overdue)) == [grant]
    assert list(queries.standing_grants_review_due(unit.officer, now=now)) == []
    with pytest.raises(PermissionDenied):
        services.standing_grant_review(actor=world.supervisor, grant=grant, now=overdue)
    services.standing_grant_review(actor=unit.second_officer, grant=grant, now=overdue)
    grant.refresh_from_db()
    assert grant.review_due_at == overdue + dt.timedelta(days=30)
    assert seen(world.caseworker, restricted, "contact_channels", now=overdue) == Visibility.AUDITED
    assert AuditEvent.objects.get(action="grant.reviewed").actor == unit.second_officer


@pytest.mark.parametrize("level", [ProtectionLevel.CONFIDENTIAL, ProtectionLevel.SEALED])
def test_standing_contact_grant_only_for_a_restricted_person(world, unit, level):
    case = make_case(world, protection_level=level)
    with pytest.raises(ValidationError):
        services.standing_grant_create(actor=unit.officer, case=case)
    assert not DisclosureGrant.objects.exists()


def test_only_an_officer_gives_a_standing_contact_grant(world, unit, unserved_officer, restricted):
    for user in (world.caseworker, world.supervisor, world.admin, unserved_officer):
        with pytest.raises(PermissionDenied):
            services.standing_grant_create(actor=user, case=restricted)
    assert not DisclosureGrant.objects.exists()


def test_reassigning_the_case_ends_the_previous_caseworkers_standing_grant(world, unit, restricted):
    grant = services.standing_grant_create(actor=unit.officer, case=restricted)
    assert (
        services.standing_grants_end_for_case(actor=world.supervisor, case=restricted, reason="reassigned")
        == 0
    )
    # The reassignment itself ends the previous caseworker's standing grant; calling again finds none.
    case_assign(actor=world.supervisor, case=restricted, caseworker=world.colleague)
    assert (
        services.standing_grants_end_for_case(actor=world.supervisor, case=restricted, reason="reassigned")
        == 0
    )
    grant.refresh_from_db()
    assert grant.ended_reason == "reassigned"
    assert grant.revoked_by == world.supervisor
    assert AuditEvent.objects.get(action="grant.ended").details["reason"] == "reassigned"


def test_desk_queues(world, unit, unserved_officer, restricted):
    request = ask(world, restricted, requested_hours=10)
    assert list(queries.disclosure_requests_pending(unit.officer)) == [request]
    assert list(queries.disclosure_requests_pending(unserved_officer)) == []
    assert list(queries.disclosure_requests_pending(world.supervisor)) == []
    approve(unit.officer, request)
    assert list(queries.disclosure_requests_pending(unit.officer)) == []
    grant = DisclosureGrant.objects.get()
    assert list(queries.grants_expiring(unit.officer)) == [grant]
    assert list(queries.grants_expiring(unit.officer, within_hours=5)) == []
    assert list(queries.grants_expiring(unserved_officer)) == []


# --- Nothing leaks --------------------------------------------------------------------------------------


def test_texts_are_encrypted_and_nothing_identifying_leaves(world, unit, sealed):
    request = ask(world, sealed)
    approve(unit.officer, request, person_notified=False, no_notification_reason=NO_NOTICE)
    approve(unit.second_officer, request, reason="Second look agrees")
    grant = DisclosureGrant.objects.get()
    services.grant_revoke(actor=unit.officer, grant=grant, reason_code="purpose_met")
    plaintexts = [PURPOSE, JUSTIFICATION, DECISION, NO_NOTICE, "Second look agrees"]

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT purpose, justification, decision_reason, no_notification_reason "
            "FROM protection_disclosurerequest"
        )
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
        cursor.execute("SELECT purpose FROM protection_disclosuregrant")
        stored += " ".join(str(row[0]) for row in cursor.fetchall())
        cursor.execute("SELECT details::text, fields::text FROM audit_auditevent")
        audit = " ".join(str(value) for row in cursor.fetchall() for value in row)
    for text in plaintexts:
        assert text not in stored
        assert text not in audit

    identity = ["Maria", "Example", "Mari", *plaintexts]
    notes = list(Notification.objects.values_list("kind", "reference", "link_path"))
    assert notes
    for note in notes:
        for text in identity:
            assert text not in " ".join(note)
    assert OutboxMessage.objects.exists()
    for payload in OutboxMessage.objects.values_list("payload", flat=True):
        for text in identity:
            assert text not in str(payload)
    outbox_sweep()
    assert len(mail.outbox) == Notification.objects.count()
    for message in mail.outbox:
        for text in identity:
            assert text not in message.subject
            assert text not in message.body
    recorded = set(actions())
    assert {
        "disclosure.requested",
        "disclosure.approved",
        "disclosure.second_approval",
        "grant.revoked",
    } <= recorded


def test_the_cases_counsellor_may_ask_and_then_sees_the_granted_field(world, unit):
    # SPEC §3: a counsellor reaches a restricted person's identity through a grant, like the caseworker.
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED, with_counsellor=True)
    request = ask(world, case, actor=world.counsellor)
    assert seen(world.counsellor, case) == Visibility.HIDDEN
    approve(unit.officer, request)
    assert seen(world.counsellor, case) == Visibility.AUDITED
    assert seen(world.counsellor, case, field="address") == Visibility.HIDDEN


def test_a_colleague_who_may_only_list_the_case_cannot_ask(world, restricted):
    with pytest.raises(PermissionDenied):
        ask(world, restricted, actor=world.colleague)
    assert not DisclosureRequest.objects.exists()

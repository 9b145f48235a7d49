"""The sending side's services: drafts, guards, send, conflict check, cancel, re-route, hooks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from casework.models import ChannelKind, ChannelSafety, LawfulBasis, ProtectionLevel, Task, TaskKind
from casework.selectors.consent import lawful_bases_awaiting_review
from casework.services.consent import consent_withdraw, lawful_basis_review
from casework.services.people import channel_add, channel_update
from core.notifications.models import Notification
from core.outbox.models import OutboxMessage
from core.permissions import objects_for_user
from referrals.models import (
    ConflictCheck,
    LedgerEntry,
    PartnerAgreement,
    Referral,
    ReferralEvent,
    ReferralSnapshot,
    ReferralState,
    Service,
)
from referrals.services import sending
from referrals.snapshot import snapshot_loads, snapshot_rows
from tests.referrals.conftest import make_case
from tests.referrals.test_sending_support import (
    ADVERSE,
    NEEDS,
    answer_conflict,
    assert_nothing_sent,
    cleared_legal_draft,
    counts,
    give_consent,
    make_draft,
    record_emergency,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw(referral_world):
    return referral_world


@pytest.fixture
def case(rw):
    return make_case(rw.world, with_counsellor=True, protection_level=ProtectionLevel.OPEN)


def _send(rw, referral):
    return sending.referral_send(actor=rw.world.caseworker, referral=referral)


# --- references, drafts -------------------------------------------------------------------------------


def test_references_count_up_per_year(rw, case):
    first = make_draft(rw.world, case, rw.counselling_service)
    second = make_draft(rw.world, case, rw.counselling_service)
    year = timezone.now().year
    assert first.reference == f"RF-{year}-000001"
    assert second.reference == f"RF-{year}-000002"
    assert str(first) == first.reference


def test_draft_stores_choices_and_encrypts_needs(rw, case):
    referral = make_draft(
        rw.world, case, rw.counselling_service, fields=["legal_name", "language"], is_urgent=True
    )
    assert referral.state == ReferralState.DRAFT
    assert referral.partner == rw.counselling
    assert referral.shared_fields == ["pseudonym", "needs", "legal_name", "language"]
    assert referral.is_urgent is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason_for_referral FROM referrals_referral WHERE id = %s", [referral.pk])
        raw = cursor.fetchone()[0]
    assert "fake investment" not in raw
    assert not Notification.objects.exists()


def test_draft_refuses_inactive_service_unknown_fields_and_outsiders(rw, case):
    with pytest.raises(ValidationError) as error:
        make_draft(rw.world, case, rw.legal_service_closed)
    assert "service" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_draft(rw.world, case, rw.counselling_service, fields=["address"])
    assert "fields" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_draft(rw.world, case, rw.counselling_service, needs="  ")
    assert "needs" in error.value.message_dict
    for user in (rw.world.outsider, rw.world.colleague, rw.world.counsellor, rw.counselling_user):
        with pytest.raises(PermissionDenied):
            sending.referral_draft_create(
                actor=user, case=case, service=rw.counselling_service, needs=NEEDS, fields=[]
            )
    assert Referral.objects.count() == 0


def test_services_for_referral_lists_active_services_only(rw):
    services = sending.services_for_referral()
    assert rw.legal_service in services and rw.counselling_service in services
    assert rw.legal_service_closed not in services


# --- send: the happy path ------------------------------------------------------------------------------


def test_send_copies_snapshot_grants_ledger_history_and_notifies(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(
        rw.world, case, rw.counselling_service, fields=["preferred_name", "language", "risk_level"]
    )
    now = timezone.now()
    sent = sending.referral_send(actor=rw.world.caseworker, referral=referral, now=now)

    assert sent.state == ReferralState.SENT
    assert sent.sent_at == now
    assert sent.basis == "consent"
    assert sent.consent is not None
    assert sent.receive_due_at is not None and sent.receive_due_at > now
    assert sent.decide_due_at is not None and sent.decide_due_at > sent.receive_due_at - dt.timedelta(days=1)
    snapshot = ReferralSnapshot.objects.get(referral=sent)
    data = snapshot_loads(snapshot.data)
    assert set(data) == {"pseudonym", "needs", "preferred_name", "language", "risk_level"}
    assert data["preferred_name"] == "Mari"
    assert data["needs"] == NEEDS
    assert snapshot.fields == ["pseudonym", "needs", "preferred_name", "language", "risk_level"]

    entry = LedgerEntry.objects.get(referral=sent)
    assert entry.purpose == "referral"
    assert entry.basis == "consent"
    assert entry.fields == ["pseudonym", "needs", "preferred_name", "language", "risk_level"]
    assert entry.recipient_organisation == rw.counselling
    assert entry.person == case.person
    assert entry.status == LedgerEntry.Status.HELD

    kinds = list(ReferralEvent.objects.filter(referral=sent).values_list("kind", "to_state"))
    assert kinds == [("state_changed", "draft"), ("state_changed", "sent"), ("snapshot_sent", "")]

    # The partner organisation's group holds view and decide; the other partner sees nothing.
    visible = objects_for_user(rw.counselling_user, "referrals.view_referral", Referral.objects.all())
    assert list(visible) == [sent]
    decide = objects_for_user(rw.counselling_admin, "referrals.decide_referral", Referral.objects.all())
    assert list(decide) == [sent]
    assert not objects_for_user(rw.legal_user, "referrals.view_referral", Referral.objects.all()).exists()
    assert not objects_for_user(
        rw.world.caseworker, "referrals.view_referral", Referral.objects.all()
    ).exists()

    notes = Notification.objects.order_by("recipient_id")
    assert {note.recipient for note in notes} == {rw.counselling_user, rw.counselling_admin}
    for note in notes:
        assert note.kind == "referrals.received_new"
        assert note.reference == sent.reference
        assert note.link_path.endswith(f"/referrals/portal/{sent.reference}/")
    assert OutboxMessage.objects.count() == 2


def test_deadlines_come_from_the_partner_calendar(rw, case):
    from referrals.calendar import referral_deadlines

    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service, is_urgent=True)
    now = timezone.now()
    sent = sending.referral_send(actor=rw.world.caseworker, referral=referral, now=now)
    assert (sent.receive_due_at, sent.decide_due_at) == referral_deadlines(sent, now)
    assert sent.receive_due_at == now + dt.timedelta(hours=4)


# --- the guards ----------------------------------------------------------------------------------------


def _refused(rw, referral, guard):
    before = counts()
    with pytest.raises(sending.ReferralRefused) as error:
        _send(rw, referral)
    assert error.value.guard == guard
    assert str(sending.GUARD_LABELS[guard]) in error.value.messages[0]
    assert_nothing_sent(referral, before)
    return error.value.messages[0]


def test_guard_consent(rw, case):
    referral = make_draft(rw.world, case, rw.counselling_service)
    message = _refused(rw, referral, sending.GUARD_CONSENT)
    assert "has not consented to a referral" in message


def test_guard_processing_consent_alone_is_not_consent_to_refer(rw, case):
    give_consent(rw.world, case, scopes=["processing"])
    referral = make_draft(rw.world, case, rw.counselling_service)
    _refused(rw, referral, sending.GUARD_CONSENT)


def test_guard_cross_border(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral"])
    referral = make_draft(rw.world, case, rw.counselling_service)  # DE, Haven in GB
    message = _refused(rw, referral, sending.GUARD_CROSS_BORDER)
    assert "abroad" in message


def test_home_country_partner_needs_no_cross_border_consent(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral"])
    referral = cleared_legal_draft(rw, case)
    assert _send(rw, referral).state == ReferralState.SENT


@pytest.mark.parametrize(
    "change",
    [
        {"terminated_on": dt.date(2025, 6, 1)},
        {"expires_on": dt.date(2025, 6, 1)},
    ],
)
def test_guard_agreement(rw, case, change):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service)
    PartnerAgreement.objects.filter(pk=rw.counselling_agreement.pk).update(**change)
    _refused(rw, referral, sending.GUARD_AGREEMENT)


def test_guard_agreement_missing(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service)
    PartnerAgreement.objects.filter(pk=rw.counselling_agreement.pk).delete()
    _refused(rw, referral, sending.GUARD_AGREEMENT)


@pytest.mark.parametrize("change", [{"status": "inactive"}, {"accepting_referrals": False}])
def test_guard_service(rw, case, change):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service)
    Service.objects.filter(pk=rw.counselling_service.pk).update(**change)
    _refused(rw, referral, sending.GUARD_SERVICE)


def test_guard_conflict_check_missing_unanswered_and_conflict(rw, case):
    give_consent(rw.world, case)
    referral = make_draft(rw.world, case, rw.legal_service)
    assert "Send one first" in _refused(rw, referral, sending.GUARD_CONFLICT)
    sending.conflict_check_send(actor=rw.world.caseworker, referral=referral, adverse_parties=ADVERSE)
    assert "not answered" in _refused(rw, referral, sending.GUARD_CONFLICT)
    answer_conflict(rw, referral, "conflict")
    referral.refresh_from_db()
    assert "conflict of interest" in _refused(rw, referral, sending.GUARD_CONFLICT)


def test_potential_conflict_may_be_sent(rw, case):
    give_consent(rw.world, case)
    referral = make_draft(rw.world, case, rw.legal_service)
    sending.conflict_check_send(actor=rw.world.caseworker, referral=referral, adverse_parties=ADVERSE)
    answer_conflict(rw, referral, "potential")
    assert _send(rw, referral).state == ReferralState.SENT


def test_sending_twice_sends_once(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service)
    _send(rw, referral)
    before = counts()
    with pytest.raises(sending.ReferralRefused) as error:
        _send(rw, referral)  # the stale draft object of a double-click
    assert error.value.guard == sending.GUARD_STATE
    assert counts() == before
    assert ReferralSnapshot.objects.filter(referral=referral).count() == 1
    assert LedgerEntry.objects.filter(referral=referral).count() == 1


def test_send_after_consent_withdrawal_is_refused(rw, case):
    consent = give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    consent_withdraw(actor=rw.world.caseworker, consent=consent)
    referral = make_draft(rw.world, case, rw.counselling_service)
    _refused(rw, referral, sending.GUARD_CONSENT)


def test_draft_cancelled_by_withdrawal_cannot_be_sent(rw, case):
    consent = give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service)
    consent_withdraw(actor=rw.world.caseworker, consent=consent)
    referral.refresh_from_db()
    assert referral.state == ReferralState.CANCELLED
    assert referral.outcome_reason == "consent_withdrawn"
    assert not Notification.objects.exists()  # nothing had left: nobody to tell
    with pytest.raises(sending.ReferralRefused) as error:
        _send(rw, referral)
    assert error.value.guard == sending.GUARD_STATE
    assert not ReferralSnapshot.objects.exists()


def test_send_to_inactive_service_refused(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service)
    Service.objects.filter(pk=rw.counselling_service.pk).update(status=Service.Status.INACTIVE)
    _refused(rw, referral, sending.GUARD_SERVICE)


def test_refused_send_is_audited(rw, case):
    from core.audit.models import AuditEvent

    referral = make_draft(rw.world, case, rw.counselling_service)
    with pytest.raises(sending.ReferralRefused):
        _send(rw, referral)
    event = AuditEvent.objects.filter(action="referral.send_refused").get()
    assert event.outcome == "refused"
    assert event.details == {"guard": "consent"}


def test_only_the_case_team_sends(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service)
    before = counts()
    for user in (
        rw.world.colleague,
        rw.world.counsellor,
        rw.world.outsider,
        rw.counselling_user,
        rw.world.auditor,
    ):
        with pytest.raises(PermissionDenied):
            sending.referral_send(actor=user, referral=referral)
    assert_nothing_sent(referral, before)
    assert sending.referral_send(actor=rw.world.supervisor, referral=referral).state == ReferralState.SENT


# --- emergency basis ----------------------------------------------------------------------------------


def test_emergency_basis_sends_and_waits_for_review(rw, case):
    basis = record_emergency(rw.world, case)
    referral = make_draft(rw.world, case, rw.counselling_service)  # abroad, and no consent at all
    sent = _send(rw, referral)
    assert sent.basis == "emergency"
    assert sent.lawful_basis == basis
    assert sent.consent is None
    assert LedgerEntry.objects.get(referral=sent).basis == "emergency"
    assert basis in lawful_bases_awaiting_review(rw.world.supervisor)


def test_emergency_basis_reviewed_before_is_flagged_again(rw, case):
    basis = record_emergency(rw.world, case)
    lawful_basis_review(actor=rw.world.supervisor, basis=basis, upheld=True)
    referral = make_draft(rw.world, case, rw.counselling_service)
    sent = _send(rw, referral)
    assert sent.lawful_basis != basis
    assert sent.lawful_basis.kind == "vital_interests"
    assert sent.reference in sent.lawful_basis.reason
    assert list(lawful_bases_awaiting_review(rw.world.supervisor)) == [sent.lawful_basis]


def test_emergency_basis_not_upheld_does_not_count(rw, case):
    basis = record_emergency(rw.world, case)
    lawful_basis_review(actor=rw.world.supervisor, basis=basis, upheld=False)
    referral = make_draft(rw.world, case, rw.counselling_service)
    _refused(rw, referral, sending.GUARD_CONSENT)
    assert LawfulBasis.objects.filter(case=case).count() == 1


# --- snapshot contents --------------------------------------------------------------------------------


def test_preview_equals_snapshot(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    channel = channel_add(actor=rw.world.caseworker, case=case, kind=ChannelKind.PHONE, value="+447700900123")
    referral = make_draft(
        rw.world,
        case,
        rw.counselling_service,
        fields=["preferred_name", "legal_name", "language", "communication_needs", "case_kind", "risk_level"],
        channel_ids=[channel.pk],
    )
    preview = sending.referral_snapshot_for_sender(actor=rw.world.caseworker, referral=referral)
    built = sending.referral_preview(actor=rw.world.caseworker, referral=referral)
    _send(rw, referral)
    data = snapshot_loads(ReferralSnapshot.objects.get(referral=referral).data)
    assert data == built.data
    assert snapshot_rows(data) == preview.rows
    labels = [row.label for row in preview.rows]
    assert labels == [
        "Pseudonym",
        "What the client needs",
        "Preferred name",
        "Legal name",
        "Language and interpreter need",
        "Communication and accessibility needs",
        "Contact channels",
        "Kind of case and categories",
        "Risk level",
    ]


def test_snapshot_holds_only_the_chosen_fields(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service, fields=["risk_level"])
    _send(rw, referral)
    snapshot = ReferralSnapshot.objects.get(referral=referral)
    data = snapshot_loads(snapshot.data)
    assert set(data) == {"pseudonym", "needs", "risk_level"}
    assert "Maria Example" not in snapshot.data and "Mari" not in json.dumps(data)
    assert data["pseudonym"] == case.person.pseudonym


def test_compromised_channels_are_not_offered_and_safe_ones_travel(rw, case):
    safe = channel_add(actor=rw.world.caseworker, case=case, kind=ChannelKind.EMAIL, value="mari@example.org")
    unsafe = channel_add(
        actor=rw.world.caseworker,
        case=case,
        kind=ChannelKind.PHONE,
        value="+447700900999",
        safety=ChannelSafety.COMPROMISED,
    )
    options = sending.draft_options(actor=rw.world.caseworker, case=case)
    assert [channel.pk for channel in options.channels] == [safe.pk]
    with pytest.raises(ValidationError) as error:
        make_draft(rw.world, case, rw.counselling_service, channel_ids=[unsafe.pk])
    assert "channels" in error.value.message_dict
    referral = make_draft(rw.world, case, rw.counselling_service, channel_ids=[safe.pk])
    assert referral.shared_fields == [
        "pseudonym",
        "needs",
        "language",
        "contact_channels",
        "risk_level",
        f"channel:{safe.pk}",
    ]


def test_restricted_person_identity_waits_for_acceptance(rw):
    case = make_case(rw.world, protection_level=ProtectionLevel.RESTRICTED)
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    options = sending.draft_options(actor=rw.world.caseworker, case=case)
    assert options.offers["legal_name"].is_offered and options.offers["legal_name"].is_pending_release
    referral = make_draft(rw.world, case, rw.counselling_service, fields=["legal_name", "language"])
    preview = sending.referral_snapshot_for_sender(actor=rw.world.caseworker, referral=referral)
    row = next(row for row in preview.rows if row.name == "legal_name")
    assert row.is_pending_release
    assert row.lines[0].text == "Released after acceptance, with a protection officer's grant"
    _send(rw, referral)
    snapshot = ReferralSnapshot.objects.get(referral=referral)
    assert "Maria" not in snapshot_loads(snapshot.data).__repr__()
    assert snapshot_loads(snapshot.data)["legal_name"] == {"pending_release": True}
    assert LedgerEntry.objects.get(referral=referral).fields == ["pseudonym", "needs", "language"]


def test_sealed_person_cannot_be_referred_with_identity(rw):
    case = make_case(rw.world, protection_level=ProtectionLevel.SEALED)
    options = sending.draft_options(actor=rw.world.caseworker, case=case)
    for name in ("preferred_name", "legal_name", "date_of_birth", "contact_channels"):
        assert not options.offers[name].is_offered
    with pytest.raises(ValidationError):
        make_draft(rw.world, case, rw.counselling_service, fields=["legal_name"])
    referral = make_draft(rw.world, case, rw.counselling_service, fields=["language", "risk_level"])
    assert referral.shared_fields == ["pseudonym", "needs", "language", "risk_level"]


def test_identity_sealed_after_drafting_stops_the_send(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service, fields=["legal_name"])
    type(case.person).objects.filter(pk=case.person_id).update(protection_level=ProtectionLevel.SEALED)
    _refused(rw, referral, sending.GUARD_FIELDS)


def test_confidential_preview_is_audited_as_a_reveal(rw):
    from core.audit.models import AuditEvent

    case = make_case(rw.world, protection_level=ProtectionLevel.CONFIDENTIAL)
    referral = make_draft(rw.world, case, rw.counselling_service, fields=["legal_name"])
    sending.referral_snapshot_for_sender(actor=rw.world.caseworker, referral=referral)
    event = AuditEvent.objects.filter(action="referral.previewed").get()
    assert event.fields == ["legal_name"]


def test_ledger_is_written_in_the_send_transaction(rw, case, monkeypatch):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = make_draft(rw.world, case, rw.counselling_service)
    before = counts()

    def boom(*args, **kwargs):
        raise RuntimeError("notification store down")

    monkeypatch.setattr(sending, "notification_send", boom)
    with pytest.raises(RuntimeError):
        _send(rw, referral)
    assert_nothing_sent(referral, before)


# --- conflict check ------------------------------------------------------------------------------------


def test_conflict_check_sends_adverse_parties_only(rw, case):
    give_consent(rw.world, case)
    referral = make_draft(rw.world, case, rw.legal_service, fields=["legal_name"])
    check = sending.conflict_check_send(actor=rw.world.caseworker, referral=referral, adverse_parties=ADVERSE)
    assert check.adverse_parties == ADVERSE
    entry = LedgerEntry.objects.get(referral=referral)
    assert (entry.purpose, entry.fields, entry.basis) == ("conflict_check", ["adverse_parties"], "consent")
    assert not ReferralSnapshot.objects.exists()
    referral.refresh_from_db()
    assert referral.state == ReferralState.DRAFT
    assert list(objects_for_user(rw.legal_user, "referrals.decide_referral", Referral.objects.all())) == [
        referral
    ]
    assert not objects_for_user(
        rw.counselling_user, "referrals.view_referral", Referral.objects.all()
    ).exists()
    assert set(Notification.objects.values_list("kind", flat=True)) == {"referrals.conflict_check_new"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT adverse_parties FROM referrals_conflictcheck WHERE id = %s", [check.pk])
        assert "QuickCoin" not in cursor.fetchone()[0]
    with pytest.raises(sending.ReferralRefused):
        sending.conflict_check_send(actor=rw.world.caseworker, referral=referral, adverse_parties=ADVERSE)
    assert ConflictCheck.objects.count() == 1


def test_conflict_check_under_the_same_guards(rw, case):
    referral = make_draft(rw.world, case, rw.legal_service)
    before = counts()
    with pytest.raises(sending.ReferralRefused) as error:
        sending.conflict_check_send(actor=rw.world.caseworker, referral=referral, adverse_parties=ADVERSE)
    assert error.value.guard == sending.GUARD_CONSENT
    assert counts() == before
    give_consent(rw.world, case)
    Service.objects.filter(pk=rw.legal_service.pk).update(accepting_referrals=False)
    with pytest.raises(sending.ReferralRefused) as error:
        sending.conflict_check_send(actor=rw.world.caseworker, referral=referral, adverse_parties=ADVERSE)
    assert error.value.guard == sending.GUARD_SERVICE
    assert counts() == before


def test_conflict_check_needs_text_and_a_legal_aid_service(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    legal = make_draft(rw.world, case, rw.legal_service)
    with pytest.raises(ValidationError):
        sending.conflict_check_send(actor=rw.world.caseworker, referral=legal, adverse_parties="   ")
    counselling = make_draft(rw.world, case, rw.counselling_service)
    with pytest.raises(ValidationError):
        sending.conflict_check_send(actor=rw.world.caseworker, referral=counselling, adverse_parties=ADVERSE)
    assert not ConflictCheck.objects.exists()


# --- cancel, re-route ---------------------------------------------------------------------------------


def test_cancel_after_sending_asks_a_processor_to_delete(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = _send(rw, make_draft(rw.world, case, rw.counselling_service))
    Notification.objects.all().delete()
    cancelled = sending.referral_cancel(actor=rw.world.caseworker, referral=referral, reason="client_request")
    assert (cancelled.state, cancelled.outcome_reason) == ("cancelled", "client_request")
    assert cancelled.closed_at is not None
    entry = LedgerEntry.objects.get(referral=referral)
    assert entry.status == LedgerEntry.Status.DELETION_REQUESTED
    assert entry.status_changed_at is not None
    assert set(Notification.objects.values_list("kind", "reference")) == {
        ("referrals.cancelled_delete", referral.reference)
    }
    assert Notification.objects.count() == 2
    # They still see the history, but there is nothing left to decide.
    assert objects_for_user(rw.counselling_user, "referrals.view_referral", Referral.objects.all()).exists()
    assert not objects_for_user(
        rw.counselling_user, "referrals.decide_referral", Referral.objects.all()
    ).exists()


def test_cancel_after_sending_notifies_an_own_mandate_lawyer(rw, case):
    give_consent(rw.world, case)
    referral = _send(rw, cleared_legal_draft(rw, case))
    Notification.objects.all().delete()
    sending.referral_cancel(actor=rw.world.caseworker, referral=referral, reason="no_longer_needed")
    statuses = set(LedgerEntry.objects.filter(referral=referral).values_list("status", flat=True))
    assert statuses == {LedgerEntry.Status.NOTIFIED}
    assert set(Notification.objects.values_list("kind", flat=True)) == {"referrals.cancelled"}


def test_cancel_refuses_bad_reason_ended_referrals_and_outsiders(rw, case):
    referral = make_draft(rw.world, case, rw.counselling_service)
    with pytest.raises(ValidationError):
        sending.referral_cancel(actor=rw.world.caseworker, referral=referral, reason="bored")
    with pytest.raises(PermissionDenied):
        sending.referral_cancel(actor=rw.counselling_user, referral=referral, reason="client_request")
    sending.referral_cancel(actor=rw.world.caseworker, referral=referral, reason="sent_in_error")
    with pytest.raises(ValidationError):
        sending.referral_cancel(actor=rw.world.caseworker, referral=referral, reason="sent_in_error")
    assert not Notification.objects.exists()


def test_reroute_copies_the_choices_and_closes_the_task(rw, case):
    referral = make_draft(
        rw.world, case, rw.counselling_service, fields=["language", "risk_level"], is_urgent=True
    )
    with pytest.raises(ValidationError):
        sending.referral_reroute(actor=rw.world.caseworker, referral=referral, service=rw.legal_service)
    Referral.objects.filter(pk=referral.pk).update(state=ReferralState.DECLINED, outcome_reason="no_capacity")
    task = sending.reroute_task_create(referral)
    assert sending.reroute_task_create(referral) is None
    assert (task.kind, task.assignee, task.source_key) == (
        TaskKind.REROUTE,
        rw.world.caseworker,
        f"reroute:{referral.pk}",
    )
    new = sending.referral_reroute(actor=rw.world.caseworker, referral=referral, service=rw.legal_service)
    assert new.state == ReferralState.DRAFT
    assert new.rerouted_from == referral
    assert new.shared_fields == referral.shared_fields
    assert new.is_urgent is True
    assert new.reason_for_referral == NEEDS
    assert new.service == rw.legal_service and new.partner == rw.legal_aid
    task.refresh_from_db()
    assert task.done_at is not None
    with pytest.raises(ValidationError):
        sending.referral_reroute(actor=rw.world.caseworker, referral=referral, service=rw.legal_service)
    assert Task.objects.filter(source_key=f"reroute:{referral.pk}").count() == 1


# --- hooks --------------------------------------------------------------------------------------------


def test_consent_withdrawal_cancels_and_tells_each_recipient(rw, case):
    consent = give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    to_counselling = _send(rw, make_draft(rw.world, case, rw.counselling_service))
    to_lawyer = _send(rw, cleared_legal_draft(rw, case))
    draft = make_draft(rw.world, case, rw.counselling_service)
    Notification.objects.all().delete()
    consent_withdraw(actor=rw.world.caseworker, consent=consent)
    for referral in (to_counselling, to_lawyer, draft):
        referral.refresh_from_db()
        assert (referral.state, referral.outcome_reason) == ("cancelled", "consent_withdrawn")
        event = ReferralEvent.objects.filter(referral=referral).order_by("-pk").first()
        assert (event.to_state, event.reason, event.actor) == (
            "cancelled",
            "consent_withdrawn",
            rw.world.caseworker,
        )
    assert set(LedgerEntry.objects.filter(referral=to_counselling).values_list("status", flat=True)) == {
        "deletion_requested"
    }
    assert set(LedgerEntry.objects.filter(referral=to_lawyer).values_list("status", flat=True)) == {
        "notified"
    }
    sent = set(Notification.objects.values_list("recipient__username", "kind", "reference"))
    assert sent == {
        ("therapist", "referrals.cancelled_delete", to_counselling.reference),
        ("therapistadmin", "referrals.cancelled_delete", to_counselling.reference),
        ("lawyer", "referrals.cancelled", to_lawyer.reference),
        ("lawyeradmin", "referrals.cancelled", to_lawyer.reference),
    }


def test_withdrawing_another_scope_or_with_consent_left_cancels_nothing(rw, case):
    first = give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    give_consent(rw.world, case, scopes=["referral", "cross_border"])
    referral = _send(rw, make_draft(rw.world, case, rw.counselling_service))
    consent_withdraw(actor=rw.world.caseworker, consent=first)
    referral.refresh_from_db()
    assert referral.state == ReferralState.SENT


def test_cross_border_withdrawal_cancels_only_referrals_abroad(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral"])
    abroad_consent = give_consent(rw.world, case, scopes=["cross_border"])
    abroad = _send(rw, make_draft(rw.world, case, rw.counselling_service))
    home = _send(rw, cleared_legal_draft(rw, case))
    consent_withdraw(actor=rw.world.caseworker, consent=abroad_consent)
    abroad.refresh_from_db()
    home.refresh_from_db()
    assert abroad.state == ReferralState.CANCELLED
    assert home.state == ReferralState.SENT


def test_unsafe_channel_reaches_the_partner(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    phone = channel_add(actor=rw.world.caseworker, case=case, kind=ChannelKind.PHONE, value="+447700900123")
    email = channel_add(
        actor=rw.world.caseworker, case=case, kind=ChannelKind.EMAIL, value="mari@example.org"
    )
    with_phone = _send(
        rw, make_draft(rw.world, case, rw.counselling_service, channel_ids=[phone.pk, email.pk])
    )
    without = _send(rw, make_draft(rw.world, case, rw.counselling_service, channel_ids=[email.pk]))
    Notification.objects.all().delete()
    case.refresh_from_db()
    channel_update(
        actor=rw.world.caseworker,
        case=case,
        channel=phone,
        kind=ChannelKind.PHONE,
        value="+447700900123",
        safety=ChannelSafety.COMPROMISED,
    )
    data = snapshot_loads(ReferralSnapshot.objects.get(referral=with_phone).data)
    safety = {item["channel"]: item["safety"] for item in data["contact_channels"]}
    assert safety == {phone.pk: "compromised", email.pk: "safe"}
    row = next(row for row in snapshot_rows(data) if row.name == "contact_channels")
    assert [line.is_warning for line in row.lines] == [True, False]
    assert ReferralEvent.objects.filter(referral=with_phone, kind="channel_unsafe").count() == 1
    assert not ReferralEvent.objects.filter(referral=without, kind="channel_unsafe").exists()
    notes = list(Notification.objects.values_list("kind", "reference", "is_urgent"))
    assert sorted(notes) == [("referrals.channel_unsafe", with_phone.reference, True)] * 2


# --- content-free notifications and encrypted columns ----------------------------------------------------


def test_notifications_and_outbox_are_content_free(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    channel = channel_add(actor=rw.world.caseworker, case=case, kind=ChannelKind.PHONE, value="+447700900123")
    referral = make_draft(
        rw.world,
        case,
        rw.counselling_service,
        fields=["legal_name", "preferred_name"],
        channel_ids=[channel.pk],
    )
    _send(rw, referral)
    sending.referral_cancel(actor=rw.world.caseworker, referral=referral, reason="safety")
    secrets = ["Maria", "Mari", "+447700900123", "fake investment", case.person.pseudonym, case.reference]
    for note in Notification.objects.all():
        blob = json.dumps([note.kind, note.reference, note.link_path])
        assert note.reference == referral.reference
        assert not any(secret in blob for secret in secrets)
    for message in OutboxMessage.objects.all():
        blob = json.dumps(message.payload)
        assert not any(secret in blob for secret in secrets)


def test_encrypted_columns_hold_no_plaintext(rw, case):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = _send(rw, make_draft(rw.world, case, rw.counselling_service, fields=["legal_name"]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM referrals_referralsnapshot WHERE referral_id = %s", [referral.pk])
        data = cursor.fetchone()[0]
        cursor.execute("SELECT reason_for_referral FROM referrals_referral WHERE id = %s", [referral.pk])
        needs = cursor.fetchone()[0]
    for raw in (data, needs):
        assert "Maria" not in raw and "investment" not in raw and case.person.pseudonym not in raw
        assert "pseudonym" not in raw

"""The partner's steps on a referral: order, permissions, reasons, attestation, conflict, stale pages,
identity release after acceptance, deletion confirmed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from casework.models import ProtectionLevel, Task, TaskKind
from core.audit.models import AuditEvent
from core.notifications.models import Notification
from core.permissions import user_has_perm
from protection.models import DisclosureGrant
from referrals.models import (
    ConflictResult,
    LedgerEntry,
    Referral,
    ReferralEvent,
    ReferralSnapshot,
    ReferralState,
)
from referrals.services import portal as services
from tests.casework.conftest import make_case
from tests.referrals.portal_world import SENT_AT, cancel_by_sender, make_referral, protection_unit

S = ReferralState
LATER = SENT_AT + dt.timedelta(hours=2)


@pytest.fixture
def referral(referral_world):  # type: ignore[no-untyped-def]
    return make_referral(referral_world, case=make_case(referral_world.world))


def _fresh(referral: Referral) -> Referral:
    return Referral.objects.get(pk=referral.pk)


def test_receive_records_time_deadline_event_audit_and_tells_the_caseworker(referral_world, referral):
    rw = referral_world
    services.referral_receive(actor=rw.legal_user, referral=referral, expected_version=1, now=LATER)
    referral = _fresh(referral)
    assert referral.state == S.RECEIVED
    assert referral.received_at == LATER
    assert referral.version == 2
    # 5 working days after Monday 11:00 UTC (London is on GMT in early March): Monday next week.
    assert referral.decide_due_at == dt.datetime(2026, 3, 9, 11, 0, tzinfo=dt.UTC)
    event = ReferralEvent.objects.filter(referral=referral).order_by("-pk").first()
    assert (event.kind, event.from_state, event.to_state, event.actor) == (
        "state_changed",
        S.SENT,
        S.RECEIVED,
        rw.legal_user,
    )
    assert event.actor_organisation == rw.legal_aid
    audit = AuditEvent.objects.get(action="referral.received")
    assert audit.organisation_id == rw.support.pk
    notification = Notification.objects.get(recipient=rw.world.caseworker, kind="referrals.updated")
    assert notification.reference == referral.reference
    assert referral.reference in notification.link_path or referral.case.reference in notification.link_path


@pytest.mark.parametrize(
    ("step", "kwargs"),
    [
        (services.referral_accept, {"attestation": "Checked."}),
        (services.referral_decline, {"reason": "no_capacity"}),
        (services.referral_start, {}),
        (services.referral_hold, {}),
        (services.referral_resume, {}),
        (services.referral_complete, {"reason": "advice_given"}),
        (services.referral_fail, {"reason": "other"}),
    ],
)
def test_steps_out_of_order_are_refused_and_change_nothing(referral_world, referral, step, kwargs):
    with pytest.raises(ValidationError):
        step(actor=referral_world.legal_user, referral=referral, expected_version=1, now=LATER, **kwargs)
    referral = _fresh(referral)
    assert (referral.state, referral.version) == (S.SENT, 1)
    assert ReferralEvent.objects.filter(referral=referral).count() == 1


def test_receiving_twice_is_refused(referral_world, referral):
    services.referral_receive(actor=referral_world.legal_user, referral=referral, now=LATER)
    with pytest.raises(ValidationError):
        services.referral_receive(actor=referral_world.legal_admin, referral=referral, now=LATER)


def test_other_partner_and_support_users_may_not_decide(referral_world, referral):
    rw = referral_world
    for user in (rw.counselling_user, rw.counselling_admin, rw.legal_org_admin, rw.world.caseworker):
        with pytest.raises(PermissionDenied):
            services.referral_receive(actor=user, referral=referral, now=LATER)
    assert _fresh(referral).state == S.SENT


def test_legal_aid_accept_needs_the_conflict_check_answered_and_an_attestation(referral_world, referral):
    rw = referral_world
    services.referral_receive(actor=rw.legal_user, referral=referral, now=LATER)
    with pytest.raises(ValidationError, match="conflict check"):
        services.referral_accept(actor=rw.legal_user, referral=referral, attestation="Checked.", now=LATER)
    services.referral_conflict_answer(actor=rw.legal_user, referral=referral, result=ConflictResult.POTENTIAL)
    with pytest.raises(ValidationError) as refused:
        services.referral_accept(actor=rw.legal_user, referral=referral, attestation="   ", now=LATER)
    assert "attestation" in refused.value.message_dict
    assert _fresh(referral).state == S.RECEIVED
    services.referral_accept(
        actor=rw.legal_user,
        referral=referral,
        attestation="A former client; a separate team acts.",
        now=LATER,
    )
    referral = _fresh(referral)
    assert referral.state == S.ACCEPTED
    assert referral.conflict_attestation == "A former client; a separate team acts."
    assert referral.decided_at == LATER
    audit = AuditEvent.objects.get(action="referral.accepted")
    assert audit.fields == ["conflict_attestation"]
    assert "former client" not in str(audit.details)


def test_counselling_accepts_without_attestation_when_no_check_was_sent(referral_world):
    rw = referral_world
    referral = make_referral(rw, case=make_case(rw.world), partner=rw.counselling)
    services.referral_receive(actor=rw.counselling_user, referral=referral, now=LATER)
    services.referral_accept(actor=rw.counselling_user, referral=referral, now=LATER)
    assert _fresh(referral).state == S.ACCEPTED


def test_a_conflict_answer_declines_with_reason_conflict_and_asks_for_re_routing(referral_world):
    rw = referral_world
    referral = make_referral(rw, case=make_case(rw.world), conflict_check=True)
    services.referral_conflict_answer(
        actor=rw.legal_user, referral=referral, result=ConflictResult.CONFLICT, expected_version=1, now=LATER
    )
    referral = _fresh(referral)
    assert (referral.state, referral.outcome_reason) == (S.DECLINED, "conflict")
    assert referral.conflict_result == ConflictResult.CONFLICT
    assert referral.conflict_check.result == ConflictResult.CONFLICT
    assert referral.conflict_check.answered_by == rw.legal_user
    assert referral.closed_at == LATER
    kinds = list(ReferralEvent.objects.filter(referral=referral).values_list("kind", "to_state"))
    assert kinds == [
        ("state_changed", S.SENT),
        ("conflict_answered", ""),
        ("state_changed", S.RECEIVED),
        ("state_changed", S.DECLINED),
    ]
    assert Task.objects.filter(case=referral.case, kind=TaskKind.REROUTE).count() == 1


def test_decline_needs_a_listed_reason_and_creates_one_re_routing_task(referral_world, referral):
    rw = referral_world
    services.referral_receive(actor=rw.legal_user, referral=referral, now=LATER)
    for bogus in ("", "busy", "advice_given", "CONFLICT"):
        with pytest.raises(ValidationError) as refused:
            services.referral_decline(actor=rw.legal_user, referral=referral, reason=bogus, now=LATER)
        assert "reason" in refused.value.message_dict
    assert _fresh(referral).state == S.RECEIVED
    services.referral_decline(
        actor=rw.legal_user, referral=referral, reason="no_capacity", note="Full until May."
    )
    referral = _fresh(referral)
    assert (referral.state, referral.outcome_reason) == (S.DECLINED, "no_capacity")
    assert Task.objects.filter(case=referral.case, kind=TaskKind.REROUTE).count() == 1
    event = ReferralEvent.objects.filter(referral=referral).order_by("-pk").first()
    assert (event.reason, event.note) == ("no_capacity", "Full until May.")


def test_unknown_outcome_codes_are_refused(referral_world):
    rw = referral_world
    referral = make_referral(rw, case=make_case(rw.world), partner=rw.counselling)
    services.referral_receive(actor=rw.counselling_user, referral=referral)
    services.referral_accept(actor=rw.counselling_user, referral=referral)
    services.referral_start(actor=rw.counselling_user, referral=referral)
    with pytest.raises(ValidationError):
        services.referral_complete(actor=rw.counselling_user, referral=referral, reason="no_capacity")
    with pytest.raises(ValidationError):
        services.referral_fail(actor=rw.counselling_user, referral=referral, reason="advice_given")
    with pytest.raises(ValidationError):
        services.referral_conflict_answer(actor=rw.counselling_user, referral=referral, result="maybe")
    assert _fresh(referral).state == S.IN_PROGRESS


def test_the_whole_partner_path(referral_world):
    rw = referral_world
    referral = make_referral(rw, case=make_case(rw.world), partner=rw.counselling)
    user = rw.counselling_user
    services.referral_receive(actor=user, referral=referral, expected_version=1)
    services.referral_accept(actor=user, referral=referral, expected_version=2)
    services.referral_start(actor=user, referral=referral, expected_version=3)
    services.referral_hold(actor=user, referral=referral, note="Client travelling.", expected_version=4)
    services.referral_resume(actor=user, referral=referral, expected_version=5)
    services.referral_complete(
        actor=user, referral=referral, reason="counselling_completed", expected_version=6
    )
    referral = _fresh(referral)
    assert (referral.state, referral.outcome_reason, referral.version) == (
        S.COMPLETED,
        "counselling_completed",
        7,
    )
    states = list(
        ReferralEvent.objects.filter(referral=referral, kind="state_changed").values_list(
            "to_state", flat=True
        )
    )
    assert states == [S.SENT, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD, S.IN_PROGRESS, S.COMPLETED]
    assert set(
        AuditEvent.objects.filter(action__startswith="referral.").values_list("organisation", flat=True)
    ) == {rw.support.pk}
    assert Notification.objects.filter(recipient=rw.world.caseworker, kind="referrals.updated").count() == 6
    assert not Task.objects.filter(kind=TaskKind.REROUTE).exists()


def test_a_referral_cancelled_meanwhile_is_refused_cleanly(referral_world, referral):
    rw = referral_world
    services.referral_receive(actor=rw.legal_user, referral=referral, expected_version=1)
    services.referral_conflict_answer(
        actor=rw.legal_user, referral=referral, result="clear", expected_version=2
    )
    cancel_by_sender(referral)
    events = ReferralEvent.objects.count()
    with pytest.raises(services.StaleReferral) as refused:
        services.referral_accept(
            actor=rw.legal_user, referral=referral, attestation="Checked, no conflict.", expected_version=3
        )
    assert refused.value.messages == ["This referral was cancelled by the sender; nothing was changed."]
    # Without a version (a double submit after a reload) the move itself is refused the same way.
    with pytest.raises(services.StaleReferral):
        services.referral_decline(actor=rw.legal_user, referral=referral, reason="no_capacity")
    referral = _fresh(referral)
    assert referral.state == S.CANCELLED
    assert referral.conflict_attestation == ""
    assert ReferralEvent.objects.count() == events


def test_a_stale_version_is_refused(referral_world, referral):
    rw = referral_world
    services.referral_receive(actor=rw.legal_admin, referral=referral, expected_version=1)
    with pytest.raises(services.StaleReferral) as refused:
        services.referral_receive(actor=rw.legal_user, referral=referral, expected_version=1)
    assert "changed meanwhile" in refused.value.messages[0]


# --- identity release ------------------------------------------------------------------------------------


@pytest.fixture
def restricted_referral(referral_world):  # type: ignore[no-untyped-def]
    rw = referral_world
    case = make_case(rw.world, protection_level=ProtectionLevel.RESTRICTED, legal_name="Quentin Zyxwell")
    data = {"pseudonym": case.person.pseudonym, "needs": "Advice.", "legal_name": {"pending_release": True}}
    referral = make_referral(rw, case=case, partner=rw.counselling, data=data)
    return referral


def test_acceptance_asks_the_officers_and_an_officer_releases_bound_to_the_referral(
    referral_world, restricted_referral
):
    rw = referral_world
    officer = protection_unit(rw.world)
    referral = restricted_referral
    services.referral_receive(actor=rw.counselling_user, referral=referral)
    services.referral_accept(actor=rw.counselling_user, referral=referral)
    asked = Notification.objects.get(kind="referrals.identity_release_requested")
    assert (asked.recipient, asked.reference) == (officer, referral.reference)
    assert asked.link_path == f"/en/referrals/identity-release/{referral.reference}/"
    with pytest.raises(PermissionDenied):
        services.referral_identity_release(officer=rw.world.supervisor, referral=referral)
    grant = services.referral_identity_release(officer=officer, referral=referral, now=LATER)
    assert (grant.kind, grant.referral_id, grant.grantee, grant.fields, grant.expires_at) == (
        DisclosureGrant.Kind.REFERRAL,
        referral.pk,
        rw.counselling_user,
        ["legal_name"],
        None,
    )
    assert services.referral_identity_release(officer=officer, referral=referral) == grant  # idempotent
    entry = LedgerEntry.objects.get(referral=referral, purpose="identity_release")
    assert (entry.recipient_user, entry.fields, entry.disclosed_by) == (
        rw.counselling_user,
        ["legal_name"],
        officer,
    )
    services.referral_start(actor=rw.counselling_user, referral=referral)
    services.referral_fail(actor=rw.counselling_user, referral=referral, reason="client_disengaged")
    grant.refresh_from_db()
    assert grant.ended_reason == "referral_ended"
    assert grant.revoked_at is not None


def test_no_release_for_a_sealed_person_or_before_acceptance(referral_world, restricted_referral):
    rw = referral_world
    officer = protection_unit(rw.world)
    with pytest.raises(ValidationError):
        services.referral_identity_release(officer=officer, referral=restricted_referral)
    assert not DisclosureGrant.objects.exists()


# --- deletion confirmed --------------------------------------------------------------------------------


def test_deletion_confirmed_destroys_the_snapshot(referral_world):
    rw = referral_world
    referral = make_referral(
        rw,
        case=make_case(rw.world),
        partner=rw.counselling,
        ledger_status=LedgerEntry.Status.DELETION_REQUESTED,
    )
    with pytest.raises(PermissionDenied):
        services.referral_deletion_confirm(actor=rw.world.caseworker, referral=referral)
    with pytest.raises(ValidationError):
        services.referral_deletion_confirm(actor=rw.legal_user, referral=referral)  # not addressed to them
    assert services.referral_deletion_confirm(actor=rw.counselling_user, referral=referral, now=LATER) == 1
    entry = LedgerEntry.objects.get(referral=referral)
    assert (entry.status, entry.status_changed_at) == (LedgerEntry.Status.DELETED, LATER)
    snapshot = ReferralSnapshot.objects.get(referral=referral)
    assert (snapshot.data, snapshot.destroyed_at) == ("", LATER)
    assert AuditEvent.objects.get(action="referral.deletion_confirmed").organisation_id == rw.support.pk
    with pytest.raises(ValidationError):
        services.referral_deletion_confirm(actor=rw.counselling_user, referral=referral)
    assert user_has_perm(rw.counselling_user, "referrals.view_referral", referral)

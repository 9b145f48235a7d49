"""Helpers for the sending-side suites (no tests here): consent, emergency basis, drafts, conflict checks,
and the "nothing left Haven" check."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from casework.models import Case, LawfulBasisKind
from casework.services.consent import consent_record, lawful_basis_record
from core.notifications.models import Notification
from core.outbox.models import OutboxMessage
from referrals.models import (
    ConflictCheck,
    LedgerEntry,
    Referral,
    ReferralGroupObjectPermission,
    ReferralSnapshot,
    ReferralState,
    Service,
)
from referrals.services.sending import conflict_check_send, referral_draft_create

NEEDS = "Needs advice on recovering money sent to a fake investment site."
ADVERSE = "QuickCoin Ltd; handle @fastprofit_88"


def give_consent(world, case: Case, scopes=("processing", "referral")):
    return consent_record(
        actor=world.caseworker,
        case=case,
        scopes=list(scopes),
        given_by="client",
        method="written",
        notice_version="v1",
        notice_language="en",
        given_on=timezone.localdate() - dt.timedelta(days=1),
    )


def record_emergency(world, case: Case):
    return lawful_basis_record(
        actor=world.caseworker,
        case=case,
        kind=LawfulBasisKind.VITAL_INTERESTS,
        reason="Imminent danger: the client must be reached by counselling today.",
    )


def make_draft(
    world, case: Case, service: Service, *, fields=("language", "risk_level"), channel_ids=(), **kw
):
    return referral_draft_create(
        actor=world.caseworker,
        case=case,
        service=service,
        needs=kw.pop("needs", NEEDS),
        fields=list(fields),
        channel_ids=list(channel_ids),
        **kw,
    )


def answer_conflict(rw, referral: Referral, result: str = "clear") -> None:
    from referrals.services.portal import referral_conflict_answer

    referral_conflict_answer(actor=rw.legal_user, referral=referral, result=result)


def cleared_legal_draft(rw, case: Case, **kw) -> Referral:
    """A legal-aid draft whose conflict check came back clear."""
    referral = make_draft(rw.world, case, rw.legal_service, **kw)
    conflict_check_send(actor=rw.world.caseworker, referral=referral, adverse_parties=ADVERSE)
    answer_conflict(rw, referral, "clear")
    referral.refresh_from_db()
    return referral


def counts() -> dict[str, int]:
    return {
        "snapshots": ReferralSnapshot.objects.count(),
        "grants": ReferralGroupObjectPermission.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "notifications": Notification.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "conflict_checks": ConflictCheck.objects.count(),
        "referrals": Referral.objects.count(),
    }


def assert_nothing_sent(referral: Referral, before: dict[str, int] | None = None) -> None:
    referral.refresh_from_db()
    assert referral.state == ReferralState.DRAFT
    assert referral.sent_at is None
    assert not ReferralSnapshot.objects.filter(referral=referral).exists()
    assert not LedgerEntry.objects.filter(referral=referral, purpose="referral").exists()
    if before is not None:
        assert counts() == before

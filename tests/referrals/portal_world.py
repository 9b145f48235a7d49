"""Helpers of the partner-portal suites: a referral in the state the sending side leaves it once sent
(snapshot, ledger entry, deadlines, the partner's members group holding view and decide), made directly so
the portal is tested on its own; and a protection unit serving the support service."""

from __future__ import annotations

import datetime as dt
import itertools

from django.db.models import F

from casework.models import Case
from core.accounts.models import Organisation, RoleAssignment, ServiceArrangement
from core.accounts.roles import Role
from core.accounts.services import organisation_members_group
from core.permissions import perm_grant, perm_revoke
from referrals.calendar import referral_deadlines
from referrals.models import (
    ConflictCheck,
    LedgerEntry,
    Referral,
    ReferralEvent,
    ReferralSnapshot,
    ReferralState,
)
from referrals.snapshot import PENDING_RELEASE, snapshot_dumps
from tests.factories import OrganisationFactory, UserFactory

_numbers = itertools.count(1)
SENT_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday, 09:00 in London


def make_referral(
    rw,  # type: ignore[no-untyped-def]
    *,
    case: Case,
    partner: Organisation | None = None,
    service=None,  # type: ignore[no-untyped-def]
    state: str = ReferralState.SENT,
    data: dict | None = None,
    shared_fields: list[str] | None = None,
    is_urgent: bool = False,
    sent_at: dt.datetime = SENT_AT,
    conflict_check: bool = False,
    ledger_status: str = LedgerEntry.Status.HELD,
) -> Referral:
    partner = partner or rw.legal_aid
    service = service or (rw.legal_service if partner == rw.legal_aid else rw.counselling_service)
    data = (
        data
        if data is not None
        else {"pseudonym": case.person.pseudonym, "needs": "Advice on a fraud claim."}
    )
    shared = shared_fields if shared_fields is not None else list(data)
    referral = Referral.objects.create(
        reference=f"RF-2026-{next(_numbers):06d}",
        case=case,
        service=service,
        partner=partner,
        state=state,
        is_urgent=is_urgent,
        shared_fields=shared,
        reason_for_referral="Advice on a fraud claim.",
        basis="consent",
        created_by=rw.world.caseworker,
        sent_at=sent_at,
    )
    referral.receive_due_at, referral.decide_due_at = referral_deadlines(referral, sent_at)
    referral.save(update_fields=["receive_due_at", "decide_due_at"])
    ReferralSnapshot.objects.create(
        referral=referral, fields=list(data), data=snapshot_dumps(data), created_at=sent_at
    )
    ReferralEvent.objects.create(
        referral=referral,
        actor=rw.world.caseworker,
        actor_organisation=rw.support,
        kind="state_changed",
        from_state=ReferralState.DRAFT,
        to_state=ReferralState.SENT,
        created_at=sent_at,
    )
    LedgerEntry.objects.create(
        person=case.person,
        case=case,
        referral=referral,
        recipient_organisation=partner,
        fields=[
            name
            for name, value in data.items()
            if not (isinstance(value, dict) and value.get(PENDING_RELEASE))
        ],
        purpose="referral",
        basis="consent",
        disclosed_by=rw.world.caseworker,
        disclosed_at=sent_at,
        status=ledger_status,
    )
    if conflict_check:
        ConflictCheck.objects.create(
            referral=referral, adverse_parties="Fraudster Ltd", sent_by=rw.world.caseworker, sent_at=sent_at
        )
    members = organisation_members_group(partner)
    for perm in ("referrals.view_referral", "referrals.decide_referral"):
        perm_grant(
            actor=rw.world.caseworker, perm=perm, obj=referral, group=members, reason_code="referral.sent"
        )
    return referral


def cancel_by_sender(referral: Referral) -> None:
    """What the sending side's cancel leaves behind (state, version), done directly."""
    Referral.objects.filter(pk=referral.pk).update(
        state=ReferralState.CANCELLED, outcome_reason="client_request", version=F("version") + 1
    )
    perm_revoke(
        actor=None,
        perm="referrals.decide_referral",
        obj=referral,
        group=organisation_members_group(referral.partner),
        reason_code="referral.cancelled",
    )


def protection_unit(world):  # type: ignore[no-untyped-def]
    unit = OrganisationFactory(name="Witness protection unit", kind=Organisation.Kind.PROTECTION_UNIT)
    approver = UserFactory(organisation=unit, username="unitadmin")
    RoleAssignment.objects.create(
        user=approver, role=Role.ORGANISATION_ADMIN, status="active", is_bootstrap=True
    )
    ServiceArrangement.objects.create(
        protection_unit=unit, served_organisation=world.organisation, starts_on=dt.date(2020, 1, 1)
    )
    officer = UserFactory(organisation=unit, username="officer", email="officer@example.org")
    RoleAssignment.objects.create(
        user=officer, role=Role.PROTECTION_OFFICER, status="active", approved_by=approver
    )
    return officer

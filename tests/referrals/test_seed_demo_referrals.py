"""Demo referrals: directory entries, agreements and two referrals made through the services, idempotent,
local only; each demo partner user sees exactly the referrals sent to their organisation."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.urls import reverse

from casework.models import ConsentScope
from casework.services.consent import consent_scopes_active
from core.accounts.models import User
from core.accounts.testing import sign_in
from core.audit.models import AuditEvent
from referrals.management.commands.seed_demo_referrals import COUNSELLING, LEGAL, SUPPORT
from referrals.models import (
    ConflictCheck,
    LedgerEntry,
    PartnerAgreement,
    Referral,
    ReferralEvent,
    ReferralSnapshot,
    ReferralState,
    Service,
    ServiceContact,
)
from referrals.queries.portal import portal_referrals

pytestmark = pytest.mark.django_db


def _state() -> dict[str, object]:
    """Everything the command makes, so that a second run can be compared."""
    return {
        "services": sorted(Service.objects.values_list("organisation__name", "name", "kind", "status")),
        "contacts": ServiceContact.objects.count(),
        "agreements": sorted(
            PartnerAgreement.objects.values_list("organisation__name", "support_service__name", "signed_on")
        ),
        "referrals": sorted(
            Referral.objects.values_list("reference", "case__reference", "partner__name", "state", "version")
        ),
        "events": ReferralEvent.objects.count(),
        "snapshots": ReferralSnapshot.objects.count(),
        "checks": ConflictCheck.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_refused_outside_demo_settings():
    with pytest.raises(CommandError):
        call_command("seed_demo_referrals")


@override_settings(HAVEN_DEMO_SIGN_IN=True)
def test_refused_before_seed_demo():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_demo_referrals")


@override_settings(HAVEN_DEMO_SIGN_IN=True)
def test_seed_demo_makes_referrals_once():
    call_command("seed_demo")  # seed_demo_casework, then seed_demo_referrals
    first = _state()
    call_command("seed_demo_referrals")
    call_command("seed_demo")
    assert _state() == first

    # The directory: one service per partner, described by the partner's own admin, with a contact desk.
    legal_service = Service.objects.get(organisation__name=LEGAL)
    counselling_service = Service.objects.get(organisation__name=COUNSELLING)
    assert (legal_service.kind, counselling_service.kind) == ("legal_aid", "counselling")
    assert legal_service.languages == ["en", "fr", "es"]
    assert counselling_service.languages == ["en", "uk", "ru", "ar", "es"]
    assert legal_service.countries == counselling_service.countries == ["GB"]
    assert "fraud" in legal_service.categories
    assert "cyberstalking" in counselling_service.categories
    assert ServiceContact.objects.filter(service__in=[legal_service, counselling_service]).count() == 2
    saved_by = set(
        AuditEvent.objects.filter(action="directory.service_saved").values_list("actor__username", flat=True)
    )
    assert saved_by == {"demo.legal.admin", "demo.counselling.admin"}

    # Agreements: recorded by the demo support service's admin, in force.
    agreements = PartnerAgreement.objects.filter(support_service__name=SUPPORT)
    assert sorted(
        agreements.values_list("organisation__name", "recorded_by__username", "acts_for_service")
    ) == [
        (LEGAL, "demo.admin", False),
        (COUNSELLING, "demo.admin", True),
    ]

    # Two referrals from demo cases with consent to refer.
    legal = Referral.objects.get(partner__name=LEGAL)
    counselling = Referral.objects.get(partner__name=COUNSELLING)
    assert legal.state == ReferralState.ACCEPTED
    assert legal.conflict_result == "clear"
    assert legal.conflict_check.result == "clear"
    assert legal.conflict_attestation
    assert legal.basis == counselling.basis == "consent"
    assert counselling.state == ReferralState.SENT
    assert counselling.received_at is None
    for referral in (legal, counselling):
        assert referral.case.organisation.name == SUPPORT
        assert ConsentScope.REFERRAL in consent_scopes_active(case=referral.case)
        assert referral.created_by.username == "demo.caseworker"
        assert ReferralSnapshot.objects.filter(referral=referral).exists()
    assert sorted(LedgerEntry.objects.filter(referral=legal).values_list("purpose", flat=True)) == [
        "conflict_check",
        "referral",
    ]
    assert list(
        ReferralEvent.objects.filter(referral=legal, kind="state_changed").values_list("to_state", flat=True)
    ) == ["draft", "sent", "received", "accepted"]

    # Each partner user sees exactly their organisation's referral.
    legal_user = User.objects.get(username="demo.legal")
    counselling_user = User.objects.get(username="demo.counselling")
    assert list(portal_referrals(legal_user)) == [legal]
    assert list(portal_referrals(counselling_user)) == [counselling]
    for user, own, other in ((legal_user, legal, counselling), (counselling_user, counselling, legal)):
        client = Client()
        sign_in(client, user)
        inbox = client.get(reverse("referrals:portal")).content.decode()
        assert own.reference in inbox
        assert other.reference not in inbox
        assert client.get(reverse("referrals:portal_referral", args=[own.reference])).status_code == 200
        assert client.get(reverse("referrals:portal_referral", args=[other.reference])).status_code == 404

"""The disclosure ledger pages: who holds this person's data (and the printable page for the client)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import ProtectionLevel
from referrals.models import LedgerEntry
from referrals.services import sending
from tests.referrals.conftest import make_case
from tests.referrals.test_sending_support import ADVERSE, give_consent, make_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw(referral_world):
    return referral_world


@pytest.fixture
def case(rw):
    return make_case(rw.world, with_counsellor=True, protection_level=ProtectionLevel.OPEN)


def test_ledger_page_lists_every_disclosure(rw, case, signed_in):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = sending.referral_send(
        actor=rw.world.caseworker,
        referral=make_draft(rw.world, case, rw.counselling_service, fields=["legal_name"]),
    )
    legal = make_draft(rw.world, case, rw.legal_service)
    sending.conflict_check_send(actor=rw.world.caseworker, referral=legal, adverse_parties=ADVERSE)
    browser = signed_in(rw.world.caseworker)
    for name in ("referrals:ledger", "referrals:ledger_print"):
        page = browser.get(reverse(name, args=[case.reference])).content.decode()
        assert "Lindenhof counselling" in page and "Harbour legal aid" in page
        assert "Legal name" in page and "Conflict check before a referral" in page
        assert referral.reference in page
        assert "Held by the recipient" in page
        assert "Maria Example" not in page and ADVERSE not in page


def test_ledger_shows_status_changes(rw, case, signed_in):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    referral = sending.referral_send(
        actor=rw.world.caseworker, referral=make_draft(rw.world, case, rw.counselling_service)
    )
    sending.referral_cancel(actor=rw.world.caseworker, referral=referral, reason="client_request")
    page = (
        signed_in(rw.world.caseworker)
        .get(reverse("referrals:ledger", args=[case.reference]))
        .content.decode()
    )
    assert "Deletion requested" in page
    assert LedgerEntry.objects.get(referral=referral).status == "deletion_requested"


def test_empty_ledger_says_so(rw, case, signed_in):
    page = signed_in(rw.world.caseworker).get(reverse("referrals:ledger_print", args=[case.reference]))
    assert page.status_code == 200
    assert "Nothing about this person has been shared outside the support service." in page.content.decode()

"""The sending pages and the ledger pages: the permission matrix on every URL, and the caseworker's path."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import ProtectionLevel
from core.notifications.models import Notification
from referrals.models import LedgerEntry, Referral, ReferralState
from referrals.services import sending
from tests.referrals.conftest import make_case
from tests.referrals.test_sending_support import ADVERSE, NEEDS, counts, give_consent, make_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw(referral_world):
    return referral_world


@pytest.fixture
def case(rw):
    return make_case(rw.world, with_counsellor=True, protection_level=ProtectionLevel.OPEN)


def _urls(case, referral):
    return {
        "GET": [
            reverse("referrals:case_referrals", args=[case.reference]),
            reverse("referrals:referral_new", args=[case.reference]),
            reverse("referrals:referral_detail", args=[referral.reference]),
            reverse("referrals:referral_edit", args=[referral.reference]),
            reverse("referrals:ledger", args=[case.reference]),
            reverse("referrals:ledger_print", args=[case.reference]),
        ],
        "POST": [
            (reverse("referrals:referral_new", args=[case.reference]), {"needs": NEEDS, "service": "1"}),
            (reverse("referrals:referral_edit", args=[referral.reference]), {"needs": NEEDS}),
            (reverse("referrals:referral_send", args=[referral.reference]), {}),
            (
                reverse("referrals:conflict_check_send", args=[referral.reference]),
                {"adverse_parties": ADVERSE},
            ),
            (reverse("referrals:referral_cancel", args=[referral.reference]), {"reason": "client_request"}),
            (reverse("referrals:referral_reroute", args=[referral.reference]), {"service": "1"}),
        ],
    }


def _outsiders(rw):
    world = rw.world
    return {
        "outsider organisation": world.outsider,
        "colleague without view_case": world.colleague,
        "counsellor": world.counsellor,
        "auditor": world.auditor,
        "partner user": rw.legal_user,
        "partner admin": rw.counselling_admin,
    }


def test_permission_matrix_refuses_with_404_and_changes_nothing(rw, case, client, signed_in):
    give_consent(rw.world, case)
    referral = make_draft(rw.world, case, rw.legal_service)
    sending.conflict_check_send(actor=rw.world.caseworker, referral=referral, adverse_parties="Someone")
    urls = _urls(case, referral)
    before = counts()
    # Anonymous: to the sign-in page.
    for url in urls["GET"]:
        assert client.get(url).status_code == 302
    for url, data in urls["POST"]:
        assert client.post(url, data).status_code == 302
    for label, user in _outsiders(rw).items():
        browser = signed_in(user)
        for url in urls["GET"]:
            assert browser.get(url).status_code == 404, (label, url)
        for url, data in urls["POST"]:
            assert browser.post(url, data).status_code == 404, (label, url)
        browser.logout()
    # A guessed reference answers 404 to the caseworker too.
    browser = signed_in(rw.world.caseworker)
    assert browser.get(reverse("referrals:referral_detail", args=["RF-2020-999999"])).status_code == 404
    assert browser.get(reverse("referrals:ledger", args=["HV-2020-999999"])).status_code == 404
    assert counts() == before
    referral.refresh_from_db()
    assert referral.state == ReferralState.DRAFT


def test_caseworker_and_supervisor_open_every_page(rw, case, signed_in):
    referral = make_draft(rw.world, case, rw.legal_service)
    for user in (rw.world.caseworker, rw.world.supervisor):
        browser = signed_in(user)
        for url in _urls(case, referral)["GET"]:
            assert browser.get(url).status_code == 200, url
        browser.logout()


def test_caseworker_drafts_previews_and_sends(rw, case, signed_in):
    give_consent(rw.world, case, scopes=["processing", "referral", "cross_border"])
    browser = signed_in(rw.world.caseworker)
    page = browser.get(reverse("referrals:referral_new", args=[case.reference]))
    assert rw.counselling_service.name in page.content.decode()
    assert rw.legal_service_closed.name not in page.content.decode()
    response = browser.post(
        reverse("referrals:referral_new", args=[case.reference]),
        {
            "service": str(rw.counselling_service.pk),
            "needs": NEEDS,
            "fields": ["preferred_name", "risk_level"],
        },
    )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:referral_detail", args=[referral.reference])
    detail = browser.get(response["Location"]).content.decode()
    assert "Preview: exactly what the partner will see" in detail
    assert "Mari" in detail and "Maria Example" not in detail
    response = browser.post(reverse("referrals:referral_send", args=[referral.reference]))
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.state == ReferralState.SENT
    # A double-click's second request: sent once, back to the referral.
    again = browser.post(reverse("referrals:referral_send", args=[referral.reference]))
    assert again.status_code == 302
    assert LedgerEntry.objects.filter(referral=referral).count() == 1
    assert Notification.objects.count() == 2
    assert "What the partner received" in browser.get(response["Location"]).content.decode()


def test_bad_draft_input_rerenders_with_errors(rw, case, signed_in):
    browser = signed_in(rw.world.caseworker)
    response = browser.post(
        reverse("referrals:referral_new", args=[case.reference]),
        {"service": str(rw.legal_service_closed.pk), "needs": "", "fields": ["address"]},
    )
    assert response.status_code == 400
    assert not Referral.objects.exists()


def test_refused_send_names_the_guard(rw, case, signed_in):
    referral = make_draft(rw.world, case, rw.counselling_service)
    before = counts()
    browser = signed_in(rw.world.caseworker)
    response = browser.post(reverse("referrals:referral_send", args=[referral.reference]))
    assert response.status_code == 409
    assert "Guard failed: Consent to refer, or the emergency basis." in response.content.decode()
    assert counts() == before


def test_conflict_check_cancel_and_reroute_pages(rw, case, signed_in):
    give_consent(rw.world, case)
    referral = make_draft(rw.world, case, rw.legal_service)
    browser = signed_in(rw.world.caseworker)
    response = browser.post(
        reverse("referrals:conflict_check_send", args=[referral.reference]), {"adverse_parties": ADVERSE}
    )
    assert response.status_code == 302
    assert LedgerEntry.objects.get(referral=referral).purpose == "conflict_check"
    response = browser.post(
        reverse("referrals:referral_cancel", args=[referral.reference]), {"reason": "nope"}
    )
    assert response.status_code == 400
    response = browser.post(
        reverse("referrals:referral_cancel", args=[referral.reference]), {"reason": "sent_in_error"}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.state == ReferralState.CANCELLED
    Referral.objects.filter(pk=referral.pk).update(state=ReferralState.DECLINED)
    response = browser.post(
        reverse("referrals:referral_reroute", args=[referral.reference]),
        {"service": str(rw.counselling_service.pk)},
    )
    new = Referral.objects.get(rerouted_from=referral)
    assert response["Location"] == reverse("referrals:referral_detail", args=[new.reference])

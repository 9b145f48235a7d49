"""A referral from draft to completion in the browser: the caseworker drafts a referral to a legal-aid
service choosing the fields (the preview shows exactly what will go), sends the conflict check, the partner
answers "clear" in the portal, the caseworker sends, the partner receives, accepts with an attestation,
starts and reports the outcome; the caseworker sees the referral completed with its history.

Setup goes through the services (case, consent, the partner admin's directory entry, the support service's
agreement). Sign-in: through the real sign-in pages (username, password, then the current code computed
from each user's confirmed device with django_otp.oath.TOTP, tests/e2e/helpers.py); each user signs in once,
in a browser context of their own. The partner never sees a field the caseworker did not choose: unique
markers sit in unchosen fields and are looked for on every partner page.

Run on its own: DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/pytest tests/e2e/test_referral_journey.py
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from casework.models import CaseKind, PersonRole, ProtectionLevel, RiskLevel
from casework.services.cases import case_open, person_create_for_intake
from casework.services.consent import consent_record
from casework.services.people import channel_add
from core.accounts import services as accounts
from core.accounts.models import Organisation, RoleAssignment, User
from core.accounts.roles import Role
from referrals.models import PartnerAgreement, Referral, ReferralState, ServiceKind
from referrals.services import directory
from tests.e2e.helpers import flash, pages, sign_in, submit  # noqa: F401 (fixture)
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Shared with the partner (chosen in the draft).
PREFERRED_NAME = "Zinnia"
NEEDS = "Money taken by a fake investment site; needs advice on a bank recall."
ADVERSE = "Bluecrest Capital Invest Ltd; Telegram handle @bluecrest_desk"
# Never chosen: none of these may reach a partner page.
UNSHARED = {
    "legal_name": "Quillon Marrowgate",
    "other_names": "Marrowvale-alias",
    "address": "17 Xylophone Terrace",
    "online_handles": "@zinnia_xq_private",
    "communication_needs": "Needs-Large-Print-Kestrel",
    "channel": "zinnia.kestrel@example.org",
}
ATTESTATION = "Checked Bluecrest against our client records: no conflict."


def _user(organisation: Organisation, username: str, role: str) -> User:
    user = UserFactory(organisation=organisation, username=username, email=f"{username}@example.org")
    RoleAssignment.objects.create(user=user, role=role, status="active", is_bootstrap=True)
    accounts.team_supervision_sync(user=user)  # the organisation's members group
    return user


def _setup():  # type: ignore[no-untyped-def]
    support = OrganisationFactory(name="Northern victim support", kind=Organisation.Kind.SUPPORT_SERVICE)
    admin = _user(support, "admin", Role.ORGANISATION_ADMIN)
    caseworker = _user(support, "caseworker", Role.CASEWORKER)
    team = accounts.team_create(actor=admin, name="Fraud desk")
    accounts.team_member_add(actor=admin, team=team, user=caseworker)
    person = person_create_for_intake(
        organisation_id=support.pk,
        role=PersonRole.VICTIM,
        protection_level=ProtectionLevel.CONFIDENTIAL,
        legal_name=UNSHARED["legal_name"],
        preferred_name=PREFERRED_NAME,
        other_names=UNSHARED["other_names"],
        address=UNSHARED["address"],
        online_handles=UNSHARED["online_handles"],
        communication_needs=UNSHARED["communication_needs"],
        language="en",
    )
    case = case_open(
        actor=caseworker,
        person=person,
        kind=CaseKind.VICTIM_SUPPORT,
        team=team,
        categories=["fraud"],
        risk_level=RiskLevel.HIGH,
    )
    channel_add(actor=caseworker, case=case, kind="email", value=UNSHARED["channel"], safety="safe")
    consent_record(
        actor=caseworker,
        case=case,
        scopes=["processing", "referral"],
        given_by="client",
        method="written",
        notice_version="v1",
        notice_language="en",
        given_on=timezone.localdate() - dt.timedelta(days=1),
    )

    legal_aid = OrganisationFactory(name="Harbour legal aid", kind=Organisation.Kind.LEGAL_AID_PARTNER)
    partner_admin = _user(legal_aid, "lawyeradmin", Role.PARTNER_ADMIN)
    lawyer = _user(legal_aid, "lawyer", Role.PARTNER_USER)
    service = directory.service_create(
        actor=partner_admin,
        fields={
            "name": "Harbour fraud clinic",
            "kind": ServiceKind.LEGAL_AID,
            "languages": ["en"],
            "countries": ["GB"],
            "jurisdictions": ["GB-ENG"],
            "categories": ["fraud"],
            "time_zone": "Europe/London",
            "working_days": [0, 1, 2, 3, 4],
        },
    )
    directory.agreement_record(
        actor=admin,
        partner=legal_aid,
        country="GB",
        mechanism=PartnerAgreement.Mechanism.NOT_NEEDED,
        signed_on=timezone.localdate() - dt.timedelta(days=30),
        acts_for_service=False,
    )
    return caseworker, lawyer, case, service


def _assert_no_unshared(page, where: str) -> None:  # type: ignore[no-untyped-def]
    html = page.content()
    for field, marker in UNSHARED.items():
        assert marker not in html, f"{field} shown on the partner's {where}"


def test_referral_from_draft_to_completed(page, pages):  # noqa: F811 (fixture)
    caseworker, lawyer, case, service = _setup()

    # The caseworker opens the case from their list and goes to its referrals.
    sign_in(page, caseworker)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    page.get_by_role("link", name=case.reference).click()
    page.wait_for_url(f"**/cases/{case.reference}/")
    page.get_by_role("link", name="Referrals", exact=True).click()
    assert page.get_by_text("This case has no referrals.").is_visible()
    page.get_by_role("link", name="Draft a referral").click()

    # The draft: the service, what the client needs, and only the chosen fields.
    page.get_by_label("Service").select_option(label=f"Harbour legal aid — {service.name} (Legal aid)")
    page.get_by_label("What the client needs").fill(NEEDS)
    page.get_by_label("Preferred name", exact=True).check()
    page.get_by_label("Risk level", exact=True).check()
    submit(page, page.get_by_role("button", name="Save the draft and preview"))
    assert "The draft was saved" in flash(page)
    referral = Referral.objects.get(case=case)
    preview = page.locator("section[aria-labelledby='snapshot-title']")
    assert page.get_by_role("heading", name="Preview: exactly what the partner will see").is_visible()
    preview_text = preview.inner_text()
    for shown in (case.person.pseudonym, NEEDS, PREFERRED_NAME, "High"):
        assert shown in preview_text
    for marker in UNSHARED.values():
        assert marker not in preview_text

    # The conflict check: only the other side's identifiers.
    page.get_by_label("The other side: names, organisations or online handles").fill(ADVERSE)
    submit(page, page.get_by_role("button", name="Send the conflict check"))
    assert "The conflict check was sent" in flash(page)
    assert page.get_by_text("Waiting for the partner's answer.").is_visible()

    # The partner sees it in the portal inbox and answers "clear"; no client data has gone yet.
    partner = pages.open_as(lawyer)
    partner.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals received").click()
    partner.wait_for_url("**/referrals/portal/")
    row = partner.get_by_role("row").filter(has_text=referral.reference)
    assert "Draft" in row.inner_text()
    _assert_no_unshared(partner, "inbox")
    row.get_by_role("link", name=referral.reference).click()
    assert partner.get_by_text(ADVERSE).is_visible()
    assert partner.get_by_text("Nothing about the client was sent yet.").is_visible()
    assert PREFERRED_NAME not in partner.content()
    _assert_no_unshared(partner, "conflict check page")
    partner.get_by_label("No conflict").check()
    submit(partner, partner.get_by_role("button", name="Record the answer"))
    assert "Your step was recorded" in flash(partner)

    # The caseworker sees the answer and sends the referral.
    page.reload()
    assert page.get_by_text("Answer: No conflict").is_visible()
    submit(page, page.get_by_role("button", name="Send the referral"))
    assert "The referral was sent" in flash(page)
    assert page.get_by_role("heading", name="What the partner received").is_visible()

    # The partner receives, accepts with an attestation, starts and reports the outcome.
    partner.reload()
    snapshot = partner.locator("section[aria-labelledby='snapshot-heading']").inner_text()
    for shown in (case.person.pseudonym, NEEDS, PREFERRED_NAME, "High"):
        assert shown in snapshot
    _assert_no_unshared(partner, "referral page")
    submit(partner, partner.get_by_role("button", name="Confirm receipt"))
    partner.get_by_label("Attestation").fill(ATTESTATION)
    submit(partner, partner.get_by_role("button", name="Accept the referral"))
    assert "Accepted" in partner.locator("dl").first.inner_text()
    submit(partner, partner.get_by_role("button", name="Start"))
    partner.get_by_label("Outcome").select_option(label="Advice given")
    submit(partner, partner.get_by_role("button", name="Record the outcome"))
    assert "Completed" in partner.locator("dl").first.inner_text()
    history = partner.locator("section[aria-labelledby='history-heading']").inner_text()
    assert "In progress → Completed (Advice given)" in history
    _assert_no_unshared(partner, "completed referral page")
    partner.get_by_role("link", name="Back to your referrals").click()
    assert "Completed" in partner.get_by_role("row").filter(has_text=referral.reference).inner_text()
    _assert_no_unshared(partner, "inbox at the end")

    # The caseworker sees it completed, with the whole history.
    page.get_by_role("link", name="Referrals of this case").click()
    assert "Completed" in page.get_by_role("row").filter(has_text=referral.reference).inner_text()
    page.get_by_role("link", name=referral.reference).click()
    assert (
        "Completed (Advice given)" in page.locator("dl").filter(has_text="Partner and service").inner_text()
    )
    history = page.locator("section[aria-labelledby='history-title']").inner_text()
    for step in (
        "Draft",
        "Conflict check sent",
        "Conflict check answered (No conflict)",
        "Draft → Sent",
        "Snapshot sent",
        "Sent → Received",
        "Received → Accepted",
        "Accepted → In progress",
        "In progress → Completed (Advice given)",
    ):
        assert step in history, step
    referral.refresh_from_db()
    assert (referral.state, referral.outcome_reason, referral.conflict_result) == (
        ReferralState.COMPLETED,
        "advice_given",
        "clear",
    )

# ruff: noqa: F811
"""A protection officer raises a whistleblower to restricted; the caseworker, who no longer sees the legal
name, asks for its disclosure with a justification; the officer approves for 72 hours, recording that the
person was told; the caseworker sees the name on the person page. When the grant expires (the beat service
run with a later `now`), the person page masks the name again.

The protection unit and its arrangement with the support service, and the case, are made with the services
in setup (tests/protection/conftest.py, casework.services.cases). Users sign in through the sign-in pages
(tests/e2e/helpers.py), each in a browser of their own.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework.models import CaseKind, PersonRole, ProtectionLevel, RiskLevel
from casework.services.cases import case_open, person_create_for_intake
from protection.models import DisclosureGrant, DisclosureRequest
from protection.services.disclosure import grants_expire
from tests.e2e.helpers import flash, pages, sign_in, submit  # noqa: F401 (fixture)
from tests.protection.conftest import unit, world  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LEGAL_NAME = "Tomasz Wiśniewski-Kowal"
PREFERRED_NAME = "Tomek"


def identity_value(page, label: str):  # type: ignore[no-untyped-def]
    """The value shown for one identity field on the casework person page."""
    term = page.locator("#person-title + dl dt", has_text=re.compile(rf"^{re.escape(label)}$"))
    return term.locator("xpath=following-sibling::dd[1]")


def header_fact(page, label: str):  # type: ignore[no-untyped-def]
    term = page.locator(".case-header__facts dt", has_text=re.compile(rf"^{re.escape(label)}$"))
    return term.locator("xpath=following-sibling::dd[1]")


def assert_name_masked(page) -> None:  # type: ignore[no-untyped-def]
    expect(identity_value(page, "Legal name").locator(".masked")).to_be_visible()
    content = page.content()
    assert LEGAL_NAME not in content and "Wiśniewski" not in content


@pytest.fixture
def whistleblower_case(world):
    person = person_create_for_intake(
        organisation_id=world.organisation.pk,
        role=PersonRole.WHISTLEBLOWER,
        protection_level=ProtectionLevel.CONFIDENTIAL,
        legal_name=LEGAL_NAME,
        preferred_name=PREFERRED_NAME,
        language="pl",
    )
    return case_open(
        actor=world.caseworker,
        person=person,
        kind=CaseKind.WHISTLEBLOWER_REPORT,
        team=world.team,
        categories=["fraud"],
        risk_level=RiskLevel.MEDIUM,
    )


def test_restrict_request_approve_and_expire_a_disclosure(page, pages, world, unit, whistleblower_case):
    case = whistleblower_case
    reference, pseudonym = case.reference, case.person.pseudonym
    officer = unit.officer

    # --- The officer raises the whistleblower to restricted -----------------------------------------
    officer_page = pages.open_as(officer)
    expect(officer_page.get_by_role("heading", name="My work: Protection officer")).to_be_visible()
    expect(officer_page.get_by_text(world.organisation.name)).to_be_visible()
    officer_page.get_by_role("link", name="Open the protection desk").click()
    officer_page.wait_for_url("**/en/protection/desk/")
    expect(officer_page.get_by_role("heading", name="Protection desk", exact=True)).to_be_visible()
    officer_page.get_by_label("Case reference or pseudonym").fill(reference)
    submit(officer_page, officer_page.get_by_role("button", name="Search"))
    officer_page.get_by_role("link", name=reference).click()
    officer_page.wait_for_url(f"**/en/protection/people/{reference}/")
    expect(officer_page.get_by_role("heading", level=1)).to_have_text(pseudonym)
    expect(header_fact(officer_page, "Protection level")).to_have_text("Confidential")
    expect(header_fact(officer_page, "Role in the case")).to_have_text("Whistleblower")
    officer_page.get_by_role("link", name="Change the protection level").click()
    officer_page.wait_for_url(f"**/en/protection/cases/{reference}/level/")
    expect(officer_page.get_by_role("heading", name="Protection level", exact=True)).to_be_visible()
    expect(officer_page.get_by_text("The person's protection level is Confidential.")).to_be_visible()
    officer_page.get_by_label("Restricted", exact=True).check()
    officer_page.get_by_label("Reason").fill("The employer's security team is looking for the source.")
    submit(officer_page, officer_page.get_by_role("button", name="Change the protection level"))
    assert flash(officer_page) == "The protection level is now Restricted."
    expect(officer_page.get_by_text("The person's protection level is Restricted.")).to_be_visible()
    expect(header_fact(officer_page, "Protection level")).to_have_text("Restricted")
    case.person.refresh_from_db()
    assert case.person.protection_level == ProtectionLevel.RESTRICTED

    # --- The caseworker no longer sees the name and asks for it -------------------------------------
    caseworker = world.caseworker
    sign_in(page, caseworker)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    page.wait_for_url("**/en/cases/mine/")
    row = page.locator("tbody tr", has=page.get_by_role("link", name=reference))
    expect(row.locator("td").nth(1)).to_have_text(pseudonym)
    row.get_by_role("link", name=reference).click()
    page.wait_for_url(f"**/en/cases/{reference}/")
    expect(header_fact(page, "Protection level")).to_have_text("Restricted")
    case_nav = page.get_by_role("navigation", name="Case sections")
    case_nav.get_by_role("link", name="Person", exact=True).click()
    page.wait_for_url(f"**/en/cases/{reference}/person/")
    assert_name_masked(page)
    assert page.get_by_role("button", name="Reveal identity").count() == 0
    page.get_by_role("link", name="Ask for a disclosure").click()
    page.wait_for_url(f"**/en/protection/cases/{reference}/disclosure/")
    expect(page.get_by_role("heading", name="Ask for a disclosure")).to_be_visible()
    page.get_by_label("legal name", exact=True).check()
    page.get_by_label("Purpose").fill("Filing the protected-disclosure report with the regulator.")
    page.get_by_label("Justification").fill("The regulator's form requires the reporter's legal name.")
    expect(page.get_by_label("For how many hours?")).to_have_value("72")
    submit(page, page.get_by_role("button", name="Send the request"))
    assert flash(page) == "Your request was sent to the protection officers."
    expect(page.get_by_role("heading", name="Your disclosure request")).to_be_visible()
    disclosure_request = DisclosureRequest.objects.get(case=case)
    assert (disclosure_request.fields, disclosure_request.requested_hours, disclosure_request.status) == (
        ["legal_name"],
        72,
        DisclosureRequest.Status.PENDING,
    )

    # --- The officer approves for 72 hours, recording that the person was told -----------------------
    officer_page.get_by_role("link", name="Protection desk", exact=True).click()
    officer_page.wait_for_url("**/en/protection/desk/")
    waiting = officer_page.locator("section[aria-labelledby=pending-title] tbody tr")
    expect(waiting).to_have_count(1)
    expect(waiting.locator("td").nth(1)).to_have_text(pseudonym)
    expect(waiting.locator("td").nth(5)).to_have_text("72")
    waiting.get_by_role("link", name="Decide").click()
    officer_page.wait_for_url(f"**/en/protection/disclosure/{disclosure_request.pk}/decide/")
    expect(officer_page.get_by_role("heading", name="Disclosure request")).to_be_visible()
    expect(
        officer_page.get_by_text("The regulator's form requires the reporter's legal name.")
    ).to_be_visible()
    officer_page.get_by_label("Approve").check()
    officer_page.get_by_label("Reason for your decision").fill("Needed for the regulator; time-limited.")
    officer_page.get_by_label("Yes, the person has been told").check()
    submit(officer_page, officer_page.get_by_role("button", name="Record the decision"))
    assert flash(officer_page) == "The request is approved and the grant is in force."
    expect(officer_page.get_by_text("This request was already decided or withdrawn.")).to_be_visible()
    grant = DisclosureGrant.objects.get(request=disclosure_request)
    assert grant.grantee_id == caseworker.pk and grant.fields == ["legal_name"]
    assert grant.expires_at - grant.starts_at == dt.timedelta(hours=72)
    disclosure_request.refresh_from_db()
    assert disclosure_request.person_notified_at is not None

    # --- The caseworker sees the name on the person page ------------------------------------------
    page.reload()
    expect(page.get_by_text("You may see these fields on the person's page until")).to_be_visible()
    page.get_by_role("link", name="Back to the case").click()
    page.wait_for_url(f"**/en/cases/{reference}/")
    case_nav.get_by_role("link", name="Person", exact=True).click()
    page.wait_for_url(f"**/en/cases/{reference}/person/")
    expect(identity_value(page, "Legal name")).to_have_text(LEGAL_NAME)
    expect(identity_value(page, "Preferred name").locator(".masked")).to_be_visible()

    # --- The grant expires: the beat service runs 73 hours later ----------------------------------
    result = grants_expire(now=timezone.now() + dt.timedelta(hours=73))
    assert result["grants"] == 1
    page.reload()
    assert_name_masked(page)

# ruff: noqa: F811
"""A caseworker takes the intake of a Spanish-speaking victim who needs an interpreter, opens the case,
records a call; the supervisor chooses the counsellor, who records a session; the caseworker moves the case
to active work and asks to close it at high risk; the supervisor approves and the case is closed.

Every user signs in through the sign-in pages once (tests/e2e/helpers.py) and acts in a browser of their
own. Lists show the pseudonym only; the name appears only after "Reveal identity", for that page alone.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework.models import Case, CaseState, Contact, CounsellingSession, RiskLevel
from tests.casework.conftest import world  # noqa: F401 (fixture)
from tests.e2e.helpers import flash, pages, sign_in, submit  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LEGAL_NAME = "María Guadalupe Fernández Ruiz"
PREFERRED_NAME = "Lupita"
PHONE = "+34 612 345 678"
NAME_PARTS = ("Guadalupe", "Lupita", "Fernández")


def header_fact(page, label: str):  # type: ignore[no-untyped-def]
    """The value of one fact of the case header (State, Risk level, Kind, Protection level)."""
    term = page.locator(".case-header__facts dt", has_text=re.compile(rf"^{re.escape(label)}$"))
    return term.locator("xpath=following-sibling::dd[1]")


def assert_no_name(page) -> None:  # type: ignore[no-untyped-def]
    content = page.content()
    for part in NAME_PARTS:
        assert part not in content, f"the page shows {part!r}"


def identity_value(page, label: str):  # type: ignore[no-untyped-def]
    term = page.locator("#person-title + dl dt", has_text=re.compile(rf"^{re.escape(label)}$"))
    return term.locator("xpath=following-sibling::dd[1]")


def review_value(page, section: str, label: str):  # type: ignore[no-untyped-def]
    """The value of one answer on the intake's review page."""
    panel = page.locator("section.panel").filter(has=page.get_by_role("heading", name=section, exact=True))
    term = panel.locator("dt", has_text=re.compile(rf"^{re.escape(label)}$"))
    return term.locator("xpath=following-sibling::dd[1]")


def choose_unknown(page, label: str) -> None:  # type: ignore[no-untyped-def]
    """Answer an identity question of the intake with "Unknown"."""
    field = page.locator("div.field").filter(has=page.get_by_label(label, exact=True))
    field.get_by_label("Unknown", exact=True).check()


def test_intake_contact_counselling_and_approved_closure(page, pages, world):
    caseworker, supervisor, counsellor = world.caseworker, world.supervisor, world.counsellor
    sign_in(page, caseworker)
    expect(page.get_by_role("heading", name="My work: Caseworker")).to_be_visible()

    # --- The intake, step by step -------------------------------------------------------------------
    page.get_by_role("link", name="Intake", exact=True).click()
    expect(page.get_by_role("heading", name="Intake", exact=True)).to_be_visible()
    page.get_by_role("button", name="Start a new intake").click()
    page.wait_for_url("**/step/person/")
    expect(page.get_by_role("heading", name="Intake: Person")).to_be_visible()
    page.get_by_label("Victim", exact=True).check()
    page.get_by_label("Preferred name", exact=True).fill(PREFERRED_NAME)
    page.get_by_label("Legal name", exact=True).fill(LEGAL_NAME)
    for label in (
        "Other names",
        "Date of birth",
        "Nationality",
        "Address",
        "Identity documents",
        "Online handles",
    ):
        choose_unknown(page, label)
    page.get_by_label("Language (ISO 639)").fill("es")
    page.get_by_label("Needs an interpreter").check()
    page.get_by_role("button", name="Save and continue").click()

    page.wait_for_url("**/step/channels/")
    expect(page.get_by_role("heading", name="Intake: Contact channels")).to_be_visible()
    channel = page.get_by_role("group", name="Channel 1")
    channel.get_by_label("Kind").select_option(label="Phone")
    channel.get_by_label("Address or number").fill(PHONE)
    channel.get_by_label("Safety").select_option(label="Safe")
    channel.get_by_label("Preferred").check()
    page.get_by_role("button", name="Save and continue").click()

    page.wait_for_url("**/step/case/")
    expect(page.get_by_role("heading", name="Intake: Case")).to_be_visible()
    page.get_by_label("Victim support").check()
    page.get_by_label("Sextortion").check()
    page.get_by_label("Team").select_option(label="Online harms")
    page.get_by_label("Initial risk level").select_option(label="High")
    page.get_by_role("button", name="Save and continue").click()

    page.wait_for_url("**/step/lawful_basis/")
    expect(page.get_by_role("heading", name="Intake: Lawful basis")).to_be_visible()
    page.get_by_label("Consent", exact=True).check()
    page.get_by_label("Processing of personal data").check()
    page.get_by_label("Referral to partners").check()
    page.get_by_label("Given by").select_option(label="The client")
    page.get_by_label("How", exact=True).select_option(label="Verbal")
    page.get_by_label("Privacy notice version").fill("v1")
    page.get_by_label("Language of the notice (ISO 639)").fill("es")
    page.get_by_label("An interpreter was present").check()
    page.get_by_label("Given on").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Save and continue").click()

    page.wait_for_url("**/step/review/")
    expect(page.get_by_role("heading", name="Intake: Review and submit")).to_be_visible()
    for section, label, value in (
        ("Person", "Role in the case", "Victim"),
        ("Person", "Legal name", LEGAL_NAME),
        ("Person", "Language (ISO 639)", "es"),
        ("Person", "Needs an interpreter", "Yes"),
        ("Contact channels", "Address or number", PHONE),
        ("Case", "Cybercrime categories", "Sextortion"),
        ("Case", "Initial risk level", "High"),
        ("Lawful basis", "What the consent covers", "Processing of personal data, Referral to partners"),
        ("Lawful basis", "How", "Verbal"),
        ("Lawful basis", "An interpreter was present", "Yes"),
    ):
        expect(review_value(page, section, label)).to_have_text(value)
    page.get_by_role("button", name="Open the case").click()

    # --- The new case: pseudonym in the header, state Intake, risk High ------------------------------
    page.wait_for_url(re.compile(r"/en/cases/[A-Z]{2}-\d{4}-\d{6,}/$"))
    reference = page.locator(".case-header__reference").inner_text().strip()
    assert flash(page) == f"Case {reference} is open."
    case = Case.objects.select_related("person").get(reference=reference)
    pseudonym = case.person.pseudonym
    assert page.get_by_role("heading", level=1).inner_text().strip() == pseudonym
    expect(header_fact(page, "State")).to_have_text("Intake")
    expect(header_fact(page, "Risk level")).to_have_text("High")
    expect(header_fact(page, "Protection level")).to_have_text("Confidential")
    expect(page.get_by_role("heading", name="State: Intake")).to_be_visible()
    assert_no_name(page)
    person_panel = page.locator("section[aria-labelledby=person-title]")
    assert "Language: es" in person_panel.inner_text()
    assert "Needs an interpreter" in person_panel.inner_text()
    assert (case.assigned_caseworker_id, case.risk_level, case.person.needs_interpreter) == (
        caseworker.pk,
        RiskLevel.HIGH,
        True,
    )
    consent = case.consents.get()
    assert (sorted(consent.scopes), consent.given_by, consent.method) == (
        ["processing", "referral"],
        "client",
        "verbal",
    )
    assert (consent.notice_version, consent.notice_language, consent.interpreter_present) == (
        "v1",
        "es",
        True,
    )

    # The caseworker's list shows the pseudonym, never the name.
    page.get_by_role("link", name="My cases", exact=True).click()
    page.wait_for_url("**/en/cases/mine/")
    expect(page.get_by_role("heading", name="My cases")).to_be_visible()
    row = page.locator("tbody tr", has=page.get_by_role("link", name=reference))
    expect(row.locator("td").nth(1)).to_have_text(pseudonym)
    assert_no_name(page)

    # The name only after "Reveal identity", on that page alone.
    row.get_by_role("link", name=reference).click()
    page.wait_for_url(f"**/en/cases/{reference}/")
    case_nav = page.get_by_role("navigation", name="Case sections")
    case_nav.get_by_role("link", name="Person", exact=True).click()
    page.wait_for_url(f"**/en/cases/{reference}/person/")
    expect(identity_value(page, "Legal name").locator(".masked")).to_be_visible()
    assert_no_name(page)
    submit(page, page.get_by_role("button", name="Reveal identity"))
    expect(identity_value(page, "Legal name")).to_have_text(LEGAL_NAME)
    expect(identity_value(page, "Preferred name")).to_have_text(PREFERRED_NAME)
    expect(page.get_by_text("Revealed for this page only")).to_be_visible()
    submit(page, case_nav.get_by_role("link", name="Person", exact=True))
    expect(identity_value(page, "Legal name").locator(".masked")).to_be_visible()
    assert_no_name(page)

    # --- A call through the interpreter -----------------------------------------------------------
    page.get_by_role("navigation", name="Case sections").get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
    expect(page.get_by_text("Nobody has reached the person yet.")).to_be_visible()
    page.get_by_role("link", name="Record a contact or an attempt").click()
    expect(page.get_by_role("heading", name="Record a contact or an attempt")).to_be_visible()
    channel_select = page.get_by_label("Channel", exact=True)
    phone_option = next(
        text.strip()
        for text in channel_select.locator("option").all_inner_texts()
        if text.startswith("Phone")
    )
    channel_select.select_option(label=phone_option)
    page.get_by_label("Outgoing").check()
    page.get_by_label("Outcome").select_option(label="Reached")
    page.get_by_label("An interpreter was used").check()
    page.get_by_label("Notes").fill("Explained the support on offer, through the Spanish interpreter.")
    page.get_by_role("button", name="Record", exact=True).click()
    page.wait_for_url(f"**/en/cases/{reference}/contacts/")
    assert flash(page) == "The contact is recorded."
    contact_row = page.locator("tbody tr").first
    cells = contact_row.locator("td").all_inner_texts()
    assert cells[1].startswith("Phone") and cells[2:5] == ["Outgoing", "Reached", "Yes"]
    expect(page.get_by_text(re.compile(r"^Last reached on "))).to_be_visible()
    assert Contact.objects.filter(case=case, outcome="reached", interpreter_used=True).count() == 1

    # --- The supervisor chooses the counsellor ----------------------------------------------------
    supervisor_page = pages.open_as(supervisor)
    supervisor_page.get_by_role("link", name="Supervision").click()
    supervisor_page.wait_for_url("**/en/cases/supervision/")
    expect(supervisor_page.get_by_role("heading", name="My teams' cases")).to_be_visible()
    row = supervisor_page.locator("tbody tr", has=supervisor_page.get_by_role("link", name=reference))
    expect(row.locator("td").nth(1)).to_have_text(pseudonym)
    assert_no_name(supervisor_page)
    row.get_by_role("link", name=reference).click()
    supervisor_page.wait_for_url(f"**/en/cases/{reference}/")
    expect(supervisor_page.get_by_role("heading", level=1)).to_have_text(pseudonym)
    supervisor_page.get_by_role("link", name="Choose the counsellor").click()
    expect(supervisor_page.get_by_role("heading", name="Choose the counsellor")).to_be_visible()
    counsellor_label = f"{counsellor.get_full_name() or counsellor.username} ({counsellor.staff_code})"
    supervisor_page.get_by_label("Counsellor").select_option(label=counsellor_label)
    supervisor_page.get_by_role("button", name="Save").click()
    supervisor_page.wait_for_url(f"**/en/cases/{reference}/")
    assert flash(supervisor_page) == "The counsellor is recorded."
    facts = supervisor_page.locator("section[aria-labelledby=case-facts-title]")
    assert counsellor.staff_code in facts.inner_text()

    # --- The counsellor records a session --------------------------------------------------------
    counsellor_page = pages.open_as(counsellor)
    expect(counsellor_page.get_by_role("heading", name="My work: Counsellor")).to_be_visible()
    counsellor_page.get_by_role("link", name="My cases", exact=True).click()
    counsellor_page.wait_for_url("**/en/cases/mine/")
    row = counsellor_page.locator("tbody tr", has=counsellor_page.get_by_role("link", name=reference))
    expect(row.locator("td").nth(1)).to_have_text(pseudonym)
    assert_no_name(counsellor_page)
    row.get_by_role("link", name=reference).click()
    counsellor_page.wait_for_url(f"**/en/cases/{reference}/")
    expect(counsellor_page.get_by_role("heading", level=1)).to_have_text(pseudonym)
    expect(counsellor_page.get_by_text("You counsel on this case.")).to_be_visible()
    counsellor_page.get_by_role("link", name="Go to counselling").click()
    counsellor_page.wait_for_url(f"**/en/cases/{reference}/counselling/")
    expect(counsellor_page.get_by_role("heading", name="Working with this person")).to_be_visible()
    expect(counsellor_page.get_by_text("No session has been recorded.")).to_be_visible()
    assert_no_name(counsellor_page)
    counsellor_page.get_by_role("link", name="Record a session").click()
    expect(counsellor_page.get_by_role("heading", name="Record a session")).to_be_visible()
    counsellor_page.get_by_label(re.compile(r"^Date")).fill(timezone.localdate().isoformat())
    counsellor_page.get_by_label(re.compile(r"^How")).select_option(label="Phone")
    counsellor_page.get_by_label(re.compile(r"^Duration \(minutes\)")).fill("50")
    counsellor_page.get_by_label("An interpreter took part").check()
    counsellor_page.get_by_label(re.compile(r"^Notes")).fill("First session; grounding exercises.")
    counsellor_page.get_by_role("button", name="Record the session").click()
    counsellor_page.wait_for_url(f"**/en/cases/{reference}/counselling/")
    assert flash(counsellor_page) == "The session is recorded."
    session_cells = counsellor_page.locator("section[aria-labelledby=sessions-title] tbody tr").first
    assert session_cells.locator("td").all_inner_texts()[1:4] == ["Phone", "50", "yes"]
    assert (
        CounsellingSession.objects.filter(case=case, counsellor=counsellor, interpreter_used=True).count()
        == 1
    )

    # --- The caseworker moves the case along and asks to close it ---------------------------------
    page.get_by_role("navigation", name="Case sections").get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="State: Intake")).to_be_visible()
    submit(page, page.get_by_role("button", name="Move to “Assessment”"))
    assert flash(page) == "The case was updated."
    expect(header_fact(page, "State")).to_have_text("Assessment")
    submit(page, page.get_by_role("button", name="Move to “Active”"))
    assert flash(page) == "The case was updated."
    expect(header_fact(page, "State")).to_have_text("Active")
    expect(page.get_by_text("At this risk level a supervisor approves the closure")).to_be_visible()
    page.get_by_label("Why is the case closing?").select_option(label="Support goals met")
    submit(page, page.get_by_role("button", name="Ask to close the case"))
    assert flash(page) == "The case was updated."
    expect(header_fact(page, "State")).to_have_text("Closing")
    expect(page.get_by_text("The closure is waiting for a supervisor's approval.")).to_be_visible()
    assert page.get_by_role("button", name="Approve the closure").count() == 0

    # --- The supervisor approves the closure ------------------------------------------------------
    supervisor_page.reload()
    expect(header_fact(supervisor_page, "State")).to_have_text("Closing")
    expect(supervisor_page.get_by_text("Closure requested: Support goals met.")).to_be_visible()
    submit(supervisor_page, supervisor_page.get_by_role("button", name="Approve the closure"))
    assert flash(supervisor_page) == "The case was updated."
    expect(header_fact(supervisor_page, "State")).to_have_text("Closed")
    expect(supervisor_page.get_by_role("heading", name="State: Closed")).to_be_visible()

    page.reload()
    expect(header_fact(page, "State")).to_have_text("Closed")
    expect(page.get_by_role("heading", name="State: Closed")).to_be_visible()
    case.refresh_from_db()
    assert (case.state, case.closure_reason) == (CaseState.CLOSED, "goals_met")

"""An admin invites a protection officer, a second admin approves, the officer sets up the sign-in app
through the one-time link and signs in, landing on the officer dashboard.

Codes come from the device keys in the database (django_otp.oath); a code works once, so each step uses
the code of a time step no earlier than the last one used (the device accepts one step ahead).
"""

from __future__ import annotations

import time

import pytest
from django_otp.oath import TOTP

from core.accounts.models import MfaEnrolmentLink, Organisation, RoleAssignment
from core.accounts.roles import Role
from core.accounts.testing import confirmed_device
from tests.factories import DEFAULT_PASSWORD, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OFFICER_PASSWORD = "a long passphrase for olga 2026"


def _code(device, *, steps_ahead: int = 0) -> str:  # type: ignore[no-untyped-def]
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def _sign_in(page, username: str, password: str, code_source) -> None:  # type: ignore[no-untyped-def]
    page.goto("/en/accounts/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/en/accounts/code/**")
    page.get_by_role("textbox", name="Code from your sign-in app").fill(code_source())
    page.get_by_role("button", name="Continue").click()


def _sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/en/accounts/sign-in/")


def test_invite_approve_enrol_and_sign_in(page):
    unit = OrganisationFactory(name="Witness protection unit", kind=Organisation.Kind.PROTECTION_UNIT)
    admins = []
    for username in ("admin.ana", "admin.ben"):
        admin = UserFactory(organisation=unit, username=username)
        RoleAssignment.objects.create(
            user=admin, role=Role.ORGANISATION_ADMIN, status="active", is_bootstrap=True
        )
        admins.append((admin, confirmed_device(admin)))

    # The first admin invites a protection officer.
    first, first_device = admins[0]
    _sign_in(page, "admin.ana", DEFAULT_PASSWORD, lambda: _code(first_device))
    page.wait_for_url("**/en/accounts/dashboard/organisation_admin/")
    page.goto("/en/accounts/users/invite/")
    page.get_by_label("Username").fill("officer.olga")
    page.get_by_label("Work e-mail address").fill("olga@example.org")
    page.get_by_label("Role").select_option("protection_officer")
    page.get_by_role("button", name="Invite").click()
    page.wait_for_selector("#enrolment-link")
    link_url = page.locator("#enrolment-link").inner_text().strip()
    assert "/en/accounts/enrol/" in link_url
    assert page.locator(".qr img").get_attribute("src").startswith("data:image/svg+xml;base64,")
    assignment = RoleAssignment.objects.get(user__username="officer.olga")
    assert assignment.status == "pending"
    _sign_out(page)

    # The second admin approves it from their dashboard.
    second, second_device = admins[1]
    _sign_in(page, "admin.ben", DEFAULT_PASSWORD, lambda: _code(second_device))
    page.wait_for_url("**/en/accounts/dashboard/organisation_admin/")
    page.locator(f"form[action$='/roles/{assignment.pk}/approve/'] button").click()
    page.wait_for_url("**/en/accounts/pending/")
    assert page.get_by_text("Role approved.").is_visible()
    assignment.refresh_from_db()
    assert (assignment.status, assignment.approved_by_id) == ("active", second.pk)
    _sign_out(page)

    # The officer opens the link, chooses a password and types the first code.
    page.goto(link_url)
    assert page.get_by_role("heading", name="Set up your sign-in app").is_visible()
    device = MfaEnrolmentLink.objects.get(user__username="officer.olga", used_at__isnull=True).device
    page.get_by_label("Choose a password").fill(OFFICER_PASSWORD)
    page.get_by_label("Type it again").fill(OFFICER_PASSWORD)
    page.get_by_role("textbox", name="Code from your sign-in app").fill(_code(device))
    page.get_by_role("button", name="Finish").click()
    page.wait_for_url("**/en/accounts/sign-in/")
    assert page.get_by_text("Your sign-in app is set up.").is_visible()

    # The link works once.
    page.goto(link_url)
    assert page.get_by_role("heading", name="This link does not work").is_visible()

    # Signing in: password, then a new code (the enrolment code cannot be used again).
    _sign_in(page, "officer.olga", OFFICER_PASSWORD, lambda: _code(device, steps_ahead=1))
    page.wait_for_url("**/en/accounts/dashboard/protection_officer/")
    assert page.get_by_role("heading", name="My work: Protection officer").is_visible()
    assert page.get_by_role("heading", name="Support services your unit serves").is_visible()

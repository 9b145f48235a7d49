"""Signing users in for browser journeys, and a browser window per user.

How a journey signs in: through the real sign-in pages (username, password, then the current code of the
user's confirmed sign-in app, computed with django_otp.oath.TOTP from the device's key in the database).
That exercises the same path people use, costs about a second, and leaves a session exactly like a real one.
A code works once per 30-second step and device, so each user signs in once per test (users have devices
of their own, so several users may sign in within the same step).

Each user acts in a browser context of their own (separate cookies), opened with `pages.open_as(user)`; the
conftest's `page` fixture serves the first user. Every context refuses requests to other hosts and the test
fails at teardown if any page tried one, as the `page` fixture does.

    from tests.e2e.helpers import pages, sign_in  # noqa: F401 (fixture)

    def test_x(page, pages, live_server):
        sign_in(page, caseworker)
        supervisor_page = pages.open_as(supervisor)
"""

from __future__ import annotations

import re
import time

import pytest
from django_otp.oath import TOTP

from core.accounts.testing import confirmed_device
from tests.factories import DEFAULT_PASSWORD

DASHBOARD = re.compile(r"/en/accounts/dashboard/[a-z_]+/$")


def current_code(device) -> str:  # type: ignore[no-untyped-def]
    """The code the user's sign-in app shows now."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def sign_in(page, user, *, password: str = DEFAULT_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Sign the user in through the sign-in pages and wait for their dashboard."""
    device = confirmed_device(user)
    page.goto("/en/accounts/sign-in/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/en/accounts/code/**")
    page.get_by_role("textbox", name="Code from your sign-in app").fill(current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(DASHBOARD)


class Pages:
    """Browser contexts of their own for the other users of a journey, each guarded like `page`."""

    def __init__(self, browser, base_url: str) -> None:  # type: ignore[no-untyped-def]
        self.browser = browser
        self.base_url = base_url
        self.contexts: list = []
        self.external: list[str] = []

    def _refuse_other_hosts(self, route) -> None:  # type: ignore[no-untyped-def]
        if not route.request.url.startswith(self.base_url):
            self.external.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def open_as(self, user, *, password: str = DEFAULT_PASSWORD):  # type: ignore[no-untyped-def]
        context = self.browser.new_context(base_url=self.base_url, locale="en-GB")
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.route("**/*", self._refuse_other_hosts)
        sign_in(page, user, password=password)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, live_server):  # type: ignore[no-untyped-def]
    opened = Pages(browser, live_server.url)
    yield opened
    opened.close()
    assert opened.external == [], f"a page tried to load from other hosts: {opened.external}"


def flash(page) -> str:  # type: ignore[no-untyped-def]
    """The text of the page's messages (Django's messages framework), or "" when there are none."""
    return " ".join(page.locator(".messages .message").all_inner_texts())


def submit(page, button) -> None:  # type: ignore[no-untyped-def]
    """Click a form's button and wait for the page it leads to (often the same address, after a redirect)."""
    with page.expect_navigation():
        button.click()

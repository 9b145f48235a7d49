"""Browser journeys: Playwright's Python package driving Debian's Chromium against a live server.

Run as their own pytest invocation (`make test-browser`) with DJANGO_ALLOW_ASYNC_UNSAFE=true: Playwright's
sync API runs an event loop, and the ORM calls the tests make to set up data would otherwise refuse.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

CHROMIUM = os.environ.get("HAVEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: install Debian's chromium package.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    profile = tempfile.mkdtemp(prefix="haven-e2e-")
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    external: list[str] = []

    def refuse_other_hosts(route):
        # A page that loads anything from another host fails the journey (SPEC.md §6).
        if not route.request.url.startswith(live_server.url):
            external.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", refuse_other_hosts)
    yield page
    context.close()
    shutil.rmtree(profile, ignore_errors=True)
    assert external == [], f"the page tried to load from other hosts: {external}"

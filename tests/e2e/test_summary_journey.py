# ruff: noqa: F811
"""A caseworker asks for an Arabic case summary for a legal partner, watches it being made and downloads it.

No worker runs beside the browser: the test delivers the outbox itself (`outbox_sweep()`), as beat's sweeper
would, while the page polls the summary's status in the background.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from casework.models import CaseSummary
from core.accounts.testing import sign_in
from core.outbox.services import outbox_sweep
from tests.summaries.helpers_flow import (  # noqa: F401 (fixtures)
    flow_catalogues,
    flow_translated,
    private_media,
    summary_case,
    world,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARABIC_WORD = re.compile(r"[\u0600-\u06ff]{3,}")


def _signed_in_browser(page, live_server, user) -> None:  # type: ignore[no-untyped-def]
    """Sign the user in with a Django test client (both steps) and hand its session cookie to the browser."""
    client = Client()
    sign_in(client, user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


def test_ask_for_an_arabic_summary_follow_progress_and_download(
    page, live_server, flow_translated, world, summary_case, tmp_path
):
    _signed_in_browser(page, live_server, world.caseworker)
    page.goto(f"/en/cases/{summary_case.reference}/summaries/")
    assert page.get_by_role("heading", name="Case summaries").is_visible()
    # The person's language (Arabic) is chosen already; ask for a legal partner.
    assert page.get_by_label("Language of the summary").input_value() == "ar"
    page.get_by_label("For a legal partner").check()
    page.get_by_role("button", name="Ask for the summary").click()
    page.wait_for_url(f"**/en/cases/{summary_case.reference}/summaries/")
    assert page.get_by_text("The summary is being made.").is_visible()

    summary = CaseSummary.objects.get()
    assert (summary.purpose, summary.language, summary.status) == ("legal_partner", "ar", "requested")
    row = page.locator(f"tr[data-summary-id='{summary.pk}']")
    assert row.locator("[data-summary-label]").inner_text() == "Waiting to be made"
    assert row.get_by_role("link").count() == 0

    # The worker's part: the outbox delivers the render. The page learns of it by polling.
    assert outbox_sweep() == 1
    link = row.get_by_role("link", name=f"Download summary {summary.pk}")
    link.wait_for(state="visible", timeout=15_000)
    assert row.locator("[data-summary-label]").inner_text() == "Ready"
    assert page.locator("#summary-progress").inner_text() == f"Summary {summary.pk} is ready to download."

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"{summary_case.reference}-summary.pdf"
    target = tmp_path / "summary.pdf"
    download.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(target), "-"], capture_output=True, check=True, text=True
    ).stdout
    with translation.override("ar"):
        # A heading of the legal partner's summary that the Arabic catalogue translates already.
        heading = gettext("Referrals")
        title = gettext("Case summary %(reference)s") % {"reference": summary_case.reference}
    assert heading != "Referrals" and ARABIC_WORD.search(heading)
    assert summary_case.reference in text
    assert ARABIC_WORD.search(text), "the PDF holds no Arabic text"

    # Compare without spaces and without bidirectional controls: the catalogue isolates the Latin
    # reference (U+2066..U+2069) and pdftotext marks embeddings (U+202A..U+202E); both are layout only.
    def flatten(value: str) -> str:
        return re.sub(r"[\s\u200e\u200f\u202a-\u202e\u2066-\u2069]+", "", value)

    flat = flatten(text)
    assert flatten(heading) in flat
    assert flatten(title) in flat

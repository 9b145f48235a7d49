"""Render a case summary to PDF bytes (SPEC.md §5): the purpose's template, in the summary's language.

`summary_render(summary=..., now=...)` is called by the summary task (casework/tasks_summaries.py, another
area) under the task's time limit. It reads the database (casework.summaries.content) and Haven's PDF
static folder (casework.summaries.fetcher) and nothing else: no network, no other file.

The PDF is PDF/UA-1 (tagged, with the document's language and title), right-to-left for Arabic (HarfBuzz
shapes the text), with a CJK font for Chinese; every page carries the case reference, the requester's staff
identifier (never a name), the time it was made and its purpose, and "Page X of Y". Its metadata hold no
personal data: title "Case summary HV-…", author "Haven".
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError

from casework.models import CaseSummary, SummaryPurpose
from casework.summaries.content import SummaryContent, summary_content
from casework.summaries.fetcher import SafeURLFetcher, pdf_base_url

TEMPLATES = {
    SummaryPurpose.CLIENT: "pdf/client.html",
    SummaryPurpose.LEGAL_PARTNER: "pdf/legal_partner.html",
    SummaryPurpose.PROTECTION_REVIEW: "pdf/protection_review.html",
}
PDF_VARIANT = "pdf/ua-1"
_PLACEHOLDER = re.compile(r"%\((page|pages)\)s")


class SummaryRenderRefused(Exception):
    """The render asked for a resource outside Haven's PDF folder and was stopped (fail closed)."""


@dataclass(frozen=True)
class RenderResult:
    pdf_bytes: bytes
    page_count: int
    grant_ids: list[int]
    protection_level: str
    # Identity field NAMES the file shows, for the requesting service's audit event.
    identity_fields_shown: tuple[str, ...] = ()
    revealed_fields: tuple[str, ...] = ()
    audited_fields: tuple[str, ...] = field(default=())


def _page_parts(template: str) -> list[tuple[str, str]]:
    """Split a translated "Page %(page)s of %(pages)s" into text and counter parts, in its own order."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            parts.append(("text", template[position : match.start()]))
        parts.append((match.group(1), ""))
        position = match.end()
    if position < len(template):
        parts.append(("text", template[position:]))
    return parts


def _html_lang(language: str) -> str:
    """BCP 47 tag for the document (zh-hans -> zh-Hans)."""
    return translation.to_locale(language).replace("_", "-")


def _time_zone(summary: CaseSummary) -> zoneinfo.ZoneInfo:
    name = getattr(summary.case.organisation, "time_zone", "") or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def summary_html(*, summary: CaseSummary, content: SummaryContent, time_zone: zoneinfo.ZoneInfo) -> str:
    """The summary's HTML in the active language (call inside translation and time-zone overrides)."""
    language = translation.get_language()
    info = translation.get_language_info(language)
    context = {
        "content": content,
        "title": _("Case summary %(reference)s") % {"reference": content.reference},
        "lang": _html_lang(language),
        "direction": "rtl" if translation.get_language_bidi() else "ltr",
        "language_name": info["name_local"],
        "time_zone_name": content.generated_at.astimezone(time_zone).tzname() or str(time_zone),
        # Translators: the footer of every page of a case summary PDF; keep both placeholders.
        "page_parts": _page_parts(_("Page %(page)s of %(pages)s")),
    }
    return render_to_string(TEMPLATES[SummaryPurpose(summary.purpose)], context)


def pdf_from_html(html: str, *, url_fetcher: SafeURLFetcher | None = None) -> tuple[bytes, int]:
    """Lay out Haven's PDF HTML with the safe fetcher and return (PDF/UA-1 bytes, page count)."""
    fetcher = url_fetcher or SafeURLFetcher()
    try:
        document = HTML(string=html, base_url=pdf_base_url(), url_fetcher=fetcher).render(
            pdf_variant=PDF_VARIANT
        )
        output = io.BytesIO()
        document.write_pdf(output, pdf_variant=PDF_VARIANT)
    except FatalURLFetchingError as error:
        # WeasyPrint wraps a refusal into a BaseException; the task needs an ordinary, named one.
        raise SummaryRenderRefused("A PDF render asked for a resource outside Haven's PDF folder.") from error
    return output.getvalue(), len(document.pages)


def summary_render(
    *, summary: CaseSummary, now: dt.datetime, url_fetcher: SafeURLFetcher | None = None
) -> RenderResult:
    """Render the summary for its requester, as they may see the case now, to PDF bytes.

    Raises PermissionDenied when the requester may not have this summary now, ValueError for a language
    Haven has no catalogue for, and SummaryRenderRefused when the document asked for anything outside
    Haven's PDF folder. `url_fetcher` is for tests that instrument it; it defaults to a SafeURLFetcher.
    """
    if summary.language not in dict(settings.LANGUAGES):
        raise ValueError("The summary's language is not one of Haven's languages.")
    fetcher = url_fetcher or SafeURLFetcher()
    time_zone = _time_zone(summary)
    with translation.override(summary.language), timezone.override(time_zone):
        content = summary_content(summary=summary, now=now)
        html = summary_html(summary=summary, content=content, time_zone=time_zone)
        pdf_bytes, page_count = pdf_from_html(html, url_fetcher=fetcher)
    return RenderResult(
        pdf_bytes=pdf_bytes,
        page_count=page_count,
        grant_ids=list(content.grant_ids),
        protection_level=content.protection_level,
        identity_fields_shown=content.identity_fields_shown,
        revealed_fields=content.revealed_fields,
        audited_fields=content.audited_fields,
    )

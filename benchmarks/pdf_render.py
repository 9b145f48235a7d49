"""Benchmark: rendering a realistic five-page case summary to PDF, in English and in Arabic.

Builds a legal-partner summary's content in memory (fake contacts, timeline, consents, referrals: no
database needed), renders it exactly as casework.summaries.render.summary_render does (the purpose's
template in the language, WeasyPrint with the safe fetcher, PDF/UA-1), checks it has five pages, and times
15 runs per language after a warm-up. Prints the median and how many summaries per minute one worker makes.
The aim (PITFALLS.md, WeasyPrint): 0.6 s in English, 0.9 s in Arabic, or better.

    .venv/bin/python benchmarks/pdf_render.py
    .venv/bin/python benchmarks/pdf_render.py --runs 30 --save /tmp/summaries
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"en": 0.6, "ar": 0.9}
PAGES = 5


def _bootstrap() -> Path:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    # The repository keeps no compiled catalogues: compile them privately so Arabic headings are Arabic.
    locale = Path(tempfile.mkdtemp(prefix="haven-bench-locale-"))
    for po_file in (ROOT / "locale").glob("*/LC_MESSAGES/django.po"):
        out = locale / po_file.parent.parent.name / "LC_MESSAGES"
        out.mkdir(parents=True)
        subprocess.run(["msgfmt", "-o", str(out / "django.mo"), str(po_file)], check=True)  # noqa: S603, S607
    return locale


NOTES = {
    "en": "Called back as agreed. The client reported two new messages from the same account and "
    "sent screenshots; we logged them as evidence and went through the safety steps again.",
    "ar": "تم الاتصال كما اتفقنا. أبلغت العميلة عن رسالتين جديدتين من الحساب نفسه وأرسلت لقطات شاشة؛ "
    "سجلناها كأدلة وراجعنا خطوات السلامة مرة أخرى.",
}


def _content(language: str, contacts: int):  # type: ignore[no-untyped-def]
    from casework.models import (
        CaseKind,
        CaseState,
        ConsentScope,
        Contact,
        ProtectionLevel,
        RiskLevel,
        SummaryPurpose,
    )
    from casework.summaries import content as c
    from referrals.models import ReferralState

    now = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)
    contact_items = [
        c.ContactItem(
            occurred_at=now - dt.timedelta(days=90 - index, hours=index % 7),
            channel_label=("Phone", "E-mail", "In person")[index % 3],
            direction_label=Contact.Direction.OUTBOUND.label,
            outcome_label=Contact.Outcome.REACHED.label,
            interpreter_used=index % 4 == 0,
            notes=NOTES[language],
        )
        for index in range(contacts)
    ]
    referrals = [
        c.ReferralItem(
            reference=f"RF-2026-00012{index}",
            service_name="Legal advice clinic",
            partner_name="City law centre",
            state_label=ReferralState.ACCEPTED.label,
            is_urgent=index == 0,
            sent_at=now - dt.timedelta(days=40 - index),
            decided_at=now - dt.timedelta(days=38 - index),
            closed_at=None,
        )
        for index in range(3)
    ]
    content = c.SummaryContent(
        purpose=SummaryPurpose.LEGAL_PARTNER,
        purpose_label=SummaryPurpose.LEGAL_PARTNER.label,
        reference="HV-2026-000123",
        pseudonym="Meadow Canyon 86",
        staff_code="S-1A2B3C4D",
        generated_at=now,
        kind_label=CaseKind.VICTIM_SUPPORT.label,
        category_labels=["Sextortion", "Fraud and scams"],
        risk_label=RiskLevel.HIGH.label,
        state_label=CaseState.ACTIVE.label,
        protection_level=ProtectionLevel.CONFIDENTIAL,
        protection_level_label=ProtectionLevel.CONFIDENTIAL.label,
        is_minor=False,
        opened_at=now - dt.timedelta(days=95),
        closed_at=None,
        last_contact_at=now - dt.timedelta(days=1),
        identity=[
            c.IdentityItem(
                field=name,
                label=label,
                value="Meadow Canyon 86" if name in c.NAME_FIELDS else "",
                is_withheld=True,
            )
            for name, label in c.IDENTITY_LABELS.items()
            if name != "contact_channels"
        ],
        channels=[
            c.ChannelItem(label="Phone 1", safety_label="Safe", value="", safe_times="", is_withheld=True)
        ],
        contacts=contact_items,
        shows_casework=True,
        shows_contact_notes=True,
        referrals=referrals,
        consents=[
            c.ConsentItem(
                scope_labels=[ConsentScope.PROCESSING.label, ConsentScope.REFERRAL.label],
                given_by_label="The client",
                method_label="Written",
                given_at=now - dt.timedelta(days=94),
                expires_at=None,
                withdrawn_at=None,
                is_live=True,
            )
        ],
        handling_instruction="Never call before 18:00. Do not leave voicemail.",
        facts=c.FactsItem(
            has_fraud=True,
            loss_amount=2450,
            currency="EUR",
            bank_notified=True,
            has_criminal_process=True,
            reported_to_police=True,
            crime_reference="CR/2026/0042",
        ),
    )
    content.timeline = [
        c.TimelineEntry(
            at=item.occurred_at,
            text=f"{item.channel_label}, {item.direction_label}",
            detail=item.outcome_label,
        )
        for item in contact_items
    ]
    return content


def _render_once(language: str, contacts: int) -> tuple[float, int, bytes]:
    import zoneinfo

    from django.utils import timezone, translation

    from casework.models import CaseSummary, SummaryPurpose
    from casework.summaries.render import pdf_from_html, summary_html

    summary = CaseSummary(purpose=SummaryPurpose.LEGAL_PARTNER, language=language)
    time_zone = zoneinfo.ZoneInfo("Europe/Paris")
    start = time.perf_counter()
    with translation.override(language), timezone.override(time_zone):
        html = summary_html(summary=summary, content=_content(language, contacts), time_zone=time_zone)
        pdf_bytes, pages = pdf_from_html(html)
    return time.perf_counter() - start, pages, pdf_bytes


def _contacts_for_five_pages(language: str) -> int:
    """The number of contacts that fills exactly five pages."""
    for contacts in range(10, 200, 2):
        _, pages, _ = _render_once(language, contacts)
        if pages == PAGES:
            # Take the middle of the five-page range, so small layout changes keep five pages.
            upper = contacts
            while _render_once(language, upper + 2)[1] == PAGES:
                upper += 2
            return (contacts + upper) // 2
    raise SystemExit(f"Could not fill {PAGES} pages in {language}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--save", type=Path, help="write the last PDF of each language into this folder")
    args = parser.parse_args()
    locale = _bootstrap()
    from django.test.utils import override_settings

    with override_settings(LOCALE_PATHS=[locale]):
        print(
            f"{'language':<9}{'pages':>6}{'contacts':>10}{'median s':>10}{'min s':>8}{'max s':>8}"
            f"{'per minute':>12}{'aim s':>7}"
        )
        for language, aim in TARGETS.items():
            contacts = _contacts_for_five_pages(language)
            _render_once(language, contacts)  # warm-up: fonts, templates, catalogues
            times = []
            for _ in range(args.runs):
                seconds, pages, pdf_bytes = _render_once(language, contacts)
                assert pages == PAGES, pages
                times.append(seconds)
            median = statistics.median(times)
            print(
                f"{language:<9}{pages:>6}{contacts:>10}{median:>10.3f}{min(times):>8.3f}{max(times):>8.3f}"
                f"{60 / median:>12.0f}{aim:>7.1f}{'  ok' if median <= aim else '  SLOWER'}"
            )
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"summary-{language}.pdf").write_bytes(pdf_bytes)


if __name__ == "__main__":
    main()

"""Fixtures and helpers of the PDF renderer's tests (tests/summaries/test_render_*.py).

No conftest here: the summary flow's tests share the folder (tests/summaries/helpers_flow.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import subprocess
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader

from casework.models import (
    Case,
    CaseSummary,
    ChannelKind,
    Consent,
    ConsentGivenBy,
    ConsentMethod,
    ConsentScope,
    Contact,
    ContactChannel,
    CounsellingSession,
    SafetyPlan,
)
from tests.casework.conftest import World, make_case, world  # noqa: F401 (fixtures)
from tests.protection.conftest import unit  # noqa: F401 (fixture)

LANGUAGES = ("en", "fr", "es", "ar", "zh-hans", "ru")
PURPOSES = ("client", "legal_partner", "protection_review")
# Unique markers: if one of them shows up anywhere in a file it must not be in, the test says which.
LEGAL_NAME_MARKER = "Zqxlegalmarker"
CODE_WORD = "Zqxcodeword"
SEIZURE_STEPS = "Zqxseizuresteps"
COUNSELLING_NOTE = "Zqxcounsellingnote"
CONTACT_NOTE = "Zqxcontactnote"
# The clock of every render: the world's fixtures (protection unit arrangement) start from today.
NOW = timezone.now().replace(second=0, microsecond=0)


@pytest.fixture(scope="session")
def compiled_catalogues(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """Haven's catalogues compiled into a private folder (the repository keeps no .mo files)."""
    root = Path(__file__).resolve().parents[2] / "locale"
    target = tmp_path_factory.mktemp("locale")
    for po_file in root.glob("*/LC_MESSAGES/django.po"):
        out = target / po_file.parent.parent.name / "LC_MESSAGES"
        out.mkdir(parents=True)
        subprocess.run(["msgfmt", "-o", str(out / "django.mo"), str(po_file)], check=True)  # noqa: S603, S607
    return target


@pytest.fixture
def translated(settings, compiled_catalogues):  # type: ignore[no-untyped-def]
    """Use the compiled catalogues (the settings fixture resets Django's translation caches)."""
    settings.LOCALE_PATHS = [compiled_catalogues]
    return compiled_catalogues


def fill_case(
    world: World,  # noqa: F811 (the name of the fixture imported above, for the test modules)
    *,
    contacts: int = 3,
    note: str = CONTACT_NOTE,
    **person_fields: object,
) -> Case:
    """A case with a channel, a consent, contacts, a safety plan (with a code word) and a session."""
    fields = {"legal_name": f"Maria {LEGAL_NAME_MARKER}", "preferred_name": "Mari", **person_fields}
    case = make_case(world, with_counsellor=True, **fields)
    ContactChannel.objects.create(person=case.person, kind=ChannelKind.PHONE, value="+441632960001")
    Consent.objects.create(
        case=case,
        scopes=[ConsentScope.PROCESSING, ConsentScope.REFERRAL],
        given_by=ConsentGivenBy.CLIENT,
        method=ConsentMethod.WRITTEN,
        notice_version="2026-01",
        notice_language="en",
        given_at=NOW - dt.timedelta(days=40),
        recorded_by=world.caseworker,
    )
    for number in range(contacts):
        Contact.objects.create(
            case=case,
            channel_kind=ChannelKind.PHONE,
            direction=Contact.Direction.OUTBOUND,
            outcome=Contact.Outcome.REACHED,
            occurred_at=NOW - dt.timedelta(days=30 - number % 30, hours=number),
            notes=f"{note} {number}",
            recorded_by=world.caseworker,
        )
    SafetyPlan.objects.create(
        case=case,
        safe_contact_times="Weekdays after 18:00",
        code_word=CODE_WORD,
        device_seizure_steps=SEIZURE_STEPS,
        other_steps="Use the library computer.",
        updated_by=world.caseworker,
    )
    CounsellingSession.objects.create(
        case=case,
        counsellor=world.counsellor,
        held_on=(NOW - dt.timedelta(days=10)).date(),
        modality=CounsellingSession.Modality.VIDEO,
        duration_minutes=50,
        notes=COUNSELLING_NOTE,
    )
    return case


def make_summary(
    case: Case,
    user: object,
    *,
    purpose: str = "client",
    language: str = "en",
    include_counselling: bool = False,
) -> CaseSummary:
    return CaseSummary.objects.create(
        case=case,
        requested_by=user,
        purpose=purpose,
        language=language,
        include_counselling=include_counselling,
        requested_at=NOW,
        expires_at=NOW + dt.timedelta(hours=24),
    )


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def weasyprint_log() -> Iterator[list[logging.LogRecord]]:
    """Collect WeasyPrint's warnings and errors (missing glyphs log a ".notdef" warning)."""
    handler = _Collect()
    logger = logging.getLogger("weasyprint")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


# Arabic marks (shadda, harakat) that extractors give as separate characters.
ARABIC_MARKS = dict.fromkeys([*range(0x064B, 0x0660), 0x0670])


def normalise(text: str) -> str:
    """Text as compared by the tests: bidi controls and Arabic marks removed, whitespace collapsed."""
    return " ".join(text.translate(BIDI_CONTROLS).translate(ARABIC_MARKS).split())


def pdftotext(pdf: bytes, *, page: int | None = None) -> str:
    """Text as poppler's pdftotext extracts it (bidi control characters removed)."""
    args = ["pdftotext", "-enc", "UTF-8"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    result = subprocess.run([*args, "-", "-"], input=pdf, capture_output=True, check=True)  # noqa: S603
    return result.stdout.decode("utf-8").translate(BIDI_CONTROLS)


def page_texts(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [(page.extract_text() or "").translate(BIDI_CONTROLS) for page in reader.pages]


def decompressed_streams(pdf: bytes) -> bytes:
    """Every stream of the file, inflated where it was deflated: what a reader of raw bytes could find."""
    reader = PdfReader(io.BytesIO(pdf))
    chunks = [pdf]
    for number in range(1, reader.trailer["/Size"]):
        try:
            obj = reader.get_object(number)
        except Exception:  # noqa: BLE001 - a free or odd object is simply skipped
            continue
        data = getattr(obj, "get_data", None)
        if data is not None:
            try:
                chunks.append(data())
            except Exception:  # noqa: BLE001
                continue
    for chunk in list(chunks):
        with contextlib.suppress(zlib.error):
            chunks.append(zlib.decompress(chunk))
    return b"\n".join(chunks)

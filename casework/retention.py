"""How long Haven keeps what, per category (SPEC.md §2 casework/ "Retention").

Periods come from the setting HAVEN_RETENTION, read at every call (never at import), merged over the
defaults below. Each value is a whole number of years (or a `datetime.timedelta`):

    HAVEN_RETENTION = {
        "notes": 6,              # free text of a closed case, then its structured data is anonymised
        "documents": 6,          # uploaded documents' bytes, counted from the case's closure
        "partner_snapshots": 2,  # what a partner received (used by the referrals app)
        "audit_trail": 10,       # informational: Haven itself never deletes audit events
        "minor_extension_years": 18,  # see below
    }

Minors (the case's minor flag): the period is counted from the later of the closure and the person's 18th
birthday, so a child's record is kept at least until they are an adult plus the full period. When the date
of birth is unknown (declined or not collected) the start is pushed by `minor_extension_years` after the
closure instead (default 18 years: the longest it could take a newborn to come of age), so the rule fails
towards keeping, never towards destroying early.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.dates import add_years

NOTES = "notes"
DOCUMENTS = "documents"
PARTNER_SNAPSHOTS = "partner_snapshots"
AUDIT_TRAIL = "audit_trail"
MINOR_EXTENSION = "minor_extension_years"
ADULT_AGE = 18

DEFAULT_RETENTION: dict[str, int] = {
    NOTES: 6,
    DOCUMENTS: 6,
    PARTNER_SNAPSHOTS: 2,
    AUDIT_TRAIL: 10,
    MINOR_EXTENSION: 18,
}

Period = int | dt.timedelta


def retention_settings() -> dict[str, Period]:
    """Return the configured periods (defaults merged with HAVEN_RETENTION), checked."""
    configured = getattr(settings, "HAVEN_RETENTION", None) or {}
    if not isinstance(configured, Mapping):
        raise ImproperlyConfigured("HAVEN_RETENTION must be a mapping of category to years.")
    merged: dict[str, Period] = {**DEFAULT_RETENTION}
    for name, value in configured.items():
        if name not in DEFAULT_RETENTION:
            raise ImproperlyConfigured(f"HAVEN_RETENTION: unknown category {name!r}.")
        if isinstance(value, bool) or not isinstance(value, int | dt.timedelta):
            raise ImproperlyConfigured(f"HAVEN_RETENTION[{name!r}] must be whole years or a timedelta.")
        if (isinstance(value, int) and value < 0) or (
            isinstance(value, dt.timedelta) and value < dt.timedelta(0)
        ):
            raise ImproperlyConfigured(f"HAVEN_RETENTION[{name!r}] cannot be negative.")
        merged[name] = value
    return merged


def retention_period(category: str) -> Period:
    """Return the period of one category (whole years, or a timedelta)."""
    periods = retention_settings()
    if category not in periods:
        raise KeyError(category)
    return periods[category]


def period_add(start: dt.datetime, period: Period) -> dt.datetime:
    """Return `start` plus a period (years keep the calendar day, clamped at a month's end)."""
    if isinstance(period, dt.timedelta):
        return start + period
    day = add_years(start.date(), period)
    return start.replace(year=day.year, month=day.month, day=day.day)


def retention_start(*, closed_at: dt.datetime, is_minor: bool, date_of_birth: dt.date | None) -> dt.datetime:
    """Return when a closed case's periods start counting (later for minors; see the module text)."""
    if not is_minor:
        return closed_at
    if date_of_birth is not None:
        coming_of_age = add_years(date_of_birth, ADULT_AGE)
        adult_from = closed_at.replace(
            year=coming_of_age.year, month=coming_of_age.month, day=coming_of_age.day
        )
        return max(closed_at, adult_from)
    return period_add(closed_at, retention_period(MINOR_EXTENSION))


def retention_due(
    *,
    category: str,
    closed_at: dt.datetime,
    is_minor: bool = False,
    date_of_birth: dt.date | None = None,
) -> dt.datetime:
    """Return the moment the category's period ends for a case closed at `closed_at`."""
    start = retention_start(closed_at=closed_at, is_minor=is_minor, date_of_birth=date_of_birth)
    return period_add(start, retention_period(category))


# --- Hooks for other apps -------------------------------------------------------------------------------
# Another app whose rows hold free text about a case (referrals' snapshots, protection's records) registers
# a function called inside the anonymisation's transaction: fn(case=..., person_anonymised=bool, now=...)
# returning the number of rows it cleared. Registered at import of that app's services (idempotent).

CaseAnonymiser = Callable[..., int]
_case_anonymisers: dict[str, CaseAnonymiser] = {}


def register_case_anonymiser(name: str, anonymiser: CaseAnonymiser) -> None:
    _case_anonymisers[name] = anonymiser


def case_anonymisers() -> list[CaseAnonymiser]:
    return list(_case_anonymisers.values())

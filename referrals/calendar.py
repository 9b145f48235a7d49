"""Working-day arithmetic in a partner service's time zone and working calendar (SPEC.md §2 "Deadlines").

A deadline of N working days is the same wall-clock time N working days later: sent on Monday at 10:00
with two working days, due on Wednesday at 10:00; sent on Friday at 16:00, due on Tuesday at 16:00. Sent
on a day off (a weekend, a holiday), counting starts at 00:00 of the next working day. Every due time
returned here is on a working day that is not a holiday, in the partner's time zone, and never earlier
than the start; a wall-clock time skipped by a daylight-saving change moves to the first real instant
after the gap. Urgent deadlines are clock hours around the clock (plain UTC arithmetic).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from referrals.models import Referral, Service

DEFAULT_WORKING_DAYS: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday to Friday
# A calendar with no working day at all cannot end; look this far ahead at most.
MAX_LOOKAHEAD_DAYS = 3660


@dataclass(frozen=True)
class WorkingCalendar:
    time_zone: ZoneInfo
    working_days: frozenset[int]
    holidays: frozenset[dt.date]

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        for offset in range(1, MAX_LOOKAHEAD_DAYS + 1):
            candidate = day + dt.timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError("This calendar has no working day.")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _holidays(values: Iterable[object]) -> frozenset[dt.date]:
    days: set[dt.date] = set()
    for value in values or ():
        if isinstance(value, dt.date):
            days.add(value)
            continue
        try:
            days.add(dt.date.fromisoformat(str(value)))
        except ValueError:
            continue  # a malformed entry is ignored rather than stopping every deadline
    return frozenset(days)


def calendar_for(
    *, time_zone: str = "UTC", working_days: Iterable[int] = (), holidays: Iterable[object] = ()
) -> WorkingCalendar:
    days = frozenset(int(day) for day in (working_days or ()) if 0 <= int(day) <= 6)
    return WorkingCalendar(
        time_zone=_zone(time_zone),
        working_days=days or frozenset(DEFAULT_WORKING_DAYS),
        holidays=_holidays(holidays),
    )


def service_calendar(service: Service) -> WorkingCalendar:
    return calendar_for(
        time_zone=service.time_zone, working_days=service.working_days, holidays=service.holidays
    )


def _local(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The aware datetime of a local wall-clock time; a time skipped by a DST change moves forward."""
    naive = dt.datetime.combine(day, time.replace(tzinfo=None), tzinfo=zone)
    # Round trip through UTC: a non-existent time (spring forward) becomes the real instant after the gap.
    return naive.astimezone(dt.UTC).astimezone(zone)


def add_working_days(start: dt.datetime, days: int, calendar: WorkingCalendar) -> dt.datetime:
    """Return the instant ``days`` full working days after ``start`` in the calendar (aware, UTC)."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime.")
    if days < 0:
        raise ValueError("days must not be negative.")
    zone = calendar.time_zone
    local = start.astimezone(zone)
    day = local.date()
    time = local.time()  # keeps fold: the second 01:30 of an autumn night stays the second one
    if not calendar.is_working_day(day):
        day = calendar.next_working_day(day)
        time = dt.time(0, 0)
    for _ in range(days):
        day = calendar.next_working_day(day)
    due = _local(day, time, zone)
    if due.date() != day:  # a gap at the very end of a day cannot push it off the working day
        due = _local(day, dt.time(0, 0), zone)
    return max(due, start).astimezone(dt.UTC)


def referral_deadlines(referral: Referral, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Return (receive_due_at, decide_due_at) of a referral, from its service's calendar.

    Received within ``receive_within_working_days`` working days of sending (urgent: within
    ``urgent_receive_within_hours`` clock hours, around the clock); decided within
    ``decide_within_working_days`` working days after receipt, or after sending while not yet received.
    ``now`` stands in for the sending time when the referral has none yet (the sending service calls this
    as it sends).
    """
    service = referral.service
    calendar = service_calendar(service)
    sent_at = referral.sent_at or now
    if referral.is_urgent:
        receive_due = sent_at + dt.timedelta(hours=service.urgent_receive_within_hours)
    else:
        receive_due = add_working_days(sent_at, service.receive_within_working_days, calendar)
    decide_from = referral.received_at or sent_at
    decide_due = add_working_days(decide_from, service.decide_within_working_days, calendar)
    return receive_due, decide_due

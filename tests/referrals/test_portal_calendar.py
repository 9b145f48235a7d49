"""Working-day arithmetic in a partner's time zone and calendar: weekends, holidays, time zones, DST."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referrals.calendar import add_working_days, calendar_for, referral_deadlines
from referrals.models import Referral, Service

LONDON = ZoneInfo("Europe/London")
WEEK = calendar_for(time_zone="Europe/London", working_days=[0, 1, 2, 3, 4])


def at(zone: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


def test_two_working_days_from_monday_morning_is_wednesday_morning():
    assert add_working_days(at(LONDON, 2026, 3, 2, 10, 0), 2, WEEK) == at(LONDON, 2026, 3, 4, 10, 0)


def test_the_weekend_does_not_count():
    assert add_working_days(at(LONDON, 2026, 3, 6, 16, 0), 2, WEEK) == at(LONDON, 2026, 3, 10, 16, 0)


def test_sent_on_a_saturday_counting_starts_on_monday_morning():
    assert add_working_days(at(LONDON, 2026, 3, 7, 15, 0), 2, WEEK) == at(LONDON, 2026, 3, 11, 0, 0)


def test_holidays_do_not_count():
    calendar = calendar_for(
        time_zone="Europe/London", working_days=[0, 1, 2, 3, 4], holidays=["2026-12-25", "2026-12-28"]
    )
    # Thursday 24th + 2: Friday 25th and Monday 28th are holidays -> Tuesday 29th (1), Wednesday 30th (2).
    assert add_working_days(at(LONDON, 2026, 12, 24, 10, 0), 2, calendar) == at(LONDON, 2026, 12, 30, 10, 0)


def test_a_different_working_week():
    calendar = calendar_for(time_zone="Asia/Dubai", working_days=[0, 1, 2, 3, 4])
    sunday_working = calendar_for(time_zone="Asia/Dubai", working_days=[6, 0, 1, 2, 3])
    friday = at(ZoneInfo("Asia/Dubai"), 2026, 3, 6, 9, 0)
    assert add_working_days(friday, 1, calendar) == at(ZoneInfo("Asia/Dubai"), 2026, 3, 9, 9, 0)
    # Friday is not a working day there: start on Sunday morning, one working day -> Monday 00:00.
    assert add_working_days(friday, 1, sunday_working) == at(ZoneInfo("Asia/Dubai"), 2026, 3, 9, 0, 0)


def test_the_same_instant_is_a_different_day_in_another_time_zone():
    instant = dt.datetime(2026, 3, 6, 23, 30, tzinfo=dt.UTC)  # Friday in Los Angeles, Saturday in Tokyo
    los_angeles = calendar_for(time_zone="America/Los_Angeles")
    tokyo = calendar_for(time_zone="Asia/Tokyo")
    assert add_working_days(instant, 1, los_angeles) == at(
        ZoneInfo("America/Los_Angeles"), 2026, 3, 9, 15, 30
    )
    assert add_working_days(instant, 1, tokyo) == at(ZoneInfo("Asia/Tokyo"), 2026, 3, 10, 0, 0)


def test_a_wall_clock_time_skipped_by_summer_time_moves_after_the_gap():
    every_day = calendar_for(time_zone="Europe/London", working_days=range(7))
    # 01:30 on Sunday 29 March 2026 does not exist in London (01:00 GMT -> 02:00 BST).
    due = add_working_days(at(LONDON, 2026, 3, 28, 1, 30), 1, every_day)
    assert due == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    assert due.astimezone(LONDON).hour == 2


def test_summer_time_keeps_the_wall_clock_time():
    due = add_working_days(at(LONDON, 2026, 3, 27, 10, 0), 1, WEEK)  # Friday GMT -> Monday BST
    assert due == at(LONDON, 2026, 3, 30, 10, 0)
    assert due == dt.datetime(2026, 3, 30, 9, 0, tzinfo=dt.UTC)


def test_an_unknown_time_zone_or_empty_week_falls_back_safely():
    calendar = calendar_for(time_zone="Mars/Olympus", working_days=[], holidays=["not a date"])
    assert calendar.time_zone == ZoneInfo("UTC")
    assert calendar.working_days == frozenset({0, 1, 2, 3, 4})


def _referral(**fields) -> Referral:  # type: ignore[no-untyped-def]
    service = Service(
        time_zone="Europe/London",
        working_days=[0, 1, 2, 3, 4],
        holidays=["2026-03-04"],
        receive_within_working_days=2,
        urgent_receive_within_hours=4,
        decide_within_working_days=5,
    )
    return Referral(service=service, **fields)


def test_referral_deadlines_default_urgent_and_after_receipt():
    friday_night = dt.datetime(2026, 3, 6, 22, 0, tzinfo=dt.UTC)
    receive, decide = referral_deadlines(_referral(), friday_night)
    assert receive == dt.datetime(2026, 3, 10, 22, 0, tzinfo=dt.UTC)  # Mon, Tue
    assert decide == dt.datetime(2026, 3, 13, 22, 0, tzinfo=dt.UTC)  # Mon 9 to Fri 13
    receive, _ = referral_deadlines(_referral(is_urgent=True), friday_night)
    assert receive == dt.datetime(2026, 3, 7, 2, 0, tzinfo=dt.UTC)  # four hours, around the clock
    received = _referral(sent_at=friday_night, received_at=dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC))
    _, decide = referral_deadlines(received, friday_night)
    # Received Tuesday 3rd; Wednesday 4th is a holiday: Thu 5, Fri 6, Mon 9, Tue 10, Wed 11.
    assert decide == dt.datetime(2026, 3, 11, 9, 0, tzinfo=dt.UTC)


ZONES = sorted(
    zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "posix", "right"))
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.datetimes(
        min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 12, 31), timezones=st.just(dt.UTC)
    ),
    zone=st.sampled_from(ZONES),
    working_days=st.sets(st.integers(min_value=0, max_value=6), min_size=1),
    holidays=st.lists(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2041, 3, 1)), max_size=40),
    days=st.integers(min_value=0, max_value=15),
)
def test_a_due_time_is_on_a_working_day_and_never_before_the_start(start, zone, working_days, holidays, days):
    calendar = calendar_for(
        time_zone=zone, working_days=sorted(working_days), holidays=[d.isoformat() for d in holidays]
    )
    due = add_working_days(start, days, calendar)
    local_day = due.astimezone(ZoneInfo(zone)).date()
    assert due >= start
    assert local_day.weekday() in working_days
    assert local_day not in set(holidays)
    if days > 0:
        assert local_day > start.astimezone(ZoneInfo(zone)).date()


@settings(max_examples=100, deadline=None)
@given(
    start=st.datetimes(
        min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 12, 31), timezones=st.just(dt.UTC)
    ),
    zone=st.sampled_from(ZONES),
)
def test_holidays_around_a_start_never_land_a_due_time_on_them(start, zone):
    local = start.astimezone(ZoneInfo(zone)).date()
    holidays = [(local + dt.timedelta(days=offset)).isoformat() for offset in range(0, 10, 2)]
    calendar = calendar_for(time_zone=zone, holidays=holidays)
    due = add_working_days(start, 2, calendar)
    assert due.astimezone(ZoneInfo(zone)).date().isoformat() not in holidays


def test_negative_days_and_naive_starts_are_refused():
    with pytest.raises(ValueError):
        add_working_days(dt.datetime(2026, 3, 2, 10, 0), 1, WEEK)  # noqa: DTZ001
    with pytest.raises(ValueError):
        add_working_days(at(LONDON, 2026, 3, 2, 10, 0), -1, WEEK)

"""Pure tests of business-time arithmetic: opening, next opening, adding and measuring business time.

Across time zones (Europe/Berlin with its daylight-saving changes, Asia/Bangkok without), holidays and
pauses, with hypothesis for the invariants.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline.routing.hours import (
    ALWAYS_OPEN,
    HoursFormatError,
    Schedule,
    add_business_minutes,
    add_counted_time,
    business_minutes_between,
    business_time_between,
    format_weekly,
    is_open,
    next_opening,
    open_intervals,
    parse_holidays,
    parse_weekly,
    subtract_intervals,
)

BERLIN = ZoneInfo("Europe/Berlin")
BANGKOK = ZoneInfo("Asia/Bangkok")
UTC = dt.UTC
OFFICE = {day: ((9 * 60, 17 * 60),) for day in range(5)}  # Monday–Friday 09:00–17:00


def berlin(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


def office(zone: str = "Europe/Berlin", holidays=()) -> Schedule:
    return Schedule(time_zone=zone, weekly=OFFICE, holidays=frozenset(holidays))


def test_office_is_open_on_a_weekday_and_closed_at_night_and_weekends():
    schedule = office()
    assert is_open(schedule, berlin(2026, 11, 23, 10, 0))  # a Monday
    assert not is_open(schedule, berlin(2026, 11, 23, 17, 0))  # closing time is exclusive
    assert not is_open(schedule, berlin(2026, 11, 23, 8, 59))
    assert not is_open(schedule, berlin(2026, 11, 28, 12, 0))  # Saturday


def test_next_opening_skips_the_weekend_and_holidays():
    schedule = office(holidays=[dt.date(2026, 11, 30)])  # the Monday after
    friday_evening = berlin(2026, 11, 27, 18, 0)
    assert next_opening(schedule, friday_evening) == berlin(2026, 12, 1, 9, 0)
    assert next_opening(schedule, berlin(2026, 12, 1, 9, 30)) == berlin(2026, 12, 1, 9, 30)


def test_a_schedule_that_never_opens_has_no_next_opening():
    assert next_opening(Schedule(weekly={}), berlin(2026, 1, 1, 0, 0)) is None
    assert add_business_minutes(Schedule(weekly={}), berlin(2026, 1, 1, 0, 0), 5) is None


def test_adding_business_minutes_carries_over_the_night_and_the_weekend():
    schedule = office()
    assert add_business_minutes(schedule, berlin(2026, 11, 23, 16, 30), 60) == berlin(2026, 11, 24, 9, 30)
    assert add_business_minutes(schedule, berlin(2026, 11, 27, 16, 0), 6 * 60) == berlin(2026, 11, 30, 14, 0)
    assert add_business_minutes(schedule, berlin(2026, 11, 28, 3, 0), 1) == berlin(2026, 11, 30, 9, 1)


def test_business_minutes_between_counts_only_open_time():
    schedule = office()
    assert business_minutes_between(schedule, berlin(2026, 11, 23, 16, 0), berlin(2026, 11, 24, 10, 0)) == 120
    assert business_minutes_between(schedule, berlin(2026, 11, 27, 12, 0), berlin(2026, 11, 30, 12, 0)) == 8 * 60
    assert business_minutes_between(schedule, berlin(2026, 11, 24, 10, 0), berlin(2026, 11, 23, 10, 0)) == 0


def test_office_day_is_eight_hours_on_both_daylight_saving_changes_in_berlin():
    spring = office()  # 2026-03-29 (Sunday) clocks go forward; 2026-10-25 (Sunday) back
    monday_after_spring = berlin(2026, 3, 30, 9, 0)
    assert business_minutes_between(spring, berlin(2026, 3, 27, 9, 0), monday_after_spring) == 8 * 60
    seven_days = office(zone="Europe/Berlin")
    weekly = Schedule(time_zone="Europe/Berlin", weekly={d: ((9 * 60, 17 * 60),) for d in range(7)})
    assert business_minutes_between(weekly, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)) == 8 * 60
    assert business_minutes_between(seven_days, berlin(2026, 10, 23, 9, 0), berlin(2026, 10, 26, 9, 0)) == 8 * 60


def test_a_round_the_clock_day_lasts_23_and_25_hours_across_berlin_changes():
    daily = Schedule(
        time_zone="Europe/Berlin",
        weekly={d: ((0, 24 * 60),) for d in range(7)},
        holidays=frozenset({dt.date(2026, 1, 1)}),
    )
    assert business_minutes_between(daily, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)) == 23 * 60
    assert business_minutes_between(daily, berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0)) == 25 * 60


def test_opening_at_a_wall_time_skipped_by_spring_forward_is_read_before_the_change():
    night = Schedule(time_zone="Europe/Berlin", weekly={6: ((2 * 60 + 30, 4 * 60),)})
    # 02:30 does not exist on 2026-03-29; it is read as 02:30 CET = 01:30 UTC = 03:30 CEST.
    assert next_opening(night, berlin(2026, 3, 29, 0, 0)) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_bangkok_office_hours_are_in_bangkok_time():
    schedule = office(zone="Asia/Bangkok")
    nine_bangkok = dt.datetime(2026, 11, 23, 9, 0, tzinfo=BANGKOK)
    assert nine_bangkok.astimezone(UTC).hour == 2
    assert is_open(schedule, dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    assert not is_open(schedule, dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # 17:00 in Bangkok
    assert add_business_minutes(schedule, dt.datetime(2026, 11, 23, 9, 59, tzinfo=UTC), 2) == dt.datetime(
        2026, 11, 24, 2, 1, tzinfo=UTC
    )


def test_overnight_shift_from_yesterday_still_counts():
    late = Schedule(
        time_zone="UTC", weekly={d: ((22 * 60, 24 * 60),) for d in range(7)} | {0: ((0, 2 * 60), (22 * 60, 24 * 60))}
    )
    sunday_late = dt.datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    intervals = list(open_intervals(late, sunday_late, dt.datetime(2026, 11, 23, 3, 0, tzinfo=UTC)))
    assert intervals == [(sunday_late, dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC))]  # merged across midnight


def test_subtracting_pauses_and_counting_through_them():
    start = dt.datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    pauses = [(start + dt.timedelta(minutes=10), start + dt.timedelta(minutes=40))]
    counted = subtract_intervals(open_intervals(ALWAYS_OPEN, start), pauses)
    assert add_counted_time(counted, start, dt.timedelta(minutes=20)) == start + dt.timedelta(minutes=50)
    forever = subtract_intervals(open_intervals(ALWAYS_OPEN, start), [(start + dt.timedelta(minutes=5), None)])
    assert add_counted_time(forever, start, dt.timedelta(minutes=20)) is None


def test_weekly_text_roundtrip_and_errors():
    weekly = parse_weekly("mon-fri 09:00-17:00\nsat 10:00-14:00, 15:00-18:00")
    assert weekly[0] == ((540, 1020),) and weekly[5] == ((600, 840), (900, 1080))
    assert parse_weekly(format_weekly(weekly)) == weekly
    assert parse_weekly("fri-mon 08:00-09:00").keys() == {4, 5, 6, 0}
    for bad in ("funday 09:00-10:00", "mon 10:00-09:00", "mon 9-10", "mon 09:00-25:00"):
        with pytest.raises(HoursFormatError):
            parse_weekly(bad)
    assert parse_holidays("2026-12-25 Christmas\n\n2026-12-26") == {dt.date(2026, 12, 25), dt.date(2026, 12, 26)}
    with pytest.raises(HoursFormatError):
        parse_holidays("25.12.2026")


# --- Properties --------------------------------------------------------------------------------------------

instants = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(UTC))
zones = st.sampled_from(["Europe/Berlin", "Asia/Bangkok", "America/New_York", "UTC"])
# At least an hour a week, so every sum here ends within the look-ahead horizon (HORIZON_DAYS).
interval = st.tuples(st.integers(0, 23 * 60), st.integers(60, 12 * 60)).map(lambda p: (p[0], min(24 * 60, p[0] + p[1])))
weeklies = st.dictionaries(
    st.integers(0, 6), st.lists(interval, min_size=1, max_size=2).map(lambda xs: tuple(sorted(xs))), min_size=1
)
holidays = st.frozensets(st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31)), max_size=5)
schedules = st.builds(Schedule, time_zone=zones, weekly=weeklies, holidays=holidays)


@settings(max_examples=60, deadline=None)
@given(schedules, instants, st.integers(0, 3000), st.integers(0, 3000))
def test_adding_more_business_time_never_ends_earlier(schedule, start, a, b):
    first = add_business_minutes(schedule, start, min(a, b))
    second = add_business_minutes(schedule, start, max(a, b))
    assert first is not None and second is not None and first <= second


@settings(max_examples=60, deadline=None)
@given(schedules, instants, st.integers(1, 3000))
def test_business_time_between_start_and_added_time_is_what_was_added(schedule, start, minutes):
    end = add_business_minutes(schedule, start, minutes)
    assert end is not None
    assert business_time_between(schedule, start, end) == dt.timedelta(minutes=minutes)
    assert is_open(schedule, end - dt.timedelta(microseconds=1)) or minutes == 0


@settings(max_examples=60, deadline=None)
@given(schedules, instants, st.integers(0, 5000), st.integers(0, 5000))
def test_business_time_is_additive_over_consecutive_spans(schedule, start, a, b):
    middle = start + dt.timedelta(minutes=a)
    end = middle + dt.timedelta(minutes=b)
    total = business_time_between(schedule, start, end)
    assert total == business_time_between(schedule, start, middle) + business_time_between(schedule, middle, end)
    assert total <= end - start


@settings(max_examples=60, deadline=None)
@given(schedules, instants)
def test_next_opening_is_open_and_nothing_opens_before_it(schedule, at):
    opening = next_opening(schedule, at)
    assert opening is not None and opening >= at
    assert is_open(schedule, opening)
    assert business_time_between(schedule, at, opening) == dt.timedelta(0)


@settings(max_examples=40, deadline=None)
@given(schedules, instants)
def test_holidays_are_closed_all_day(schedule, at):
    day = at.astimezone(schedule.zone).date()
    closed = Schedule(schedule.time_zone, schedule.weekly, schedule.holidays | {day})
    local_noon = dt.datetime.combine(day, dt.time(12), tzinfo=schedule.zone)
    assert not is_open(closed, local_noon)

"""Business hours as pure arithmetic: "is it open at t", "when does it open next", business-time sums.

A ``Schedule`` is weekly opening intervals in one time zone plus holiday dates (closed all day). Wall
times are converted to UTC day by day, so a working day that contains a daylight-saving change is as long
as the clocks say (09:00–17:00 is always 8 hours; 00:00–24:00 on the spring-forward day is 23). A wall
time that does not exist (02:30 in Berlin on the spring-forward night) is read with ``fold=0``, i.e. as
the zone's offset before the change. No database, no clock: every function takes its times as arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
DAY_MINUTES = 24 * 60
# How far ahead we look for an opening before declaring a schedule closed for good.
HORIZON_DAYS = 800

Interval = tuple[int, int]  # minutes after local midnight, start < end <= 1440


@dataclass(frozen=True)
class Schedule:
    """Weekly hours (weekday 0 = Monday → intervals) in ``time_zone``; ``holidays`` are closed local dates."""

    time_zone: str = "UTC"
    weekly: dict[int, tuple[Interval, ...]] | None = None  # None: open around the clock
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def always_open(self) -> bool:
        return self.weekly is None and not self.holidays

    def day_intervals(self, day: dt.date) -> tuple[Interval, ...]:
        if day in self.holidays:
            return ()
        if self.weekly is None:
            return ((0, DAY_MINUTES),)
        return self.weekly.get(day.weekday(), ())


ALWAYS_OPEN = Schedule()


def _wall_to_utc(day: dt.date, minute: int, zone: ZoneInfo) -> dt.datetime:
    if minute >= DAY_MINUTES:
        day, minute = day + dt.timedelta(days=1), minute - DAY_MINUTES
    local = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    return local.astimezone(UTC)


def open_intervals(
    schedule: Schedule, start: dt.datetime, end: dt.datetime | None = None
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The open intervals (UTC, merged, clipped to [start, end)) from ``start``; endless if ``end`` is None."""
    if schedule.always_open:
        yield start, end or dt.datetime.max.replace(tzinfo=UTC)
        return
    zone = schedule.zone
    day = start.astimezone(zone).date() - dt.timedelta(days=1)  # yesterday's late shift may still run
    last_day = day + dt.timedelta(days=HORIZON_DAYS)
    pending: tuple[dt.datetime, dt.datetime] | None = None
    while day <= last_day:
        for first, last in sorted(schedule.day_intervals(day)):
            a, b = _wall_to_utc(day, first, zone), _wall_to_utc(day, last, zone)
            a = max(a, start)
            if end is not None:
                b = min(b, end)
            if b <= a:
                continue
            if pending is not None and a <= pending[1]:
                pending = (pending[0], max(pending[1], b))
                continue
            if pending is not None:
                yield pending
            pending = (a, b)
        if end is not None and _wall_to_utc(day, 0, zone) >= end:
            break
        day += dt.timedelta(days=1)
    if pending is not None:
        yield pending


def is_open(schedule: Schedule, at: dt.datetime) -> bool:
    """Whether the schedule is open at the instant ``at``."""
    return next_opening(schedule, at) == at


def next_opening(schedule: Schedule, at: dt.datetime) -> dt.datetime | None:
    """``at`` itself when open, else the next moment it opens; None if it never opens again."""
    for a, _b in open_intervals(schedule, at):
        return a
    return None


def business_time_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """How much open time lies between ``start`` and ``end`` (zero when end <= start)."""
    if end <= start:
        return dt.timedelta(0)
    return sum((b - a for a, b in open_intervals(schedule, start, end)), dt.timedelta(0))


def add_business_time(schedule: Schedule, start: dt.datetime, amount: dt.timedelta) -> dt.datetime | None:
    """The instant when ``amount`` of open time has passed since ``start``; None if that never happens."""
    return add_counted_time(open_intervals(schedule, start), start, amount)


def add_counted_time(
    intervals: Iterator[tuple[dt.datetime, dt.datetime]], start: dt.datetime, amount: dt.timedelta
) -> dt.datetime | None:
    """Walk ``intervals`` (sorted, disjoint) until ``amount`` of their time is used up."""
    remaining = amount
    if remaining <= dt.timedelta(0):
        return next((a for a, _ in intervals), None) if amount == dt.timedelta(0) else start
    for a, b in intervals:
        if b - a >= remaining:
            return a + remaining
        remaining -= b - a
    return None


def subtract_intervals(
    intervals: Iterator[tuple[dt.datetime, dt.datetime]], holes: list[tuple[dt.datetime, dt.datetime | None]]
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """``intervals`` with the ``holes`` cut out (a hole with no end runs forever). Both sorted by start."""
    far = dt.datetime.max.replace(tzinfo=UTC)
    closed = sorted((h0, h1 or far) for h0, h1 in holes)
    for a, b in intervals:
        for h0, h1 in closed:
            if h1 <= a or h0 >= b:
                continue
            if h0 > a:
                yield a, h0
            a = max(a, h1)
            if a >= b:
                break
        if a < b:
            yield a, b


def add_business_minutes(schedule: Schedule, start: dt.datetime, minutes: float) -> dt.datetime | None:
    return add_business_time(schedule, start, dt.timedelta(minutes=minutes))


def business_minutes_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> float:
    return business_time_between(schedule, start, end).total_seconds() / 60


# --- Reading and writing the weekly hours as text (the admin form) ----------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HoursFormatError(ValueError):
    """A line of the weekly hours or holidays text that cannot be read."""


def parse_weekly(text: str) -> dict[int, tuple[Interval, ...]]:
    """Lines like ``mon-fri 09:00-17:00`` or ``sat 10:00-14:00, 15:00-18:00`` → weekly intervals."""
    weekly: dict[int, list[Interval]] = {}
    for line in (raw.strip() for raw in text.lower().splitlines()):
        if not line:
            continue
        days_part, _, times_part = line.partition(" ")
        for day in _parse_days(days_part):
            weekly.setdefault(day, []).extend(_parse_times(times_part))
    return {day: tuple(sorted(intervals)) for day, intervals in weekly.items()}


def _parse_days(text: str) -> list[int]:
    first, _, last = text.partition("-")
    if first not in WEEKDAYS or (last and last not in WEEKDAYS):
        raise HoursFormatError(text)
    a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
    return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]


def _parse_times(text: str) -> list[Interval]:
    intervals = []
    for part in (p.strip() for p in text.split(",")):
        try:
            start, end = (_minute(value) for value in part.split("-"))
        except ValueError:
            raise HoursFormatError(part) from None
        if not 0 <= start < end <= DAY_MINUTES:
            raise HoursFormatError(part)
        intervals.append((start, end))
    if not intervals:
        raise HoursFormatError(text)
    return intervals


def _minute(value: str) -> int:
    hours, minutes = value.strip().split(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and int(minutes) < 60):
        raise ValueError(value)
    return int(hours) * 60 + int(minutes)


def format_weekly(weekly: dict[int, tuple[Interval, ...]]) -> str:
    def hhmm(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    return "\n".join(
        f"{WEEKDAYS[day]} " + ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in intervals)
        for day, intervals in sorted(weekly.items())
        if intervals
    )


def parse_holidays(text: str) -> frozenset[dt.date]:
    """One ISO date (YYYY-MM-DD) per line; anything after the date is a comment."""
    dates = set()
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        try:
            dates.add(dt.date.fromisoformat(line.split()[0]))
        except ValueError:
            raise HoursFormatError(line) from None
    return frozenset(dates)

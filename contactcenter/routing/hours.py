"""Business hours and holidays: when a queue is staffed, and how much staffed time lies between two moments.
Pure functions of the configuration and given times (no clock). The web callback's slots and the email
channel's first-response clock both read them: a clock started on Friday evening with a 24 h target is due
24 staffed hours later, not on Saturday night."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^(\w{3})(?:-(\w{3}))?=(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_MAX_DAYS = 800  # how far ahead `add` looks for staffed time before calling the calendar empty

Week = dict[int, list[tuple[time, time]]]  # per weekday (0 = Monday), the opening ranges in local time


def parse_week(spec: str) -> Week:
    """ "mon-fri=09:00-17:00,sat=10:00-13:00"; ValueError names the part that is wrong."""
    ranges: Week = {}
    for raw in spec.split(","):
        part = raw.strip().lower()
        if not part:
            continue
        m = _PART.match(part)
        if m is None or m[1] not in DAYS or (m[2] is not None and m[2] not in DAYS):
            raise ValueError(f"opening hours part {raw!r} is not like 'mon-fri=09:00-17:00'")
        first, last = DAYS.index(m[1]), DAYS.index(m[2] or m[1])
        if last < first:
            raise ValueError(f"opening hours part {raw!r} runs backwards (write 'mon-fri', not 'fri-mon')")
        try:
            opens, closes = time(int(m[3]), int(m[4])), time(int(m[5]), int(m[6]))
        except ValueError:
            raise ValueError(f"opening hours part {raw!r} has a time that does not exist") from None
        if closes <= opens:
            raise ValueError(f"opening hours part {raw!r} closes before it opens")
        for day in range(first, last + 1):
            ranges.setdefault(day, []).append((opens, closes))
    for day, spans in ranges.items():
        spans.sort()
        if any(a[1] > b[0] for a, b in pairwise(spans)):
            raise ValueError(f"opening hours overlap on {DAYS[day]}")
    return ranges


def parse_holidays(spec: str) -> frozenset[date]:
    """ "2026-12-25,2026-12-26" (ISO dates, local to the calendar's zone); ValueError names a bad one."""
    days: set[date] = set()
    for raw in spec.split(","):
        if raw.strip():
            try:
                days.add(date.fromisoformat(raw.strip()))
            except ValueError:
                raise ValueError(f"holiday {raw.strip()!r} is not a date like 2026-12-25") from None
    return frozenset(days)


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"time zone {name!r} is unknown (use a name like Europe/London)") from None


@dataclass(frozen=True)
class BusinessHours:
    """A week of opening ranges (None: round the clock) minus holidays, in one time zone."""

    zone: ZoneInfo
    week: Week | None = None
    holidays: frozenset[date] = field(default_factory=frozenset)

    def day(self, day: date) -> list[tuple[datetime, datetime]]:
        """The staffed spans of one local day, as UTC (start, end)."""
        if day in self.holidays:
            return []
        if self.week is None:
            start = datetime.combine(day, time(0), self.zone)
            end = datetime.combine(day + timedelta(days=1), time(0), self.zone)
            return [(start.astimezone(UTC), end.astimezone(UTC))]
        return [
            (datetime.combine(day, a, self.zone).astimezone(UTC), datetime.combine(day, b, self.zone).astimezone(UTC))
            for a, b in self.week.get(day.weekday(), [])
        ]

    def spans(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Staffed spans from `start` on (the first clipped to it), for at most `_MAX_DAYS` days."""
        first = start.astimezone(self.zone).date() - timedelta(days=1)  # a span of yesterday may run past midnight
        for n in range(_MAX_DAYS):
            for a, b in self.day(first + timedelta(days=n)):
                if b > start:
                    yield max(a, start), b

    @property
    def keeps_hours(self) -> bool:
        """False for round the clock without holidays, where staffed time is wall time."""
        return self.week is not None or bool(self.holidays)

    def is_open(self, at: datetime) -> bool:
        return any(a <= at < b for a, b in self.day(at.astimezone(self.zone).date()))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of staffed time after `start` (round the clock with no holidays: plain sum)."""
        if not self.keeps_hours:
            return start + duration
        left = duration
        for a, b in self.spans(start):
            if b - a >= left:
                return a + left
            left -= b - a
        raise ValueError("these business hours have no staffed time in the next two years")

    def staffed(self, start: datetime, end: datetime) -> timedelta:
        """Staffed time between two moments (0 when `end` is not after `start`)."""
        total = timedelta(0)
        for a, b in self.spans(start):
            if a >= end:
                break
            total += min(b, end) - a
        return total


def business_hours(week: str, zone: str, holidays: str = "") -> BusinessHours:
    """Parse one calendar; an empty `week` is round the clock. ValueError when anything is malformed."""
    parsed = parse_week(week) if week.strip() else None
    if parsed is not None and not parsed:
        raise ValueError("opening hours are empty")
    return BusinessHours(zone_of(zone), parsed, parse_holidays(holidays))


@dataclass(frozen=True)
class Calendars:
    """The centre's calendar and the queues that keep hours of their own."""

    default: BusinessHours
    queues: Mapping[str, BusinessHours] = field(default_factory=dict)

    def of(self, queue: str | None) -> BusinessHours:
        return self.queues.get(queue or "", self.default)

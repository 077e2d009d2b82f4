"""Opening hours and the slots they hold: pure functions of the settings and a given `now` (no clock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from contactcenter.http import ApiError
from contactcenter.routing.hours import parse_holidays, parse_week, zone_of


@dataclass(frozen=True)
class Hours:
    """Per weekday (0 = Monday), the opening ranges in the centre's local time; no slots on a holiday."""

    zone: ZoneInfo
    ranges: dict[int, list[tuple[time, time]]]
    slot: timedelta
    holidays: frozenset[date] = field(default_factory=frozenset)


def parse_hours(spec: str, zone: str, slot_minutes: int, holidays: str = "") -> Hours:
    """ "mon-fri=09:00-17:00,sat=10:00-13:00" in `zone` (routing/hours.py); ValueError names what is wrong."""
    return Hours(zone_of(zone), parse_week(spec), timedelta(minutes=slot_minutes), parse_holidays(holidays))


def day_slots(hours: Hours, day: date) -> list[tuple[datetime, datetime]]:
    """The slots of one local day, as UTC (start, end): from each opening, every slot that ends in time."""
    found: list[tuple[datetime, datetime]] = []
    if day in hours.holidays:
        return found
    for opens, closes in hours.ranges.get(day.weekday(), []):
        start = datetime.combine(day, opens, hours.zone)
        end_of_day = datetime.combine(day, closes, hours.zone)
        while start + hours.slot <= end_of_day:
            found.append((start.astimezone(UTC), (start + hours.slot).astimezone(UTC)))
            start += hours.slot
    return found


def upcoming(hours: Hours, *, now: datetime, days_ahead: int) -> list[tuple[datetime, datetime]]:
    """Every slot starting after `now` within `days_ahead` local days (today counts as the first)."""
    today = now.astimezone(hours.zone).date()
    found = []
    for n in range(days_ahead):
        found += [s for s in day_slots(hours, today + timedelta(days=n)) if s[0] > now]
    return found


def check(hours: Hours, start: datetime, *, now: datetime, days_ahead: int) -> tuple[datetime, datetime]:
    """The slot starting at `start`, or a 422 saying why the centre cannot keep it."""
    if start.tzinfo is None:
        raise ApiError(422, "slot_without_timezone", "give the slot's start with a UTC offset")
    start = start.astimezone(UTC)
    if start <= now:
        raise ApiError(422, "slot_in_past", "that time has passed; pick a later slot")
    if start.astimezone(hours.zone).date() >= now.astimezone(hours.zone).date() + timedelta(days=days_ahead):
        raise ApiError(422, "slot_too_far", f"slots can be booked up to {days_ahead} days ahead")
    for s in day_slots(hours, start.astimezone(hours.zone).date()):
        if s[0] == start:
            return s
    raise ApiError(422, "slot_outside_hours", "that time is not one of our callback slots (opening hours)")

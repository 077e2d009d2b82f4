"""Business hours and holidays: staffed time added to a moment and counted between two, across nights,
weekends, holidays and a change of clocks; malformed configuration named, never half-read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contactcenter.channels.callback import slots
from contactcenter.routing.hours import business_hours

LONDON = ZoneInfo("Europe/London")
WEEK = business_hours("mon-fri=09:00-17:00", "Europe/London")


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


def test_a_day_target_from_friday_afternoon_is_due_on_wednesday() -> None:
    # 2026-12-04 is a Friday: 1 h that day, 8 h on Monday and Tuesday, the last 7 h on Wednesday.
    due = WEEK.add(local(2026, 12, 4, 16), timedelta(hours=24))
    assert due == local(2026, 12, 9, 16)
    assert WEEK.staffed(local(2026, 12, 4, 16), due) == timedelta(hours=24)


def test_time_outside_hours_starts_at_the_next_opening() -> None:
    assert WEEK.add(local(2026, 12, 5, 11), timedelta(hours=1)) == local(2026, 12, 7, 10)  # Saturday -> Monday
    assert WEEK.add(local(2026, 12, 7, 7), timedelta(minutes=30)) == local(2026, 12, 7, 9, 30)  # before opening
    assert WEEK.staffed(local(2026, 12, 4, 16), local(2026, 12, 7, 10)) == timedelta(hours=2)
    assert WEEK.staffed(local(2026, 12, 7, 10), local(2026, 12, 7, 9)) == timedelta(0)


def test_holidays_are_skipped() -> None:
    cal = business_hours("mon-fri=09:00-17:00", "Europe/London", "2026-12-07, 2026-12-08")
    assert cal.add(local(2026, 12, 4, 16), timedelta(hours=24)) == local(2026, 12, 11, 16)
    assert not cal.is_open(local(2026, 12, 7, 12)) and WEEK.is_open(local(2026, 12, 7, 12))
    assert not WEEK.is_open(local(2026, 12, 7, 17)) and not WEEK.is_open(local(2026, 12, 5, 12))


def test_round_the_clock_is_wall_time_less_holidays() -> None:
    always = business_hours("", "Europe/London")
    start = local(2026, 12, 24, 20)
    assert not always.keeps_hours and always.add(start, timedelta(hours=24)) == start + timedelta(hours=24)
    christmas = business_hours("", "Europe/London", "2026-12-25")
    assert christmas.keeps_hours and christmas.add(start, timedelta(hours=24)) == local(2026, 12, 26, 20)
    assert not christmas.is_open(local(2026, 12, 25, 12)) and christmas.is_open(local(2026, 12, 26, 0))


def test_a_change_of_clocks_counts_real_hours() -> None:
    # London springs forward on 2026-03-29 (01:00 -> 02:00): that day has 23 staffed hours round the clock.
    cal = business_hours("", "Europe/London", "2026-03-27")
    assert cal.staffed(local(2026, 3, 29, 0), local(2026, 3, 30, 0)) == timedelta(hours=23)
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    assert cal.add(start, timedelta(hours=24)) == datetime(2026, 3, 29, 12, tzinfo=UTC)
    shop = business_hours("sun=09:00-17:00", "Europe/London")  # 09:00 is BST that Sunday: 08:00 UTC
    assert shop.add(datetime(2026, 3, 28, 12, tzinfo=UTC), timedelta(hours=1)) == datetime(2026, 3, 29, 9, tzinfo=UTC)


def test_two_spans_a_day_and_a_gap_at_lunch() -> None:
    cal = business_hours("mon-fri=09:00-12:00,mon-fri=13:00-17:00", "Europe/London")
    assert cal.add(local(2026, 12, 7, 11), timedelta(hours=2)) == local(2026, 12, 7, 14)
    assert not cal.is_open(local(2026, 12, 7, 12, 30))


@pytest.mark.parametrize(
    ("week", "zone", "holidays", "says"),
    [
        ("fri-mon=09:00-17:00", "Europe/London", "", "backwards"),
        ("mon=25:00-26:00", "Europe/London", "", "does not exist"),
        ("mon=09:00-12:00,mon=11:00-13:00", "Europe/London", "", "overlap"),
        ("mon=9-17", "Europe/London", "", "is not like"),
        (" , ", "Europe/London", "", "empty"),
        ("mon=09:00-17:00", "Mars/Olympus", "", "unknown"),
        ("mon=09:00-17:00", "Europe/London", "2026-02-30", "is not a date"),
    ],
)
def test_malformed_calendars_are_named(week: str, zone: str, holidays: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        business_hours(week, zone, holidays)


def test_a_calendar_without_any_staffed_time_is_refused_not_looped() -> None:
    every_day = ",".join(str(date(2026, 12, 7) + timedelta(days=n)) for n in range(900))
    cal = business_hours("", "Europe/London", every_day)
    with pytest.raises(ValueError, match="no staffed time"):
        cal.add(local(2026, 12, 7, 9), timedelta(hours=1))


def test_callback_slots_close_on_holidays() -> None:
    hours = slots.parse_hours("mon-fri=09:00-17:00", "Europe/London", 30, "2026-12-07")
    assert slots.day_slots(hours, date(2026, 12, 7)) == []
    assert len(slots.day_slots(hours, date(2026, 12, 8))) == 16
    with pytest.raises(ValueError):
        slots.parse_hours("mon-fri=09:00-17:00", "Europe/London", 30, "Christmas")

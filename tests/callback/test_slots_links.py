"""Opening hours, slots and signed links as pure functions: DST, alignment, past / far / outside hours,
forged, altered and expired tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from contactcenter.channels.callback import links, slots
from contactcenter.http import ApiError

HOURS = slots.parse_hours("mon-fri=09:00-17:00,sat=10:00-12:00", "Europe/London", 30)
# Wednesday 2 December 2026, 08:00 in London (UTC in winter).
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_a_day_has_every_slot_that_ends_by_closing_time() -> None:
    wed = slots.day_slots(HOURS, date(2026, 12, 2))
    assert len(wed) == 16 and wed[0][0] == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert wed[-1][1] == datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    assert len(slots.day_slots(HOURS, date(2026, 12, 5))) == 4  # Saturday 10-12
    assert slots.day_slots(HOURS, date(2026, 12, 6)) == []  # Sunday: closed


def test_slots_follow_local_time_across_summer_time() -> None:
    # 1 July: London is UTC+1, so 09:00 local is 08:00 UTC.
    assert slots.day_slots(HOURS, date(2026, 7, 1))[0][0] == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def test_check_refuses_past_far_and_out_of_hours_slots() -> None:
    ok = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    assert slots.check(HOURS, ok, now=NOW, days_ahead=7) == (ok, ok + timedelta(minutes=30))
    cases = {
        "slot_in_past": datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        "slot_too_far": datetime(2026, 12, 10, 10, 0, tzinfo=UTC),
        "slot_outside_hours": datetime(2026, 12, 2, 18, 0, tzinfo=UTC),
    }
    for code, start in cases.items():
        with pytest.raises(ApiError) as err:
            slots.check(HOURS, start, now=NOW, days_ahead=7)
        assert err.value.code == code
    for odd in (datetime(2026, 12, 2, 9, 10, tzinfo=UTC), datetime(2026, 12, 6, 10, 0, tzinfo=UTC)):
        with pytest.raises(ApiError) as err:  # not on the grid; a Sunday
            slots.check(HOURS, odd, now=NOW, days_ahead=7)
        assert err.value.code == "slot_outside_hours"
    with pytest.raises(ApiError) as err:
        slots.check(HOURS, datetime(2026, 12, 2, 9, 30), now=NOW, days_ahead=7)
    assert err.value.code == "slot_without_timezone"


def test_upcoming_skips_what_has_started() -> None:
    found = slots.upcoming(HOURS, now=datetime(2026, 12, 2, 16, 0, tzinfo=UTC), days_ahead=2)
    assert found[0][0] == datetime(2026, 12, 2, 16, 30, tzinfo=UTC) and len(found) == 1 + 16


@pytest.mark.parametrize("spec", ["mon-fri=9-17", "xyz=09:00-10:00", "mon=10:00-09:00"])
def test_malformed_hours_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        slots.parse_hours(spec, "Europe/London", 30)


SECRET = "s" * 40
CID = "0b7f1a52-1c1e-4a57-9b1b-3f5d2a9c0e11"


def test_links_read_back_and_refuse_forgeries_and_expiry() -> None:
    token = links.sign(SECRET, callback_id=CID, expires=2_000)
    assert links.read(SECRET, token, now=1_000) == CID
    other = "1b7f1a52-1c1e-4a57-9b1b-3f5d2a9c0e11"
    forged = [
        links.sign("t" * 40, callback_id=CID, expires=2_000),  # another key
        token.replace(CID, other),  # another callback, same signature
        token.replace(".2000.", ".9000."),  # a later expiry
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "not-a-token",
        "",
    ]
    for bad in forged:
        with pytest.raises(ApiError) as err:
            links.read(SECRET, bad, now=1_000)
        assert (err.value.status, err.value.code) == (404, "link_invalid")
    with pytest.raises(ApiError) as err:
        links.read(SECRET, token, now=2_000)
    assert (err.value.status, err.value.code) == (410, "link_expired")

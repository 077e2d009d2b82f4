"""Events the auth capability publishes."""

from __future__ import annotations

from typing import Literal

from contactcenter.bus import Event

TOPIC_STAFF = "auth.staff"


class StaffLoggedIn(Event):
    type: Literal["auth.logged_in"] = "auth.logged_in"
    user_id: int
    role: str


class StaffLoggedOut(Event):
    type: Literal["auth.logged_out"] = "auth.logged_out"
    user_id: int

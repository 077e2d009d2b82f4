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
    """A session ended (logout), or with `session` None every session of the user (deactivated): their open
    staff sockets close on every process (realtime/revocation.py)."""

    type: Literal["auth.logged_out"] = "auth.logged_out"
    user_id: int
    session: str | None = None  # the session's token hash

"""Staff sockets end with their session: logout, deactivation, expiry.

The session is checked at hello; after that, this closes the socket (error `not_authenticated`, then 4401):
at once when a StaffLoggedOut event arrives (published on the bus and heard on each process's hub
subscription, so every process closes its own sockets),
and on a re-check of every open staff socket's session once per staff heartbeat (expiry, a user deactivated
in the database, an event lost in a bus outage)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from pydantic import ValidationError

from contactcenter.auth import service as auth
from contactcenter.auth.events import TOPIC_STAFF, StaffLoggedOut
from contactcenter.bus import BusMessage
from contactcenter.db import Database
from contactcenter.realtime.connection import Connection
from contactcenter.realtime.hub import Hub
from contactcenter.realtime.schemas import CLOSE_UNAUTHORIZED

log = structlog.get_logger("realtime.revocation")


class Revocation:
    def __init__(self, db: Database, period_s: float) -> None:
        self.db, self.period_s = db, period_s
        self.sessions: dict[Connection, str] = {}  # open staff socket -> its session's token hash
        self.tasks: list[asyncio.Task[None]] = []

    def track(self, conn: Connection, token_hash: str) -> None:
        self.sessions[conn] = token_hash

    def untrack(self, conn: Connection) -> None:
        self.sessions.pop(conn, None)

    def attach(self, hub: Hub) -> None:
        """Hear session ends on the hub's subscription; call before hub.start()."""
        hub.handlers[TOPIC_STAFF] = self.on_message

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._recheck())]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=5)

    def _close(self, matches: Callable[[Connection, str], bool]) -> int:
        ended = [c for c, h in self.sessions.items() if c.close_code is None and matches(c, h)]
        for conn in ended:
            self.untrack(conn)
            conn.fail("not_authenticated", "the staff session has ended; sign in again", close=CLOSE_UNAUTHORIZED)
        return len(ended)

    def revoked(self, event: StaffLoggedOut) -> int:
        """Close this process's sockets of the ended session (or of every session of the user)."""
        return self._close(lambda c, h: c.who.id == event.user_id and event.session in (None, h))

    def _close_stale(self, checked: set[str], live: set[str]) -> int:
        # Only sessions that were looked up: a socket that said hello during the look-up is not in `checked`
        # (its session was verified at hello), and closing it would drop every console that reconnects
        # while a check is running (after a process died, a hundred at once).
        return self._close(lambda _c, h: h in checked and h not in live)

    def on_message(self, msg: BusMessage) -> None:
        """A message on auth's staff topic (the hub's subscription carries it: one per process)."""
        event = msg.event
        if not isinstance(event, StaffLoggedOut):
            try:
                event = StaffLoggedOut.model_validate_json(msg.data)
            except ValidationError:
                return  # another staff event (logged in)
        self.revoked(event)

    async def _recheck(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            hashes = set(self.sessions.values())
            if not hashes:
                continue
            try:
                async with self.db.session() as s:
                    live = await auth.live_sessions(s, token_hashes=hashes)
            except Exception as exc:  # the database is away: try again next period, never end sockets blindly
                log.warning("session_recheck_failed", error=repr(exc))
                continue
            if closed := self._close_stale(hashes, live):
                log.info("staff_sockets_revoked", count=closed)

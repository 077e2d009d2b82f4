"""Alerts of the first-response clock: when a running clock comes within CC_EMAIL_FIRST_RESPONSE_WARN_H of
its due time, and again when it passes it, the conversation's agent and the supervisors get an `email_due`
frame (the console shows it, the wallboard refreshes). Each alert is claimed by one conditional UPDATE, so
with any number of processes it goes out once; one lost in a bus outage is still on the clock (the console
and the wallboard read the clocks anyway)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Literal

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.channels.email.clock import ClockPolicy
from contactcenter.channels.email.models import EmailClock
from contactcenter.channels.email.schemas import EmailDue
from contactcenter.conversations import service as conversations
from contactcenter.db import Database, utcnow
from contactcenter.realtime.events import TOPIC_REALTIME, Audience, Push

log = structlog.get_logger("email.alerts")
State = Literal["warning", "overdue"]


async def claim(session: AsyncSession, *, now: datetime, policy: ClockPolicy) -> list[tuple[str, State, datetime]]:
    """(conversation id, "warning" | "overdue", due time) of each alert now owed, marked sent (committed)."""
    c = EmailClock
    running = (c.stopped_at.is_(None),)
    overdue = await session.execute(
        update(c)
        .where(*running, c.breached_at.is_(None), c.due_at <= now)
        .values(breached_at=now, warned_at=now)  # an overdue clock needs no "due soon" after it
        .returning(c.conversation_id, c.due_at)
    )
    found: list[tuple[str, State, datetime]] = [(cid, "overdue", due) for cid, due in overdue.all()]
    warned = await session.execute(
        update(c)
        .where(*running, c.warned_at.is_(None), c.due_at <= now + policy.warn)
        .values(warned_at=now)
        .returning(c.conversation_id, c.due_at)
    )
    found += [(cid, "warning", due) for cid, due in warned.all()]
    await session.commit()
    return found


class DueWatch:
    def __init__(self, db: Database, bus: Bus, policy: ClockPolicy, tick_s: float) -> None:
        self.db, self.bus, self.policy, self.tick_s = db, bus, policy, tick_s
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop(), name="email-due-watch")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick(utcnow())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or the bus is away: the next tick claims what is owed
                log.warning("email_alerts_failed", error=repr(exc))
            await asyncio.sleep(self.tick_s)

    async def tick(self, now: datetime) -> int:
        """Send the alerts owed at `now`; how many went out."""
        async with self.db.write_gate(), self.db.session() as s:
            owed = await claim(s, now=now, policy=self.policy)
        if not owed:
            return 0
        async with self.db.session() as s:
            convs = await conversations.find_many(s, ids=[cid for cid, _, _ in owed])
        pushes = []
        for cid, state, due in owed:
            conv = convs.get(cid)
            if conv is None or conv.status.value == "closed":
                continue  # nobody waits on a closed conversation
            frame = EmailDue(
                conversation_id=cid, state=state, due_at=due, customer_name=conv.customer_name, topic=conv.topic
            )
            to = Audience(conversation_id=cid, agent_id=conv.agent_id, supervisors="all")
            pushes.append(Push(to=to, owner_check=True, frame=frame.model_dump_json()))
            log.info("email_first_response_" + state, conversation_id=cid, agent_id=conv.agent_id)
        if pushes:
            await self.bus.publish_events(TOPIC_REALTIME, pushes)
        return len(pushes)

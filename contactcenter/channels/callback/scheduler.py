"""Due callbacks enter routing: as soon as possible at once, booked ones `CC_CALLBACK_LEAD_S` before their
slot and retries after their delay. The claim is one conditional UPDATE, so of two processes (or two passes)
only one opens a given attempt; the rows are the schedule, so a restarted app carries on from them."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.channels.callback.models import CallbackRequest
from contactcenter.channels.callback.schemas import Status
from contactcenter.channels.callback.service import CHANNEL, row_of
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut, OpenIn
from contactcenter.db import Database, utcnow
from contactcenter.http import ApiError
from contactcenter.settings import Settings
from contactcenter.types import Clock

log = structlog.get_logger("callback")


def priority(row: CallbackRequest, settings: Settings) -> int:
    """Booked slots and retries were promised a time: ahead of the queue's ordinary contacts."""
    return settings.callback_booked_priority if row.slot_start is not None or row.attempts > 1 else 0


async def dispatch(
    session: AsyncSession, bus: Bus, *, callback_id: str, now: datetime, settings: Settings
) -> ConversationOut | None:
    """Claim a due callback and open its next attempt as a conversation in routing; None if it is not due
    or someone else claimed it first."""
    claimed = await session.execute(
        update(CallbackRequest)
        .where(
            CallbackRequest.id == callback_id,
            CallbackRequest.status == Status.booked.value,
            CallbackRequest.due_at <= now,
        )
        .values(status=Status.open.value, attempts=CallbackRequest.attempts + 1)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        return None
    row = await row_of(session, callback_id=callback_id)
    data = OpenIn(
        customer_id=row.customer_id,
        channel=CHANNEL,
        customer_name=row.name,
        queue=row.queue,
        topic=row.topic,
        page_url=row.page_url,
        lang=row.lang,
    )
    try:
        conv = await conversations.stage_open(session, data=data)
    except ApiError as exc:  # its queue was removed: end it with a note rather than retry for ever
        await session.rollback()
        row = await row_of(session, callback_id=callback_id)
        row.status, row.closed_at, row.note = Status.failed.value, now, f"could not be routed: {exc.detail}"
        await session.commit()
        return None
    row.conversation_id = conv.id
    await session.commit()
    return await conversations.opened(session, bus, conversation=conv, priority=priority(row, settings))


async def due(session: AsyncSession, *, now: datetime, limit: int = 100) -> list[str]:
    """Callbacks due by `now`, the longest due first."""
    rows = await session.scalars(
        select(CallbackRequest.id)
        .where(CallbackRequest.status == Status.booked.value, CallbackRequest.due_at <= now)
        .order_by(CallbackRequest.due_at, CallbackRequest.id)
        .limit(limit)
    )
    return list(rows)


async def run_due(db: Database, bus: Bus, *, settings: Settings, now: datetime) -> int:
    """One pass: open every due callback; returns how many this pass opened."""
    async with db.session() as s:
        ids = await due(s, now=now)
    opened = 0
    for callback_id in ids:
        try:
            async with db.write_gate(), db.session() as s:
                if await dispatch(s, bus, callback_id=callback_id, now=now, settings=settings) is not None:
                    opened += 1
        except Exception as exc:  # one bad row must not stop the others; it stays due for the next pass
            log.warning("callback_dispatch_failed", callback=callback_id, error=repr(exc))
    return opened


class Scheduler:
    """Runs `run_due` every CC_CALLBACK_TICK_S, first at start (the schedule lives in the database)."""

    def __init__(self, db: Database, bus: Bus, settings: Settings, clock: Clock = utcnow) -> None:
        self.db, self.bus, self.settings, self.clock = db, bus, settings, clock
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="callback-scheduler")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _run(self) -> None:
        while True:
            try:
                await run_due(self.db, self.bus, settings=self.settings, now=self.clock())
            except Exception as exc:  # the database is away: next tick
                log.warning("callback_scheduler_failed", error=repr(exc))
            await asyncio.sleep(self.settings.callback_tick_s)

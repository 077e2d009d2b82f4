"""The ingest worker: files every raw message not yet filed (service.file_raw), woken by the SMTP handler
after each commit and run over the whole backlog at start, so a restart loses nothing.

Claiming: on PostgreSQL the worker holds the raw row `FOR UPDATE SKIP LOCKED` from the moment it picks it
until its filing commits, so two processes never work one row and a crash releases it. On SQLite (one
writer) it picks the row in a read that ends at once and the filing transaction starts with the update
`state: new -> done` (the write lock): a row someone else filed meanwhile updates nothing and is skipped.
Either way `email_messages.raw_id` is unique: a message is filed once."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select

from contactcenter.bus import Bus
from contactcenter.channels.email import service
from contactcenter.channels.email.models import EmailRaw
from contactcenter.channels.email.parse import parse_async
from contactcenter.db import Database

log = structlog.get_logger("email.ingest")
RETRY_S = 5.0  # after a failure (database away), look again this much later


@dataclass(frozen=True)
class _Picked:
    id: int
    mail_from: str
    data: bytes
    received_at: datetime


class Ingestor:
    def __init__(self, db: Database, bus: Bus, *, region: str) -> None:
        self.db, self.bus, self.region = db, bus, region
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.filed = 0

    def start(self) -> None:
        self.wake.set()  # the backlog first
        self.task = asyncio.create_task(self._run(), name="email-ingest")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    def notify(self) -> None:
        """A raw message was committed (the SMTP handler, after its commit)."""
        self.wake.set()

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            try:
                await self.drain()
            except Exception as exc:  # the database is away: the rows stay "new"; try again later
                log.warning("email_ingest_failed", error=repr(exc))
                await asyncio.sleep(RETRY_S)
                self.wake.set()

    async def drain(self) -> int:
        """File raw messages until none is left; returns how many this worker filed (not those it found
        another worker had filed meanwhile)."""
        before = self.filed
        while await self.one():
            pass
        return self.filed - before

    async def one(self) -> bool:
        """Pick and file one raw message; false when there is none left to pick."""
        pg = self.db.dialect == "postgresql"
        async with self.db.session() as s:
            q = select(EmailRaw.id, EmailRaw.mail_from, EmailRaw.data, EmailRaw.received_at).where(
                EmailRaw.state == "new"
            )
            q = q.order_by(EmailRaw.id).limit(1)
            if pg:
                q = q.with_for_update(skip_locked=True)
            got = (await s.execute(q)).first()
            if got is None:
                return False
            raw = _Picked(int(got.id), str(got.mail_from), bytes(got.data), got.received_at)
            if not pg:
                await s.rollback()  # end the read: SQLite's write below must not start from an old snapshot
            parsed = await parse_async(raw.data)
            async with self.db.write_gate(), self.db.session() as other:
                customer_id, name = await service.sender_customer(
                    other, parsed=parsed, mail_from=raw.mail_from, region=self.region
                )
            async with self.db.write_gate():
                filed = await service.file_raw(
                    s,
                    self.bus,
                    raw_id=raw.id,
                    received_at=raw.received_at,
                    parsed=parsed,
                    customer_id=customer_id,
                    customer_name=name,
                )
        if filed is not None:
            self.filed += 1
            log.info("email_filed", raw=raw.id, conversation=filed.message.conversation_id, reason=filed.message.reason)
        return True

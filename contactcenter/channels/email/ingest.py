"""The ingest worker: files every raw message not yet filed (filing.py), woken by the SMTP handler after
each commit and run over the whole backlog at start, so a restart loses nothing. Mail that waits together
is filed as a group (up to GROUP); a group that cannot commit whole is filed again one mail at a time.

Claiming: on PostgreSQL the worker holds the raw rows `FOR UPDATE SKIP LOCKED` from the moment it picks
them until their filing commits, so two processes never work one row and a crash releases them. On SQLite
(one writer) it picks rows in a read that ends at once, and the filing transaction starts with the update
`state: new -> done` (the write lock): rows someone else filed meanwhile make the group's update fall short,
and it files them one by one, skipping those. Either way `email_messages.raw_id` is unique."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select

from contactcenter.bus import Bus
from contactcenter.channels.email import filing, followup, service, threading
from contactcenter.channels.email.models import EmailRaw
from contactcenter.channels.email.parse import Parsed, parse
from contactcenter.db import Database

log = structlog.get_logger("email.ingest")
RETRY_S = 5.0  # after a failure (database away), look again this much later
GROUP = 100
# An address's customer is remembered this long: a burst from one sender resolves it once. A merge of
# customers within that time files the burst under the customer merged away (still on the merged
# timeline: the CCR follows merges when it reads).
CUSTOMER_TTL_S = 30.0
CUSTOMER_CACHE = 10_000
LINKS_TTL_S = 60.0  # a subject's knowledge-base articles, remembered for the acknowledgements


@dataclass(frozen=True)
class _Picked:
    id: int
    mail_from: str
    data: bytes
    received_at: datetime


def _parse_all(picked: list[_Picked]) -> list[Parsed]:
    return [parse(p.data) for p in picked]


class Ingestor:
    def __init__(
        self,
        db: Database,
        bus: Bus,
        *,
        region: str,
        group: int = GROUP,
        policy: followup.Policy | None = None,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db, self.bus, self.region, self.group = db, bus, region, group
        self.policy, self.on_queued = policy, on_queued  # clocks and acknowledgements; wakes the sender
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.filed = 0
        self._known: dict[str, tuple[float, tuple[int, str]]] = {}
        self._links_known: dict[str, tuple[float, list[followup.Link]]] = {}

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
        while await self.one_group():
            pass
        return self.filed - before

    async def _customers(self, picked: list[_Picked], parsed: list[Parsed]) -> list[tuple[int, str]]:
        """Each mail's sender's customer, resolved once per address in the group."""
        now = time.monotonic()
        if len(self._known) > CUSTOMER_CACHE:
            self._known.clear()
        out = []
        async with self.db.write_gate(), self.db.session() as other:
            for p, mail in zip(picked, parsed, strict=True):
                addr = (mail.from_addr or p.mail_from).lower()
                hit = self._known.get(addr) if addr else None
                if hit is not None and now - hit[0] < CUSTOMER_TTL_S:
                    out.append(hit[1])
                    continue
                found = await service.sender_customer(other, parsed=mail, mail_from=p.mail_from, region=self.region)
                if addr:  # no address: a new customer each time
                    self._known[addr] = (now, found)
                out.append(found)
        return out

    async def _links(self, parsed: list[Parsed]) -> dict[str, list[followup.Link]]:
        """Knowledge-base articles for the subjects that may be acknowledged (not automatic mail), by subject
        key; a key's articles are remembered LINKS_TTL_S, so a thread's replies cost no search."""
        if self.policy is None or not self.policy.ack:
            return {}
        now = time.monotonic()
        if len(self._links_known) > CUSTOMER_CACHE:
            self._links_known.clear()
        keys = {threading.subject_key(m.subject) for m in parsed if not m.automatic and not m.unreadable}
        keys.discard("")
        out = {k: hit[1] for k in keys if (hit := self._links_known.get(k)) and now - hit[0] < LINKS_TTL_S}
        missing = sorted(keys - out.keys())
        if missing:
            async with self.db.session() as other:
                found = await followup.kb_links(other, self.policy, missing)
            for k, links in found.items():
                self._links_known[k] = (now, links)
            out |= found
        return out

    async def one_group(self) -> bool:
        """Pick and file a group of raw messages; false when there is none left to pick."""
        pg = self.db.dialect == "postgresql"
        async with self.db.session() as s:
            q = select(EmailRaw.id, EmailRaw.mail_from, EmailRaw.data, EmailRaw.received_at).where(
                EmailRaw.state == "new"
            )
            q = q.order_by(EmailRaw.id).limit(self.group)
            if pg:
                q = q.with_for_update(skip_locked=True)
            picked = [_Picked(int(r.id), str(r.mail_from), bytes(r.data), r.received_at) for r in await s.execute(q)]
            if not picked:
                return False
            if not pg:
                await s.rollback()  # end the read: SQLite's write below must not start from an old snapshot
            parsed = await asyncio.to_thread(_parse_all, picked)  # off the loop, one hop for the group
            customers = await self._customers(picked, parsed)
            raws = [
                filing.RawIn(p.id, p.received_at, mail, cid, name, p.mail_from)
                for p, mail, (cid, name) in zip(picked, parsed, customers, strict=True)
            ]
            links = await self._links(parsed)
            pol, woke = self.policy, self.on_queued
            async with self.db.write_gate():
                filed = await filing.file_group(s, self.bus, raws=raws, policy=pol, links=links, on_queued=woke)
                if filed is None and len(raws) > 1:  # some were filed by another worker: the rest one by one
                    filed = [
                        f
                        for r in raws
                        if (f := await filing.file_raw(s, self.bus, raw=r, policy=pol, links=links, on_queued=woke))
                        is not None
                    ]
        self.filed += len(filed or [])
        log.debug("email_filed", count=len(filed or []))
        return True

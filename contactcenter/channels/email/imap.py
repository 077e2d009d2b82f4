"""The optional IMAP poller: reads a mailbox every CC_EMAIL_IMAP_POLL_S into the raw store the SMTP server
writes (email_raw), for the same ingest worker. A message is marked seen or deleted on the server only after
the transaction storing it has committed, and the cursor (models.EmailImapCursor) moves in that transaction:
a crash between the two leaves it stored and unmarked, and the next poll marks it without storing it again.
Two processes never store a message twice: the cursor moves only from the value the poll started from
(compare-and-set), and a message whose bytes are stored already (a renumbered folder) is skipped."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import uuid
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from typing import Any

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from contactcenter.channels.email.mailbox import After, ImapConfig, Mailbox
from contactcenter.channels.email.models import EmailImapCursor, EmailRaw
from contactcenter.db import Database, utcnow

log = structlog.get_logger("email.imap")
BATCH_MESSAGES = 50
BATCH_BYTES = 32 * 1_048_576  # read at most this much into memory before it is stored


class LostCursor(Exception):
    """Another process moved the cursor while this poll read: this poll's reads are dropped, not stored."""


def _envelope_from(raw: bytes) -> str:
    """The envelope sender an IMAP message had, from the Return-Path its last server wrote ("" for <>);
    without one, the From address (acknowledgements go to a person, never to a bounce)."""
    head = BytesHeaderParser().parsebytes(raw.split(b"\r\n\r\n", 1)[0][:65536])
    path = head.get("Return-Path")
    if path is not None:
        return parseaddr(str(path))[1][:320]
    return parseaddr(str(head.get("From", "")))[1][:320]


def _row(cfg: ImapConfig, raw: bytes, digest: str) -> dict[str, Any]:
    return {
        "mail_from": _envelope_from(raw),
        "rcpt_to": {"to": [cfg.username], "imap": cfg.key},
        "peer": f"imap:{cfg.host}"[:100],
        "size": len(raw),
        "sha256": digest,
        "data": raw,
        "received_at": utcnow(),
        "state": "new",
    }


class ImapPoller:
    def __init__(
        self, db: Database, cfg: ImapConfig, *, after: After, poll_s: float, max_bytes: int, on_stored: Any = None
    ) -> None:
        self.db, self.cfg, self.after, self.poll_s, self.max_bytes = db, cfg, after, poll_s, max_bytes
        self.on_stored = on_stored
        self.holder = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = timedelta(seconds=max(60.0, 4 * poll_s))
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()
        self.polls = 0  # completed polls (tests wait on it)
        self.failing = False

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop(), name="email-imap-poller")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def _loop(self) -> None:
        delay = self.poll_s
        while True:
            try:
                await self.poll_once()
                delay = self.poll_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server or the database is away: nothing was marked; try again later
                log.warning("email_imap_poll_failed", mailbox=self.cfg.key, error=repr(exc))
                self.failing = True
                await self._note_error(repr(exc))
                delay = min(max(delay * 2, 1.0), 300.0)
            self.polls += 1
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self.wake.wait()

    async def _claim(self) -> EmailImapCursor | None:
        """Take the mailbox's lease (creating its cursor the first time); None while another process holds it."""
        now = utcnow()
        key = self.cfg.key
        async with self.db.write_gate(), self.db.session() as s:
            taken = await s.execute(
                update(EmailImapCursor)
                .where(EmailImapCursor.mailbox == key)
                .where((EmailImapCursor.until < now) | (EmailImapCursor.holder == self.holder))
                .values(holder=self.holder, until=now + self.lease)
            )
            if not getattr(taken, "rowcount", 0):
                if await s.get(EmailImapCursor, key) is not None:
                    return None
                s.add(EmailImapCursor(mailbox=key, holder=self.holder, until=now + self.lease))
            try:
                await s.commit()
            except IntegrityError:  # another process created it at the same moment: theirs
                return None
        async with self.db.session() as s:
            return await s.get(EmailImapCursor, key)

    async def _release(self) -> None:
        async with self.db.write_gate(), self.db.session() as s:
            await s.execute(
                update(EmailImapCursor)
                .where(EmailImapCursor.mailbox == self.cfg.key, EmailImapCursor.holder == self.holder)
                .values(holder=None, until=utcnow(), polled_at=utcnow())
            )
            await s.commit()

    async def _note_error(self, error: str | None) -> None:
        with contextlib.suppress(Exception):  # the database may be what failed
            async with self.db.write_gate(), self.db.session() as s:
                await s.execute(
                    update(EmailImapCursor)
                    .where(EmailImapCursor.mailbox == self.cfg.key)
                    .values(last_error=error[:300] if error else None)
                )
                await s.commit()

    async def _set(self, old_last: int, **values: Any) -> None:
        """Move the cursor, only from where this poll found it (else LostCursor, and the caller rolls back)."""
        async with self.db.write_gate(), self.db.session() as s:
            moved = await s.execute(
                update(EmailImapCursor)
                .where(EmailImapCursor.mailbox == self.cfg.key, EmailImapCursor.last_uid == old_last)
                .values(**values)
            )
            if not getattr(moved, "rowcount", 0):
                raise LostCursor(self.cfg.key)
            await s.commit()

    async def poll_once(self) -> int:
        """One pass over the mailbox: finish what was stored but not yet marked, then store what is new.
        Returns how many messages were stored."""
        cursor = await self._claim()
        if cursor is None:
            return 0
        box = Mailbox(self.cfg)
        try:
            stored = await self._pass(box, cursor)
        except LostCursor:  # another poll of this mailbox got there first: what it stored stands
            log.info("email_imap_cursor_moved", mailbox=self.cfg.key)
            return 0
        finally:
            await asyncio.to_thread(box.close)
            await self._release()
        if self.failing:  # the last failure is over (a note of messages left unread stays)
            await self._note_error(None)
            self.failing = False
        return stored

    async def _pass(self, box: Mailbox, cursor: EmailImapCursor) -> int:
        validity = await asyncio.to_thread(box.open)
        last, done = cursor.last_uid, cursor.done_uid
        if cursor.uidvalidity != validity:  # a new or renumbered folder: read it all (stored bytes skipped)
            await self._set(last, uidvalidity=validity, last_uid=0, done_uid=0)
            last = done = 0
        if done < last:  # stored by an earlier poll that stopped before marking them
            pending = await asyncio.to_thread(box.sizes, done, last)
            await asyncio.to_thread(box.finish, [u for u, n in pending if n <= self.max_bytes], self.after)
            await self._set(last, done_uid=last)
        return await self._store_new(box, last)

    async def _store_new(self, box: Mailbox, last: int) -> int:
        new = await asyncio.to_thread(box.sizes, last)
        stored = 0
        while new:
            batch: list[tuple[int, int]] = []
            size = 0
            while new and len(batch) < BATCH_MESSAGES and (not batch or size + new[0][1] <= BATCH_BYTES):
                batch.append(new.pop(0))
                size += batch[-1][1]
            too_big = [u for u, n in batch if n > self.max_bytes]
            raws = await asyncio.to_thread(box.fetch, [u for u, n in batch if n <= self.max_bytes])
            upto = batch[-1][0]
            stored += await self._commit(last, upto, raws, too_big)
            if self.on_stored is not None:
                self.on_stored()
            await asyncio.to_thread(box.finish, sorted(raws), self.after)
            await self._set(upto, done_uid=upto)
            last = upto
        return stored

    async def _commit(self, last: int, upto: int, raws: dict[int, bytes], too_big: list[int]) -> int:
        """Store a batch and move the cursor past it, in one transaction."""
        digests = {u: hashlib.sha256(raw).hexdigest() for u, raw in raws.items()}
        error = f"UIDs {too_big[:10]} are over CC_EMAIL_MAX_BYTES: left on the server, unread" if too_big else None
        async with self.db.write_gate(), self.db.session() as s:
            have = set(await s.scalars(select(EmailRaw.sha256).where(EmailRaw.sha256.in_(set(digests.values())))))
            rows, seen = [], set(have)
            for uid in sorted(raws):
                if digests[uid] not in seen:
                    seen.add(digests[uid])
                    rows.append(_row(self.cfg, raws[uid], digests[uid]))
            moved = await s.execute(
                update(EmailImapCursor)
                .where(EmailImapCursor.mailbox == self.cfg.key, EmailImapCursor.last_uid == last)
                .values(
                    last_uid=upto, stored=EmailImapCursor.stored + len(rows), **({"last_error": error} if error else {})
                )
            )
            if not getattr(moved, "rowcount", 0):
                raise LostCursor(self.cfg.key)
            if rows:
                await s.execute(insert(EmailRaw), rows)
            await s.commit()
        if too_big:
            log.warning("email_imap_too_large", mailbox=self.cfg.key, uids=too_big)
        return len(rows)

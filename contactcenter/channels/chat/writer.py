"""One chat writer per process: concurrent sends share a transaction (group commit).

Many sockets each writing their own transaction made SQLite writers queue on its busy handler (it sleeps
between retries) and spent most of the time in per-message SQL round trips. Here one task takes whatever
has queued up while the previous batch was being written, and writes it in one transaction; read
positions are gathered in memory and written by the same task every READ_FLUSH_S.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import structlog

from contactcenter.bus import Bus
from contactcenter.channels.chat import batch, messages
from contactcenter.channels.chat.batch import Posted, PostIn
from contactcenter.channels.chat.pg_writer import PgBatchWriter
from contactcenter.channels.chat.schemas import MessageOut, SenderKind
from contactcenter.channels.chat.sqlite_writer import SqliteBatchWriter
from contactcenter.db import Database
from contactcenter.db.engine import sqlite_file
from contactcenter.http import ApiError

log = structlog.get_logger("chat.writer")
MAX_BATCH = 200
READ_FLUSH_S = 0.1


@dataclass
class _FlushReads:
    """Queue marker: write the gathered read positions now."""


class ChatWriter:
    def __init__(self, db: Database, bus: Bus) -> None:
        self.db, self.bus = db, bus
        self.queue: asyncio.Queue[tuple[PostIn, asyncio.Future[Posted]] | _FlushReads] = asyncio.Queue()
        self.reads: dict[tuple[str, SenderKind], int] = {}
        self.tasks: list[asyncio.Task[None]] = []
        path = sqlite_file(db.url)
        # SQLite: each batch on a sqlite3 connection of its own, on the loop when the lock is free (sqlite_writer).
        self.sqlite = SqliteBatchWriter(path) if path else None
        # PostgreSQL: each batch on an asyncpg connection of its own, arrays in, no ORM (pg_writer).
        self.pg = PgBatchWriter(db.url) if db.url.startswith("postgresql+asyncpg") else None

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._tick())]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        # Senders still waiting get an error (their clients resend after reconnecting: client ids make
        # that safe); what was acknowledged before shutdown is kept.
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if not isinstance(item, _FlushReads) and not item[1].done():
                item[1].set_exception(ConnectionError("the server is stopping"))
        await self._write_reads()
        if self.sqlite is not None:
            await self.sqlite.close()
        if self.pg is not None:
            await self.pg.close()

    async def post(self, post: PostIn) -> tuple[MessageOut, bool]:
        """Store one message (with everyone else's queued at the same moment); raises what post_message would."""
        fut: asyncio.Future[Posted] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((post, fut))
        result = await fut
        if isinstance(result, ApiError):
            raise result
        return result

    def mark_read(self, *, conversation_id: str, reader: SenderKind, seq: int) -> None:
        """Remember a read position; written within READ_FLUSH_S (coalesced per conversation and side)."""
        key = (conversation_id, reader)
        if seq > self.reads.get(key, 0):
            self.reads[key] = seq

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(READ_FLUSH_S)
            if self.reads:
                self.queue.put_nowait(_FlushReads())

    async def _run(self) -> None:
        while True:
            item = await self.queue.get()
            posts: list[tuple[PostIn, asyncio.Future[Posted]]] = []
            flush = False
            while True:
                if isinstance(item, _FlushReads):
                    flush = True
                else:
                    posts.append(item)
                if len(posts) >= MAX_BATCH or self.queue.empty():
                    break
                item = self.queue.get_nowait()
            try:
                if posts:
                    await self._write_posts(posts)
                if flush:
                    await self._write_reads()
            except Exception:  # never let the writer die: the next batch must still be written
                log.exception("chat_writer_failed")

    async def _write_posts(self, posts: list[tuple[PostIn, asyncio.Future[Posted]]]) -> None:
        try:
            if self.sqlite is not None:
                results = await self.sqlite.post_messages(self.bus, [p for p, _ in posts])
            elif self.pg is not None:
                results = await self.pg.post_messages(self.bus, [p for p, _ in posts])
            else:
                async with self.db.session() as s:
                    results = await batch.post_messages(s, self.bus, posts=[p for p, _ in posts])
        except Exception as exc:
            # One bad message (or a client id that raced in on another process) must not fail the others.
            log.info("chat_batch_retried_one_by_one", size=len(posts), error=repr(exc))
            for p, fut in posts:
                await self._write_one(p, fut)
            return
        for (_, fut), result in zip(posts, results, strict=True):
            if not fut.done():
                fut.set_result(result)

    async def _write_one(self, p: PostIn, fut: asyncio.Future[Posted]) -> None:
        try:
            async with self.db.session() as s:
                result: Posted = await messages.post_message(
                    s,
                    self.bus,
                    conversation_id=p.conversation_id,
                    sender=p.sender,
                    sender_id=p.sender_id,
                    sender_name=p.sender_name,
                    body=p.body,
                    client_id=p.client_id,
                    private=p.private,
                )
        except ApiError as exc:
            result = exc
        except Exception as exc:
            if not fut.done():
                fut.set_exception(exc)
            return
        if not fut.done():
            fut.set_result(result)

    async def _write_reads(self) -> None:
        reads, self.reads = self.reads, {}
        if not reads:
            return
        try:
            if self.sqlite is not None:
                await self.sqlite.mark_read_many(self.bus, reads)
                return
            if self.pg is not None:
                await self.pg.mark_read_many(self.bus, reads)
                return
            async with self.db.session() as s:
                await batch.mark_read_many(s, self.bus, reads=reads)
        except Exception as exc:  # a read receipt is not worth more than a log line
            log.warning("read_positions_failed", count=len(reads), error=repr(exc))

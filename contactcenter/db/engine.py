"""Async engine and session factory for SQLite (WAL) or PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the one writer; busy_timeout waits instead of failing. Writers take
    # the lock one at a time, so under overload the wait can be long: a slow write beats a lost one.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # 64 MiB page cache (default 2 MiB): index pages of a large touch log stay hot between batches.
    cur.execute("PRAGMA cache_size=-65536")
    # Checkpoint at ~40 MiB of WAL (default ~4 MiB): a bulk write no longer triggers a checkpoint (and its
    # fsyncs) nearly every commit, and pages written by several commits are copied back once.
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # A failed statement's error (logged, and in tracebacks) shows the SQL, never its values: message
    # bodies, tokens and password hashes stay out of the logs.
    kwargs.setdefault("hide_parameters", True)
    if make_url(url).get_backend_name() == "sqlite":
        if path := sqlite_file(url):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


class WalCheckpointer:
    """SQLite: WAL checkpoints on a thread of their own, so that no committing writer pays for one.

    Left to wal_autocheckpoint, the commit that crossed the threshold copied the WAL back into the database
    and synced it: a 130 ms stall of the chat writer every few seconds at 500 messages/s (decision 26). A
    PASSIVE checkpoint here every PERIOD_S runs beside readers and writers; the chat writer's connection
    never checkpoints (its commits may run on the event loop).

    A writer restarts the WAL from its start only when it begins after a checkpoint that copied everything.
    Under sustained writes there is always a commit during the checkpoint, so the WAL would grow (~75,000
    pages in 30 s at 500 messages/s) until a lull. Past RESTART_PAGES a RESTART checkpoint right after the
    PASSIVE one forces it: it holds the write lock while it copies the last frames and waits for readers
    (up to RESTART_WAIT_MS), a short pause for writers, and the file stops growing."""

    PERIOD_S = 1.0
    RESTART_PAGES = 32_000  # ~128 MiB with 4 KiB pages: a ~10 ms pause of writers every ~8 s at 500 msg/s
    RESTART_WAIT_MS = 100

    def __init__(self, path: str) -> None:
        self.path = path
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self.restarts = 0

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while not self.stopping.wait(self.PERIOD_S):
                try:
                    _, pages, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if pages >= self.RESTART_PAGES:
                        conn.execute(f"PRAGMA busy_timeout={self.RESTART_WAIT_MS}")
                        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                        conn.execute("PRAGMA busy_timeout=1000")
                        self.restarts += not busy
                except sqlite3.Error:  # busy or locked: the next period tries again
                    continue
        finally:
            conn.close()


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL, or None (another backend, or an in-memory database that a second
    connection would not see)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


class Database:
    """Owns the engine; hands out sessions. One per app instance, passed in, never global."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps in growing steps (up
        # to 100 ms each): a burst of short write transactions from one process (chat starts) convoyed
        # behind those sleeps. They queue here instead, in order. PostgreSQL locks rows: no gate.
        self._gate = asyncio.Lock() if self.dialect == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def write_gate(self) -> AsyncIterator[None]:
        """Hold around a burst-prone sequence of write transactions (SQLite: one at a time per process)."""
        if self._gate is None:
            yield
            return
        async with self._gate:
            yield

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as s:
            yield s

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()

"""Async engine and session factory for SQLite (WAL) or PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
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
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_when_idle(engine)
    return engine


# A pooled connection that sat unused this long is pinged before use (PostgreSQL may have restarted).
PING_IDLE_S = 2.0


def ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a connection on checkout only if it sat in the pool PING_IDLE_S or more. SQLAlchemy's
    pool_pre_ping pings on every checkout, and on asyncpg a ping is three round trips (BEGIN, a statement,
    ROLLBACK): a sixteenth of a saturated chat server's CPU while a thousand sockets said hello. A
    connection used moments ago is as good as a ping; a dead one fails its statement and the pool then
    replaces every connection older than the failure."""
    sync = engine.sync_engine

    @event.listens_for(sync.pool, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync.pool, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_S:
            return  # new, or used just now
        try:
            sync.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("the pooled connection is gone") from exc  # the pool connects anew


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


def driver_reads(session: AsyncSession) -> bool:
    """Whether `driver_fetch` may be used: a PostgreSQL `Database.reader()` session. Never in a session
    that writes: the driver does not see what SQLAlchemy has not flushed yet."""
    bind = session.bind
    return (
        isinstance(bind, AsyncEngine)
        and bind.dialect.name == "postgresql"
        and bind.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    )


async def driver_fetch(session: AsyncSession, sql: str, *args: Any) -> list[Any]:
    """PostgreSQL: run `sql` ($1-style parameters) straight on the session's asyncpg connection, prepared
    once per connection by asyncpg; rows come back as asyncpg records. For the reads a thousand sockets make
    at once (their hello): through SQLAlchemy's compile, bind and result steps such a read cost a saturated
    server 0.5-0.9 ms of CPU, here under 0.1 ms. Only in a `Database.reader()` session (autocommit): the
    statement runs outside any transaction SQLAlchemy would begin."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    return list(await raw.driver_connection.fetch(sql, *args))  # type: ignore[union-attr]


class Database:
    """Owns the engine; hands out sessions. One per app instance, passed in, never global."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads that need no transaction of their own (a socket's hello, catch-up): on PostgreSQL in
        # autocommit, so no BEGIN and ROLLBACK round trips around them. Each statement still sees committed
        # data, as it does inside a READ COMMITTED transaction.
        self.readmaker = (
            async_sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
            if self.dialect == "postgresql"
            else self.sessionmaker
        )
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

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: what it writes is not committed on SQLite, and on PostgreSQL each
        statement commits on its own. Use `session()` for anything that writes."""
        async with self.readmaker() as s:
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

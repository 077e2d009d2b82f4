"""The chat writer's batches on SQLite: one transaction on a sqlite3 connection of its own, run on the event
loop when the write lock is free at once, else on a thread that may wait for it.

Through SQLAlchemy and aiosqlite every statement of a batch was several hand-offs to the driver's thread
(cursor, execute, fetch, close), and each waited for a turn of the busy event loop: ~25 of a batch's ~30 ms
at 500 messages/s. A thread of our own running the whole batch still waited: to be woken, and for the GIL
after every step of a statement (the sqlite3 module lets go of it around each one), up to the 5 ms switch
interval each time the loop was busy. A batch is a handful of single-step statements (multi-row VALUES,
UPDATE ... FROM VALUES, reads folded into one JSON row) that take ~1 ms, so the loop runs it itself when
BEGIN IMMEDIATE gets the lock without waiting (busy_timeout 0); only when another connection holds the
lock does the batch go to the thread, where waiting blocks nobody. The steps that decide what is stored are
batch.py's, shared with the PostgreSQL path. Decision 26.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar, cast

import orjson

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.touches import sqlite_time
from contactcenter.channels.chat import batch
from contactcenter.channels.chat.batch import Numbered, Posted, PostIn, ReadRow
from contactcenter.channels.chat.schemas import AttachmentRef, MessageOut, SenderKind
from contactcenter.conversations import service as conversations
from contactcenter.db.engine import sqlite_pragmas

_FOUND = (
    "SELECT json_group_array(json_array(conversation_id, sender_kind, client_id, seq, sender_name, body, private,"
    " json(attachments), created_at)) FROM chat_messages WHERE conversation_id IN ({convs}) AND client_id IN"
    " ({clients})"
)
_NUMBER = (
    "UPDATE chat_threads SET last_seq = last_seq + n.column2 FROM (VALUES {values}) AS n"
    " WHERE chat_threads.conversation_id = n.column1 AND NOT chat_threads.closed"
)
_THREADS = (
    "SELECT json_group_array(json_array(conversation_id, closed, last_seq)) FROM chat_threads"
    " WHERE conversation_id IN ({ids})"
)
_MESSAGES = (
    "INSERT INTO chat_messages (conversation_id, seq, sender_kind, sender_id, sender_name, body, private,"
    " attachments, client_id, created_at) VALUES {values}"
)
_MESSAGE_ROW = "(?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)"
_READ = (
    "UPDATE chat_threads SET {col} = r.column2 FROM (VALUES {values}) AS r"
    " WHERE chat_threads.conversation_id = r.column1 AND chat_threads.{col} < r.column2"
    " AND chat_threads.last_seq >= r.column2"
)
_READ_ROWS = (
    "SELECT json_group_array(json_array(conversation_id, customer_read_seq, agent_read_seq))"
    " FROM chat_threads WHERE conversation_id IN ({ids})"
)
READ_PIECE = 2000  # conversations per read statement: 2 parameters each, far below SQLite's 32,766
WAIT_S = 30.0  # on the thread, wait this long for another writer's lock (as every other connection does)
RETRY_S = 0.002  # and try again this often (busy_timeout's own sleeps grow to 25-100 ms each)
T = TypeVar("T")


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _rows(row: str, n: int) -> str:
    return ", ".join([row] * n)


class SqliteBatchWriter:
    """Owns one sqlite3 connection, used by one batch at a time: on the loop, or on its one thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat-sqlite")
        self.conn: sqlite3.Connection | None = None
        self.waiting: asyncio.Future[object] | None = None  # a batch on the thread (it may outlive a cancel)
        self.deferred = 0  # batches that found the lock taken and went to the thread

    async def post_messages(self, bus: Bus, posts: Sequence[PostIn]) -> list[Posted]:
        """batch.post_messages on this writer's connection; raises when the transaction failed."""
        res = await self._transaction(lambda db: self._write(db, posts))
        await batch.announce_stored(bus, res.stored, res.touches, res.touch_ids, res.now)
        return batch.results_for(posts, res.found, res.failed, res.stored)

    async def mark_read_many(self, bus: Bus, reads: Mapping[tuple[str, SenderKind], int]) -> None:
        """batch.mark_read_many on this writer's connection (no second writer to wait for)."""
        rows = await self._transaction(lambda db: self._reads(db, reads))
        await batch.announce_reads(bus, reads, rows)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.pool, self._close)
        self.pool.shutdown(wait=False)

    def _db(self) -> sqlite3.Connection:
        if self.conn is None:
            # Autocommit mode: the transaction is an explicit BEGIN IMMEDIATE (it takes the write lock first;
            # a deferred one could fail on the upgrade from reading to writing).
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            sqlite_pragmas(self.conn, None)
            # A taken lock must fail at once, not wait: on the loop, and on the thread, which retries sooner.
            self.conn.execute("PRAGMA busy_timeout=0")
            # No checkpoint in a commit that may run on the loop: they are the WalCheckpointer's.
            self.conn.execute("PRAGMA wal_autocheckpoint=0")
        return self.conn

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    async def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self.waiting is None or self.waiting.done():
            db = self._db()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
            else:
                return _finish(db, work)
        self.deferred += 1
        fut = asyncio.get_running_loop().run_in_executor(self.pool, self._wait_and_run, work)
        self.waiting = cast("asyncio.Future[object]", fut)
        return await fut

    def _wait_and_run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        db, deadline = self._db(), time.monotonic() + WAIT_S
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(RETRY_S)
        return _finish(db, work)

    def _write(self, db: sqlite3.Connection, posts: Sequence[PostIn]) -> batch.Result:
        res = batch.Result()
        res.found = _found(db, posts)
        fresh, counts = batch.fresh_posts(posts, res.found)
        numbered: dict[str, Numbered] = {}
        if counts:
            values = [v for cid, n in counts.items() for v in (cid, n)]
            db.execute(_NUMBER.format(values=_rows("(?, ?)", len(counts))), values)
            ids = list(counts)
            (text,) = db.execute(_THREADS.format(ids=_marks(len(ids))), ids).fetchone()
            who = conversations.audience_sqlite3(db, ids)
            for cid, closed, last in orjson.loads(text):
                if not closed and cid in who:
                    numbered[cid] = (last, who[cid][1], who[cid][2])
            res.failed = batch.refusals([c for c in counts if c not in numbered], set(who))
        res.stored, res.touches = batch.number(fresh, counts, numbered, res.now)
        if res.stored:
            at = sqlite_time(res.now)
            params: list[object] = []
            for key, (out, _, _) in res.stored.items():
                p = fresh[key]
                params += (out.conversation_id, out.seq, p.sender.value, p.sender_id, p.sender_name, p.body)
                params += (p.private, p.client_id, at)
            db.execute(_MESSAGES.format(values=_rows(_MESSAGE_ROW, len(res.stored))), params)
            res.touch_ids = ccr.insert_touches_sqlite3(db, res.touches, at)
        return res

    def _reads(self, db: sqlite3.Connection, reads: Mapping[tuple[str, SenderKind], int]) -> list[ReadRow]:
        rows: list[ReadRow] = []
        for reader, col in ((SenderKind.customer, "customer_read_seq"), (SenderKind.agent, "agent_read_seq")):
            moves = [(cid, seq) for (cid, who), seq in reads.items() if who is reader]
            for start in range(0, len(moves), READ_PIECE):
                piece = moves[start : start + READ_PIECE]
                sql = _READ.format(col=col, values=_rows("(?, ?)", len(piece)))
                db.execute(sql, [v for move in piece for v in move])
        ids = list({cid for cid, _ in reads})
        for start in range(0, len(ids), READ_PIECE):
            some = ids[start : start + READ_PIECE]
            (text,) = db.execute(_READ_ROWS.format(ids=_marks(len(some))), some).fetchone()
            who = conversations.audience_sqlite3(db, some)
            rows += [(cid, who[cid][1], who[cid][2], c, a) for cid, c, a in orjson.loads(text) if cid in who]
        return rows


def _busy(exc: sqlite3.OperationalError) -> bool:
    return exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # with its extended codes


def _finish(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` in the transaction BEGIN IMMEDIATE opened, then commit; roll back if anything failed."""
    try:
        result = work(db)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return result


def _found(db: sqlite3.Connection, posts: Sequence[PostIn]) -> dict[tuple[str, str, str], MessageOut]:
    keys = {p.key for p in posts}
    convs, clients = list({k[0] for k in keys}), list({k[2] for k in keys})
    sql = _FOUND.format(convs=_marks(len(convs)), clients=_marks(len(clients)))
    (text,) = db.execute(sql, [*convs, *clients]).fetchone()
    found: dict[tuple[str, str, str], MessageOut] = {}
    for conv, kind, client, seq, name, body, private, attachments, created in orjson.loads(text):
        if (key := (conv, kind, client)) in keys:
            found[key] = MessageOut(
                conversation_id=conv,
                seq=seq,
                sender=SenderKind(kind),
                sender_name=name,
                body=body,
                private=bool(private),
                attachments=[AttachmentRef.model_validate(a) for a in attachments or []],
                client_id=client,
                at=datetime.fromisoformat(created).replace(tzinfo=UTC),
            )
    return found

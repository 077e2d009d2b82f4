"""The chat writer's SQLite path (raw sqlite3, on the loop or its thread): what it stores reads back through the
ORM exactly as the SQLAlchemy path would have stored it, it waits for other writers on its thread without
holding up the loop, and a failed batch leaves nothing."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import TypeAdapter
from sqlalchemy import text, update

from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.events import TOPIC_TOUCHES, TouchLogged
from contactcenter.ccr.schemas import Direction
from contactcenter.channels.chat import messages, sqlite_writer
from contactcenter.channels.chat.models import ChatMessage, ChatThread
from contactcenter.channels.chat.schemas import SenderKind
from contactcenter.channels.chat.sqlite_writer import SqliteBatchWriter
from contactcenter.channels.chat.writer import ChatWriter
from contactcenter.db import Database, utcnow
from contactcenter.db.engine import WalCheckpointer, sqlite_file
from contactcenter.http import ApiError
from contactcenter.realtime.events import TOPIC_REALTIME, Item, ReadMoved
from tests.chat.test_writer import conversation, post, seq_of, stored
from tests.conftest import _fresh_sqlite

_events: TypeAdapter[Item | ReadMoved] = TypeAdapter(Item | ReadMoved)


@pytest.fixture
async def sqlite_db(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    database = Database(_fresh_sqlite(sqlite_template, tmp_path))
    yield database
    await database.dispose()


@pytest.fixture
async def writer(sqlite_db: Database) -> AsyncIterator[SqliteBatchWriter]:
    path = sqlite_file(sqlite_db.url)
    assert path is not None
    w = SqliteBatchWriter(path)
    yield w
    await w.close()


async def test_what_the_batch_stores_reads_back_through_the_orm(sqlite_db: Database, writer: SqliteBatchWriter) -> None:
    conv, customer = await conversation(sqlite_db)
    bus = MemoryBus()
    posts = [
        post(conv, "t1", '<b>bold</b> ✓ "quoted"'),
        replace(post(conv, "t2", "a note", SenderKind.agent), private=True),
    ]
    async with bus.subscribe(TOPIC_TOUCHES, TOPIC_REALTIME) as sub:
        got = await writer.post_messages(bus, posts)
        heard = [await sub.get(timeout=2) for _ in range(4)]
    outs = [r[0] for r in got if not isinstance(r, ApiError)]
    assert [(m.seq, m.private) for m in outs] == [(1, False), (2, True)]
    async with sqlite_db.session() as s:
        back = await messages.messages_after(s, conversation_id=conv, after=0, include_private=True)
        page = await ccr.timeline(s, customer_id=customer)
    assert back == outs  # same text, flags, attachments and time to the microsecond
    touches = sorted(page.items, key=lambda t: t.id)
    assert [(t.summary, t.direction, t.payload) for t in touches] == [
        ('<b>bold</b> ✓ "quoted"', Direction.inbound, {"seq": 1, "attachments": 0}),
        ("Note: a note", Direction.internal, {"seq": 2, "attachments": 0}),
    ]
    logged = [TouchLogged.model_validate_json(m.data) for m in heard if m and m.topic == TOPIC_TOUCHES]
    assert [e.touch_id for e in logged] == [t.id for t in touches]
    posted = [m.event for m in heard if m and m.topic == TOPIC_REALTIME]
    assert [seq_of(e)[1] for e in posted if isinstance(e, Item)] == [1, 2]


async def test_a_resend_of_a_stored_message_with_attachments_is_answered_from_the_database(
    sqlite_db: Database, writer: SqliteBatchWriter
) -> None:
    conv, _ = await conversation(sqlite_db)
    attachment = {"id": str(uuid.uuid4()), "name": "statement é.pdf", "type": "application/pdf", "size": 1234}
    async with sqlite_db.session() as s:
        s.add(
            ChatMessage(
                conversation_id=conv,
                seq=1,
                sender_kind="customer",
                sender_id=1,
                sender_name="Wren",
                body="see attached",
                attachments=[attachment],
                client_id="with-file",
                created_at=utcnow(),
            )
        )
        await s.execute(update(ChatThread).where(ChatThread.conversation_id == conv).values(last_seq=1))
        await s.commit()
        original = (await messages.messages_after(s, conversation_id=conv, after=0, include_private=False))[0]
    (result,) = await writer.post_messages(MemoryBus(), [post(conv, "with-file", "see attached")])
    assert not isinstance(result, ApiError)
    message, duplicate = result
    assert duplicate and message == original and message.attachments[0].name == "statement é.pdf"


async def test_closed_and_missing_conversations_are_refused_by_name(
    sqlite_db: Database, writer: SqliteBatchWriter
) -> None:
    open_conv, _ = await conversation(sqlite_db)
    closed, _ = await conversation(sqlite_db, status="closed")
    got = await writer.post_messages(MemoryBus(), [post(closed, "c"), post("nope", "n"), post(open_conv, "o")])
    assert isinstance(got[0], ApiError) and got[0].code == "conversation_closed"
    assert isinstance(got[1], ApiError) and got[1].code == "conversation_not_found"
    assert not isinstance(got[2], ApiError) and got[2][0].seq == 1
    assert await stored(sqlite_db, closed) == []


async def test_a_batch_runs_on_the_loop_when_the_lock_is_free(sqlite_db: Database, writer: SqliteBatchWriter) -> None:
    conv, _ = await conversation(sqlite_db)
    (result,) = await writer.post_messages(MemoryBus(), [post(conv, "f1")])
    await writer.mark_read_many(MemoryBus(), {(conv, SenderKind.agent): 1})
    assert not isinstance(result, ApiError) and result[0].seq == 1
    assert writer.deferred == 0  # no thread hand-off, no wait for the GIL
    assert [seq for seq, _, _ in await stored(sqlite_db, conv)] == [1]


async def _until(cond: Callable[[], bool], timeout_s: float = 20) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_a_taken_lock_sends_batches_to_the_thread_in_order_and_the_loop_goes_on(
    sqlite_db: Database, writer: SqliteBatchWriter
) -> None:
    conv, _ = await conversation(sqlite_db)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(ticker())
    try:
        async with sqlite_db.session() as s:
            # Another connection holds SQLite's write lock for a while (as a start or a close would).
            await s.execute(text("UPDATE conversations SET topic = 'held' WHERE id = :id"), {"id": conv})
            first = asyncio.ensure_future(writer.post_messages(MemoryBus(), [post(conv, "w1")]))
            await _until(lambda: writer.deferred == 1)  # it found the lock taken: on the thread
            # While the first batch waits on the thread, the next must queue behind it (same connection).
            second = asyncio.ensure_future(writer.post_messages(MemoryBus(), [post(conv, "w2")]))
            await _until(lambda: writer.deferred == 2)
            before = ticks
            # The loop goes on while they wait: were the wait on the loop, no tick would come until it
            # gave up (WAIT_S), failing the batch; the lock is held until the commit below.
            await _until(lambda: ticks - before >= 10)
            assert not first.done() and not second.done()
            await s.commit()
        (r1,) = await asyncio.wait_for(first, 10)
        (r2,) = await asyncio.wait_for(second, 10)
    finally:
        beat.cancel()
    assert not isinstance(r1, ApiError) and not isinstance(r2, ApiError)
    assert (r1[0].seq, r2[0].seq) == (1, 2) and writer.deferred == 2
    (r3,) = await writer.post_messages(MemoryBus(), [post(conv, "w3")])
    assert not isinstance(r3, ApiError) and r3[0].seq == 3 and writer.deferred == 2  # back on the loop


async def test_a_failed_batch_leaves_nothing_and_the_writer_stores_each_post_alone(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    conv, _ = await conversation(sqlite_db)

    def broken(*_: object) -> list[int]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sqlite_writer.ccr, "insert_touches_sqlite3", broken)
    chat_writer = ChatWriter(sqlite_db, MemoryBus())
    assert chat_writer.sqlite is not None
    with pytest.raises(sqlite3.OperationalError):
        await chat_writer.sqlite.post_messages(MemoryBus(), [post(conv, "x1")])
    async with sqlite_db.session() as s:
        assert (await s.get(ChatThread, conv, populate_existing=True)).last_seq == 0  # type: ignore[union-attr]
    assert await stored(sqlite_db, conv) == []
    chat_writer.start()
    try:  # the batch fails as a whole: each post is stored on its own instead, numbered without gaps
        results = await asyncio.gather(*(chat_writer.post(post(conv, f"k{i}")) for i in range(5)))
    finally:
        await chat_writer.stop()
    assert sorted(m.seq for m, _ in results) == [1, 2, 3, 4, 5]
    assert [seq for seq, _, _ in await stored(sqlite_db, conv)] == [1, 2, 3, 4, 5]


async def test_read_positions_move_forward_only(sqlite_db: Database, writer: SqliteBatchWriter) -> None:
    conv, _ = await conversation(sqlite_db)
    bus = MemoryBus()
    await writer.post_messages(bus, [post(conv, f"r{i}") for i in range(3)])
    async with bus.subscribe(TOPIC_REALTIME) as sub:
        await writer.mark_read_many(bus, {(conv, SenderKind.agent): 2, (conv, SenderKind.customer): 9})
        msg = await sub.get(timeout=2)
        await bus.publish(TOPIC_REALTIME, "marker")  # next: 9 was never sent, so not stored, not announced
        after = await sub.get(timeout=5)
        assert after is not None and after.data == "marker"
    assert msg is not None
    ev = _events.validate_json(msg.data)
    assert isinstance(ev, ReadMoved) and (ev.reader, ev.seq) == ("agent", 2)
    await writer.mark_read_many(bus, {(conv, SenderKind.agent): 1})
    async with sqlite_db.session() as s:
        row = await s.get(ChatThread, conv, populate_existing=True)
    assert row is not None and (row.agent_read_seq, row.customer_read_seq) == (2, 0)


async def test_the_checkpointer_copies_commits_into_the_database_file(sqlite_db: Database) -> None:
    path = sqlite_file(sqlite_db.url)
    assert path is not None
    conv, _ = await conversation(sqlite_db)

    def in_main_file() -> int:
        # immutable=1 reads the database file alone, ignoring the WAL: only checkpointed rows are there.
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as raw:
            return int(raw.execute("SELECT count(*) FROM conversations WHERE id = ?", (conv,)).fetchone()[0])

    assert in_main_file() == 0
    checkpointer = WalCheckpointer(path)
    checkpointer.start()
    try:
        for _ in range(50):
            await asyncio.sleep(0.1)
            if in_main_file():
                break
    finally:
        checkpointer.stop()
    assert in_main_file() == 1 and not checkpointer.thread.is_alive()


async def test_the_checkpointer_restarts_a_wal_that_writes_kept_growing(sqlite_db: Database) -> None:
    path = sqlite_file(sqlite_db.url)
    assert path is not None
    conv, _ = await conversation(sqlite_db)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM conversations").fetchone()  # holds a snapshot: the WAL cannot restart
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint=0")  # as the chat writer's connection

    def write(n: int) -> None:
        for i in range(n):
            writer.execute("UPDATE conversations SET topic = ? WHERE id = ?", (f"t{i}", conv))

    write(40)
    checkpointer = WalCheckpointer(path)
    checkpointer.PERIOD_S, checkpointer.RESTART_PAGES = 0.05, 10
    checkpointer.start()
    try:
        await asyncio.sleep(0.3)
        assert checkpointer.restarts == 0  # it waits for the reader rather than break its snapshot
        reader.execute("COMMIT")
        for _ in range(100):
            await asyncio.sleep(0.05)
            if checkpointer.restarts:
                break
    finally:
        checkpointer.stop()
        reader.close()
    assert checkpointer.restarts >= 1
    size = _wal_bytes(path)
    write(40)  # the next writer starts the WAL over: the file is reused, not grown
    assert _wal_bytes(path) == size
    assert writer.execute("SELECT topic FROM conversations WHERE id = ?", (conv,)).fetchone() == ("t39",)
    writer.close()


def _wal_bytes(path: str) -> int:
    return Path(f"{path}-wal").stat().st_size


def test_only_a_database_file_gets_the_writer() -> None:
    assert sqlite_file("sqlite+aiosqlite:////var/lib/cc/cc.db") == "/var/lib/cc/cc.db"
    assert sqlite_file("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_file("postgresql+asyncpg://cc@localhost/cc") is None

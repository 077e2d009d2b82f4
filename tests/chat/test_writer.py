"""The per-process chat writer: batched messages number and store exactly like one-by-one messages."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pydantic import TypeAdapter
from sqlalchemy import func, select, text

from contactcenter.bus import Bus
from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import CustomerCreate
from contactcenter.channels.chat import batch
from contactcenter.channels.chat.batch import PostIn
from contactcenter.channels.chat.models import ChatMessage, ChatThread
from contactcenter.channels.chat.pg_writer import PgBatchWriter
from contactcenter.channels.chat.schemas import MessageFrame, SenderKind
from contactcenter.channels.chat.sqlite_writer import SqliteBatchWriter
from contactcenter.channels.chat.writer import ChatWriter
from contactcenter.conversations.models import Conversation
from contactcenter.db import Database
from contactcenter.db.engine import sqlite_file
from contactcenter.http import ApiError
from contactcenter.realtime.events import TOPIC_REALTIME, Item, ReadMoved

_events: TypeAdapter[Item | ReadMoved] = TypeAdapter(Item | ReadMoved)
# Each batch test runs on the SQLAlchemy path (batch.py) and on the database's own writer (the raw sqlite3
# connection on SQLite, the raw asyncpg one on PostgreSQL): both must store and announce the same.
PATHS = pytest.mark.parametrize("path", ["sqlalchemy", "native"])


def native(db: Database) -> SqliteBatchWriter | PgBatchWriter:
    file = sqlite_file(db.url)
    return SqliteBatchWriter(file) if file else PgBatchWriter(db.url)


async def post_batch(db: Database, bus: Bus, path: str, posts: list[PostIn]) -> list[batch.Posted]:
    if path == "sqlalchemy":
        async with db.session() as s:
            return await batch.post_messages(s, bus, posts=posts)
    writer = native(db)
    try:
        return await writer.post_messages(bus, posts)
    finally:
        await writer.close()


async def read_batch(db: Database, bus: Bus, path: str, reads: dict[tuple[str, SenderKind], int]) -> None:
    if path == "sqlalchemy":
        async with db.session() as s:
            await batch.mark_read_many(s, bus, reads=reads)
        return
    writer = native(db)
    try:
        await writer.mark_read_many(bus, reads)
    finally:
        await writer.close()


def seq_of(e: Item) -> tuple[str, int]:
    m = MessageFrame.model_validate_json(e.frame).message
    return m.conversation_id, m.seq


async def conversation(db: Database, *, status: str = "assigned", agent_id: int | None = 7) -> tuple[str, int]:
    async with db.session() as s:
        cid = (await ccr.create_customer(s, data=CustomerCreate(display_name="Wren"), region="GB")).id
        conv = Conversation(id=str(uuid.uuid4()), customer_id=cid, status=status, agent_id=agent_id, customer_name="W")
        s.add(conv)
        await s.flush()
        s.add(ChatThread(conversation_id=conv.id, closed=status == "closed"))
        await s.commit()
        return conv.id, cid


def post(conv: str, client_id: str, body: str = "hi", sender: SenderKind = SenderKind.customer) -> PostIn:
    return PostIn(conversation_id=conv, sender=sender, sender_id=1, sender_name="Wren", body=body, client_id=client_id)


async def stored(db: Database, conv: str) -> list[tuple[int, str, str]]:
    async with db.session() as s:
        rows = await s.execute(
            select(ChatMessage.seq, ChatMessage.client_id, ChatMessage.body)
            .where(ChatMessage.conversation_id == conv)
            .order_by(ChatMessage.seq)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


@PATHS
async def test_a_batch_numbers_each_conversation_in_order_and_answers_each_post(
    db: Database, bus: Bus, path: str
) -> None:
    a, customer_a = await conversation(db)
    b, _ = await conversation(db)
    closed, _ = await conversation(db, status="closed")
    first = await post_batch(db, bus, path, [post(a, "a1")])
    posts = [
        post(a, "a2", "second"),
        post(b, "b1", "to b"),
        post(closed, "c1"),
        post("no-such-conversation", "x1"),
        post(a, "a1", "resent after a reconnect"),  # already stored
        post(a, "a3", "third"),
        post(a, "a2", "same client id twice in one batch"),
        post(b, "b2", "agent answer", SenderKind.agent),
    ]
    async with bus.subscribe(TOPIC_REALTIME) as sub:
        got = await post_batch(db, bus, path, posts)
        events = [_events.validate_json(m.data) for m in [await sub.get(timeout=2) for _ in range(4)] if m]
    assert not isinstance(first[0], ApiError) and (first[0][0].seq, first[0][1]) == (1, False)
    answers = [r if isinstance(r, ApiError) else (r[0].conversation_id, r[0].seq, r[0].body, r[1]) for r in got]
    assert answers[0] == (a, 2, "second", False)
    assert answers[1] == (b, 1, "to b", False)
    assert isinstance(answers[2], ApiError) and answers[2].code == "conversation_closed"
    assert isinstance(answers[3], ApiError) and answers[3].code == "conversation_not_found"
    assert answers[4] == (a, 1, "hi", True)
    assert answers[5] == (a, 3, "third", False)
    assert answers[6] == (a, 2, "second", True)
    assert answers[7] == (b, 2, "agent answer", False)
    assert await stored(db, a) == [(1, "a1", "hi"), (2, "a2", "second"), (3, "a3", "third")]
    assert await stored(db, b) == [(1, "b1", "to b"), (2, "b2", "agent answer")]
    assert await stored(db, closed) == []
    # Announced after the commit, in order, with who should hear it.
    posted = [e for e in events if isinstance(e, Item)]
    assert [seq_of(e) for e in posted] == [(a, 2), (b, 1), (a, 3), (b, 2)]
    assert {e.to.customer_id for e in posted if e.to.conversation_id == a} == {customer_a}
    assert {e.to.agent_id for e in posted} == {7}
    async with db.session() as s:
        last = dict((await s.execute(select(ChatThread.conversation_id, ChatThread.last_seq))).all())
        touches = await s.scalar(select(func.count()).select_from(Touch).where(Touch.conversation_id.in_([a, b])))
    assert (last[a], last[b], last[closed]) == (3, 2, 0)
    assert touches == 5  # one CCR touch per stored message, none for duplicates or refusals
    async with db.session() as s:
        timeline = (await s.execute(select(Touch.conversation_id, Touch.payload).order_by(Touch.id))).all()
    # The touches' ids follow the messages' order (the timeline reads by id within a second).
    assert [(c, p["seq"]) for c, p in timeline if p.get("seq")] == [(a, 1), (a, 2), (b, 1), (a, 3), (b, 2)]


async def test_concurrent_senders_share_transactions_without_gaps_or_duplicates(db: Database) -> None:
    conv, _ = await conversation(db)
    other, _ = await conversation(db)
    writer = ChatWriter(db, MemoryBus())
    writer.start()
    try:
        posts = [post(conv if i % 3 else other, f"k{i}", f"m{i}") for i in range(60)]
        results = await asyncio.gather(*(writer.post(p) for p in posts))
        # Every client resends once (a reconnect): the same message comes back, marked as a duplicate; a new
        # message in the same batch as the resends is stored once, numbered after everything before it.
        *again, (new, new_dup) = await asyncio.gather(
            *(writer.post(p) for p in posts[::5]), writer.post(post(other, "k-new", "after the resends"))
        )
    finally:
        await writer.stop()
    assert not any(dup for _, dup in results) and all(dup for _, dup in again)
    assert [m.seq for m, _ in again] == [results[i][0].seq for i in range(0, 60, 5)]
    assert (new.seq, new_dup) == (21, False)
    posts.append(post(other, "k-new", "after the resends"))
    for c, n in ((conv, 40), (other, 21)):
        rows = await stored(db, c)
        assert [seq for seq, _, _ in rows] == list(range(1, n + 1))
        assert sorted(k for _, k, _ in rows) == sorted(p.client_id for p in posts if p.conversation_id == c)


async def test_one_bad_message_does_not_fail_the_others_in_its_batch(db: Database, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite stores NUL in text; PostgreSQL refuses the whole statement")
    conv, _ = await conversation(db)
    writer = ChatWriter(db, MemoryBus())
    writer.start()
    try:
        # Frames refuse NUL before they get here; the writer must still isolate a row the database refuses.
        good = [post(conv, f"g{i}") for i in range(5)]
        results = await asyncio.gather(
            *(writer.post(p) for p in [*good[:2], post(conv, "bad", "nul\x00"), *good[2:]]), return_exceptions=True
        )
    finally:
        await writer.stop()
    assert isinstance(results[2], Exception) and not isinstance(results[2], ApiError)
    assert sorted(k for _, k, _ in await stored(db, conv)) == sorted(p.client_id for p in good)


@PATHS
async def test_read_positions_only_move_forward_and_are_announced(db: Database, path: str) -> None:
    conv, _ = await conversation(db)
    bus = MemoryBus()
    await post_batch(db, bus, path, [post(conv, f"r{i}") for i in range(3)])
    async with bus.subscribe(TOPIC_REALTIME) as sub:
        # 9 was never sent
        await read_batch(db, bus, path, {(conv, SenderKind.agent): 2, (conv, SenderKind.customer): 9})
        msg = await sub.get(timeout=2)
        await bus.publish(TOPIC_REALTIME, "marker")  # comes next: only the one read was announced
        after = await sub.get(timeout=5)
        assert after is not None and after.data == "marker"
    assert msg is not None
    ev = _events.validate_json(msg.data)
    assert isinstance(ev, ReadMoved) and (ev.reader, ev.seq) == ("agent", 2)
    await read_batch(db, bus, path, {(conv, SenderKind.agent): 1})  # never backwards
    async with db.session() as s:
        row = await s.get(ChatThread, conv, populate_existing=True)
    assert row is not None and (row.agent_read_seq, row.customer_read_seq) == (2, 0)


async def test_the_postgres_writer_survives_its_connection_being_killed(db: Database, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the raw asyncpg writer is PostgreSQL's")
    conv, _ = await conversation(db)
    writer = ChatWriter(db, MemoryBus())
    writer.start()
    try:
        assert writer.pg is not None
        first, _ = await writer.post(post(conv, "before"))
        pid = writer.pg.conn.get_server_pid()
        async with db.session() as s:  # as a restart or an administrator would
            await s.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # The batch on the dead connection fails; the writer stores each post alone, then reconnects.
        after = await asyncio.gather(*(writer.post(post(conv, f"after-{i}")) for i in range(3)))
        again, _ = await writer.post(post(conv, "later"))
        assert writer.pg.conn is not None and writer.pg.conn.get_server_pid() != pid
    finally:
        await writer.stop()
    assert first.seq == 1 and sorted(m.seq for m, _ in after) == [2, 3, 4] and again.seq == 5
    assert [k for _, k, _ in await stored(db, conv)] == ["before", "after-0", "after-1", "after-2", "later"]

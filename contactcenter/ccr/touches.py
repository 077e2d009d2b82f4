"""Writing and reading touches: the hot path of the CCR (every capability logs through it).

Re-exported by `contactcenter.ccr.service`, which is what other capabilities import.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr.events import TOPIC_TOUCHES, customer_topic, touch_logged_json
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import Channel, TimelinePage, TouchIn, TouchOut
from contactcenter.db import utcnow
from contactcenter.http import ApiError

MAX_PAGE = 200


def _touch_row(t: TouchIn, now: datetime) -> dict[str, object]:
    return {
        "customer_id": t.customer_id,
        "channel": t.channel.value,
        "kind": t.kind.value,
        "direction": t.direction.value,
        "occurred_at": t.occurred_at or now,
        "agent_id": t.agent_id,
        "conversation_id": t.conversation_id,
        "summary": t.summary,
        "payload": t.payload,
    }


async def add_touch(session: AsyncSession, *, touch: TouchIn) -> Touch:
    """Stage a touch inside the caller's transaction; call publish_touches after the commit."""
    row = Touch(**_touch_row(touch, utcnow()))
    session.add(row)
    await session.flush()
    return row


async def publish_touches(bus: Bus, touches: Sequence[Touch | TouchOut]) -> None:
    """Announce committed touches: one topic for every touch, one per customer."""
    await bus.publish_many(
        pair
        for t in touches
        for pair in _announce(t.id, t.customer_id, t.channel, t.kind, t.occurred_at, t.summary, t.conversation_id)
    )


def _announce(
    touch_id: int,
    customer_id: int,
    channel: str,
    kind: str,
    occurred_at: datetime,
    summary: str,
    conversation_id: str | None,
) -> tuple[tuple[str, str], tuple[str, str]]:
    data = touch_logged_json(
        touch_id=touch_id,
        customer_id=customer_id,
        channel=channel,
        kind=kind,
        occurred_at=occurred_at,
        summary=summary,
        conversation_id=conversation_id,
    )
    return (TOPIC_TOUCHES, data), (customer_topic(customer_id), data)


async def log_touch(session: AsyncSession, bus: Bus, *, touch: TouchIn) -> TouchOut:
    """Store one touch, commit, then publish it."""
    row = await add_touch(session, touch=touch)
    await session.commit()
    out = TouchOut.model_validate(row)
    await publish_touches(bus, [out])
    return out


_SQLITE_INSERT = (
    "INSERT INTO touches (customer_id, channel, kind, direction, occurred_at, agent_id, conversation_id,"
    " summary, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SQLITE_PIECE = 1000


def sqlite_time(at: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores for an aware datetime: UTC, no offset, microseconds."""
    # isoformat is twice as fast as strftime, and pads years before 1000 as SQLAlchemy does (strftime does not).
    if at.tzinfo is not UTC:
        if at.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        at = at.astimezone(UTC)
    return at.isoformat(" ", "microseconds")[:26]


def json_text(value: dict[str, Any]) -> str:
    """JSON text of a payload: orjson (a tenth of json.dumps' time), json.dumps for what orjson refuses."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # e.g. integers beyond 64 bits; json.dumps is what SQLAlchemy would use
        return json.dumps(value)


async def _insert_sqlite(session: AsyncSession, touches: Sequence[TouchIn], now: datetime) -> list[int]:
    """Bulk insert on SQLite with driver-level parameters; returns the new ids in input order."""
    # SQLAlchemy's per-row bind processing cost more than SQLite's own insert work at 10k+ touches/s;
    # the two conversions it did (UTC text time, JSON text) are done here directly instead. The enums go
    # as they are: StrEnum members are str, and sqlite3 binds their text.
    when, dumps = sqlite_time, json_text
    conn = await session.connection()
    pending: asyncio.Future[Any] | None = None
    try:
        for start in range(0, len(touches), SQLITE_PIECE):
            params = [
                (
                    t.customer_id,
                    t.channel,
                    t.kind,
                    t.direction,
                    when(t.occurred_at or now),
                    t.agent_id,
                    t.conversation_id,
                    t.summary,
                    dumps(t.payload),
                )
                for t in touches[start : start + SQLITE_PIECE]
            ]
            # Pieces in sequence on one connection, but the next piece's parameters are built here while the
            # driver's thread runs the previous piece's inserts (SQLite releases the GIL while it works).
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(conn.exec_driver_sql(_SQLITE_INSERT, params))
            await asyncio.sleep(0)
        if pending is not None:
            await pending
    except BaseException:
        if pending is not None:  # never leave an insert running on the connection the caller rolls back
            await asyncio.gather(pending, return_exceptions=True)
        raise
    n = len(touches)
    # One prepared single-row INSERT run per row (executemany) is far cheaper on SQLite than multi-row
    # VALUES ... RETURNING. From its first row to the commit our transaction holds SQLite's write lock, and
    # a rowid table without AUTOINCREMENT gives each new row max(id) + 1: the batch has the consecutive
    # ids ending at last_insert_rowid(). The count checks that (it could only fail once ids reach 2**63-1).
    table = cast(Table, Touch.__table__)
    last_id = func.last_insert_rowid()
    check = select(last_id, func.count()).select_from(table).where(table.c.id > last_id - n)
    last, found = (await session.execute(check)).one()
    if found != n:
        raise RuntimeError(f"SQLite did not give {n} touches consecutive ids")
    return list(range(last - n + 1, last + 1))


_MULTI_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
_MULTI_MAX = 3000  # rows per statement: 9 parameters each, below SQLite's 32,766


def insert_touches_sqlite3(db: sqlite3.Connection, touches: Sequence[TouchIn], at: str) -> list[int]:
    """Insert touches on the caller's raw sqlite3 connection, inside its write transaction (the chat writer's);
    `at`: sqlite_time of a missing occurred_at. Returns the new ids in input order."""
    for start in range(0, len(touches), _MULTI_MAX):
        piece = touches[start : start + _MULTI_MAX]
        params: list[object] = []
        for t in piece:
            occurred = sqlite_time(t.occurred_at) if t.occurred_at is not None else at
            params += (t.customer_id, t.channel, t.kind, t.direction, occurred, t.agent_id, t.conversation_id)
            params += (t.summary, json_text(t.payload))
        db.execute(_SQLITE_MULTI.format(values=", ".join([_MULTI_ROW] * len(piece))), params)
    # As in _insert_sqlite: inside our write transaction a rowid table gives each new row max(id) + 1, so the
    # rows are the consecutive ids ending at last_insert_rowid(); the count checks it.
    n = len(touches)
    last, count = db.execute(_SQLITE_IDS, (n,)).fetchone()
    if count != n:
        raise RuntimeError(f"SQLite did not give {n} touches consecutive ids")
    return list(range(last - n + 1, last + 1))


_PG_TOUCHES = (
    "INSERT INTO touches (customer_id, channel, kind, direction, occurred_at, agent_id, conversation_id, summary,"
    " payload) SELECT t.c, t.ch, t.k, t.d, t.o, t.a, t.cv, t.s, t.p::jsonb FROM unnest($1::int[], $2::text[],"
    " $3::text[], $4::text[], $5::timestamptz[], $6::int[], $7::text[], $8::text[], $9::text[])"
    " WITH ORDINALITY AS t(c, ch, k, d, o, a, cv, s, p, n) ORDER BY t.n RETURNING id"
)


async def insert_touches_asyncpg(conn: Any, touches: Sequence[TouchIn], now: datetime) -> list[int]:
    """Insert touches on the caller's raw asyncpg connection, inside its transaction (the chat writer's);
    `now` stands in for a missing occurred_at. Returns the new ids in input order."""
    if not touches:
        return []
    cols: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [], [])
    for t in touches:
        row = (t.customer_id, t.channel.value, t.kind.value, t.direction.value, t.occurred_at or now, t.agent_id)
        for col, value in zip(cols, (*row, t.conversation_id, t.summary, json_text(t.payload)), strict=True):
            col.append(value)
    # Rows inserted in ORDER BY order draw their ids from the sequence in that order, so the ids sorted are
    # the input order (what SQLAlchemy's sort_by_parameter_order relies on too).
    return sorted(int(r[0]) for r in await conn.fetch(_PG_TOUCHES, *cols))


_SQLITE_MULTI = (
    "INSERT INTO touches (customer_id, channel, kind, direction, occurred_at, agent_id, conversation_id,"
    " summary, payload) VALUES {values}"
)
_SQLITE_IDS = "SELECT last_insert_rowid(), count(*) FROM touches WHERE id > last_insert_rowid() - ?"


async def add_touches(session: AsyncSession, *, touches: Sequence[TouchIn], now: datetime) -> list[int]:
    """Stage many touches inside the caller's transaction (bulk insert); `now` stands in for a missing time.

    Returns their ids in input order; call publish_added after the commit."""
    if not touches:
        return []
    # Core insert on the table, not the ORM bulk path: the ORM leaves out None values, then runs one
    # statement per run of rows with the same set of keys (and was below 1,500 touches/s on SQLite).
    if session.get_bind().dialect.name == "sqlite":
        return await _insert_sqlite(session, touches, now)
    table = cast(Table, Touch.__table__)
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(await session.scalars(stmt, [_touch_row(t, now) for t in touches]))


async def publish_added(bus: Bus, *, ids: Sequence[int], touches: Sequence[TouchIn], now: datetime) -> None:
    """Announce touches staged by add_touches, once committed (the same events as publish_touches)."""
    # Built straight from the validated inputs (no TouchOut or TouchLogged model per row: each cost as much
    # as the insert's own Python work), sent with one publish_many (one pipeline on Redis).
    await bus.publish_many(
        pair
        for touch_id, t in zip(ids, touches, strict=True)
        for pair in _announce(
            touch_id, t.customer_id, t.channel, t.kind, t.occurred_at or now, t.summary, t.conversation_id
        )
    )


async def log_touches(session: AsyncSession, bus: Bus, *, touches: Sequence[TouchIn]) -> list[int]:
    """Store many touches in one transaction (bulk insert), commit, then publish each."""
    now = utcnow()
    ids = await add_touches(session, touches=touches, now=now)
    await session.commit()
    await publish_added(bus, ids=ids, touches=touches, now=now)
    return ids


def encode_cursor(t: datetime, touch_id: int) -> str:
    return base64.urlsafe_b64encode(f"{t.isoformat()}|{touch_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, _, tid = raw.partition("|")
        when = datetime.fromisoformat(ts)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, int(tid)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_cursor", "cursor is not one this server issued") from exc


async def timeline(
    session: AsyncSession,
    *,
    customer_id: int,
    limit: int = 50,
    cursor: str | None = None,
    channels: Sequence[Channel] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> TimelinePage:
    """A customer's touches, newest first, one page at a time."""
    limit = max(1, min(limit, MAX_PAGE))
    # Core on the table, plain dicts rather than ORM instances: a read-only page needs no identity map or
    # change tracking, and one validation call for the whole page is cheaper than one per touch.
    table = cast(Table, Touch.__table__)
    t = table.c
    conds = [t.customer_id == customer_id]
    if channels:
        conds.append(t.channel.in_([c.value for c in channels]))
    if since:
        conds.append(t.occurred_at >= since)
    if until:
        conds.append(t.occurred_at < until)
    if cursor:
        at, tid = decode_cursor(cursor)
        conds.append(or_(t.occurred_at < at, and_(t.occurred_at == at, t.id < tid)))
    # Without filters this walks ix_touches_customer_time (customer_id, occurred_at, id) backwards: no sort.
    stmt = select(table).where(*conds).order_by(t.occurred_at.desc(), t.id.desc()).limit(limit + 1)
    result = await session.execute(stmt)
    keys = list(result.keys())
    rows = [dict(zip(keys, r, strict=True)) for r in result]
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1]["occurred_at"], rows[-1]["id"]) if more and rows else None
    return TimelinePage.model_validate({"items": rows, "next_cursor": nxt})

"""Who a conversation's items go to (status, customer, agent), read in the caller's transaction: the chat
writer's hot path, through SQLAlchemy or on its own sqlite3 or asyncpg connection. Re-exported by service.py."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.conversations.models import Conversation

Audience = dict[str, tuple[str, int, int | None]]  # conversation -> (status, customer, agent)


async def audience(session: AsyncSession, *, ids: Sequence[str], lock: bool = False) -> Audience:
    """Status, customer and agent of conversations, in the caller's transaction; `lock` holds them against
    a concurrent close until the commit (PostgreSQL; SQLite's writer holds the whole database)."""
    if not ids:
        return {}
    q = select(Conversation.id, Conversation.status, Conversation.customer_id, Conversation.agent_id).where(
        Conversation.id.in_(list(ids))
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(read=True)
    return {str(i): (str(st), int(c), a) for i, st, c, a in await session.execute(q)}


_AUDIENCE_PG = "SELECT id, status, customer_id, agent_id FROM conversations WHERE id = ANY($1::text[])"


async def audience_asyncpg(conn: Any, ids: Sequence[str]) -> Audience:
    """As `audience`, on a raw asyncpg connection inside the caller's transaction (the chat writer's)."""
    if not ids:
        return {}
    return {r[0]: (r[1], r[2], r[3]) for r in await conn.fetch(_AUDIENCE_PG, list(ids))}


_AUDIENCE_SQL = (
    "SELECT json_group_array(json_array(id, status, customer_id, agent_id)) FROM conversations WHERE id IN ({})"
)


def audience_sqlite3(db: sqlite3.Connection, ids: Sequence[str]) -> Audience:
    """As `audience`, on a raw sqlite3 connection inside the caller's transaction (the chat writer's)."""
    if not ids:
        return {}
    (text,) = db.execute(_AUDIENCE_SQL.format(", ".join("?" * len(ids))), list(ids)).fetchone()
    return {i: (st, c, a) for i, st, c, a in orjson.loads(text)}

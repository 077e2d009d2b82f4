"""Migration 0010 moves chat's numbering and read positions out of conversations with nothing lost, on
SQLite and PostgreSQL, with rows present; run again after an interruption, it completes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contactcenter.cli import migrate
from contactcenter.db import Database
from tests.conftest import psql
from tests.services import PostgresServer

NOW = "2026-11-30 10:00:00"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'mig.db'}"
    pg: PostgresServer = request.getfixturevalue("pg_server")
    name = f"mig_{request.node.name.split('[')[0][-20:]}".lower()
    psql(pg, f"DROP DATABASE IF EXISTS {name}")
    psql(pg, f"CREATE DATABASE {name}")
    return pg.url(name)


async def execute(url: str, *statements: str) -> list[list[tuple[Any, ...]]]:
    """Run statements in one transaction; the rows of each SELECT."""
    db = Database(url)
    out: list[list[tuple[Any, ...]]] = []
    try:
        async with db.engine.begin() as conn:
            for sql in statements:
                res = await conn.execute(text(sql))
                out.append([tuple(r) for r in res.all()] if res.returns_rows else [])
    finally:
        await db.dispose()
    return out


async def columns(url: str) -> set[str]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return set((await conn.execute(text("SELECT * FROM conversations WHERE 1 = 0"))).keys())
    finally:
        await db.dispose()


SEED = (
    f"INSERT INTO customers (id, display_name, profile, created_at) VALUES (1, 'Ann', '{{}}', '{NOW}')",
    "INSERT INTO conversations (id, customer_id, channel, queue, status, agent_id, customer_name, last_seq,"
    f" customer_read_seq, agent_read_seq, created_at) VALUES ('c-open', 1, 'chat', 'general', 'assigned', 7, 'Ann',"
    f" 3, 2, 3, '{NOW}')",
    "INSERT INTO conversations (id, customer_id, channel, queue, status, agent_id, customer_name, last_seq,"
    f" customer_read_seq, agent_read_seq, created_at, closed_at) VALUES ('c-done', 1, 'chat', 'sales', 'closed',"
    f" 7, 'Ann', 1, 1, 0, '{NOW}', '{NOW}')",
    *(
        "INSERT INTO chat_messages (conversation_id, seq, sender_kind, sender_id, sender_name, body, private,"
        f" attachments, client_id, created_at) VALUES ('{conv}', {seq}, 'customer', 1, 'Ann', 'm{seq}', false, '[]',"
        f" 'k{conv}{seq}', '{NOW}')"
        for conv, last in (("c-open", 3), ("c-done", 1))
        for seq in range(1, last + 1)
    ),
)
CHECK = (
    "SELECT conversation_id, last_seq, customer_read_seq, agent_read_seq, closed FROM chat_threads"
    " ORDER BY conversation_id",
    "SELECT conversation_id, count(*) FROM chat_messages GROUP BY conversation_id ORDER BY conversation_id",
    "SELECT id, status, queue, agent_id, outcome FROM conversations ORDER BY id",
)
EXPECTED = [
    [("c-done", 1, 1, 0, True), ("c-open", 3, 2, 3, False)],
    [("c-done", 1), ("c-open", 3)],
    [("c-done", "closed", "sales", 7, None), ("c-open", "assigned", "general", 7, None)],
]


def _normal(rows: list[list[tuple[Any, ...]]]) -> list[list[tuple[Any, ...]]]:
    return [
        [tuple(bool(v) if i == 4 and len(r) == 5 and q == 0 else v for i, v in enumerate(r)) for r in t]
        for q, t in enumerate(rows)
    ]


def test_chat_columns_move_to_chat_threads_with_nothing_lost(url: str) -> None:
    migrate(url, "0009")
    asyncio.run(execute(url, *SEED))
    migrate(url)
    assert _normal(asyncio.run(execute(url, *CHECK))) == EXPECTED
    assert {"last_seq", "customer_read_seq", "agent_read_seq"}.isdisjoint(asyncio.run(columns(url)))
    assert {"outcome", "outcome_note"} <= asyncio.run(columns(url))


def test_an_interrupted_upgrade_completes_when_run_again(url: str) -> None:
    migrate(url, "0009")
    asyncio.run(execute(url, *SEED))
    # As if 0010 stopped after creating chat_threads and copying one thread (SQLite runs DDL outside a
    # transaction): the rerun copies the rest, keeps what was copied and finishes the schema.
    asyncio.run(
        execute(
            url,
            "CREATE TABLE chat_threads (conversation_id VARCHAR(36) NOT NULL PRIMARY KEY REFERENCES conversations(id)"
            " ON DELETE CASCADE, last_seq INTEGER NOT NULL, customer_read_seq INTEGER NOT NULL, agent_read_seq INTEGER"
            " NOT NULL, closed BOOLEAN NOT NULL)",
            "INSERT INTO chat_threads VALUES ('c-open', 3, 2, 3, false)",
        )
    )
    migrate(url)
    assert _normal(asyncio.run(execute(url, *CHECK))) == EXPECTED
    migrate(url)  # and at head, again: nothing changes
    assert _normal(asyncio.run(execute(url, *CHECK))) == EXPECTED

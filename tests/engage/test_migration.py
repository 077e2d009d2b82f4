"""Migration 0034 on SQLite and PostgreSQL: engage_sessions with at most one open session per visitor (the
partial unique index the beacon's upsert relies on), any number of closed ones; csat_ratings gains
declined_at, its rows kept; run again it changes nothing; downgrading drops only those, the rows stay."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError

from alembic import command
from contactcenter.cli import alembic_config, migrate
from tests.conversations.test_migration import NOW, execute, url

__all__ = ["url"]  # the fixture: a fresh database on each backend

CUSTOMER = f"INSERT INTO customers (id, display_name, profile, created_at) VALUES (1, 'Ann', '{{}}', '{NOW}')"
RATING = (
    "INSERT INTO csat_ratings (conversation_id, customer_id, agent_id, queue, channel, score, comment, asked_at,"
    f" rated_at) VALUES ('c-1', 1, 7, 'general', 'chat', 3, 'ok', '{NOW}', '{NOW}')"
)
SESSION = (
    "INSERT INTO engage_sessions (customer_id, started_at, last_seen, pages, product_pages, is_open)"
    f" VALUES (1, '{NOW}', '{NOW}', 2, 1, {{open}})"
)


def test_sessions_one_open_per_visitor_csat_declined_at_and_both_undone_on_downgrade(url: str) -> None:
    migrate(url, "0032")
    asyncio.run(execute(url, CUSTOMER, RATING))
    migrate(url)
    got = asyncio.run(execute(url, "SELECT conversation_id, score, declined_at FROM csat_ratings"))
    assert got == [[("c-1", 3, None)]]
    asyncio.run(execute(url, SESSION.format(open="false"), SESSION.format(open="false"), SESSION.format(open="true")))
    with pytest.raises(IntegrityError):  # a second open session for the same visitor
        asyncio.run(execute(url, SESSION.format(open="true")))
    migrate(url)  # at head, again: nothing changes
    rows = asyncio.run(execute(url, "SELECT count(*) FROM engage_sessions"))
    assert rows == [[(3,)]]
    command.downgrade(alembic_config(url), "0032")  # type: ignore[arg-type]
    assert asyncio.run(execute(url, "SELECT id FROM customers")) == [[(1,)]]
    assert asyncio.run(execute(url, "SELECT conversation_id, score FROM csat_ratings")) == [[("c-1", 3)]]
    with pytest.raises(Exception, match="declined_at"):
        asyncio.run(execute(url, "SELECT declined_at FROM csat_ratings"))
    with pytest.raises(Exception, match="engage_sessions"):
        asyncio.run(execute(url, "SELECT count(*) FROM engage_sessions"))

"""Migration 0034 adds engage_sessions on SQLite and PostgreSQL: at most one open session per visitor (the
partial unique index the beacon's upsert relies on), any number of closed ones; run again it changes
nothing; downgrading drops only that table."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError

from alembic import command
from contactcenter.cli import alembic_config, migrate
from tests.conversations.test_migration import NOW, execute, url

__all__ = ["url"]  # the fixture: a fresh database on each backend

CUSTOMER = f"INSERT INTO customers (id, display_name, profile, created_at) VALUES (1, 'Ann', '{{}}', '{NOW}')"
SESSION = (
    "INSERT INTO engage_sessions (customer_id, started_at, last_seen, pages, product_pages, is_open)"
    f" VALUES (1, '{NOW}', '{NOW}', 2, 1, {{open}})"
)


def test_engage_sessions_one_open_per_visitor_and_dropped_on_downgrade(url: str) -> None:
    migrate(url, "0032")
    asyncio.run(execute(url, CUSTOMER))
    migrate(url)
    asyncio.run(execute(url, SESSION.format(open="false"), SESSION.format(open="false"), SESSION.format(open="true")))
    with pytest.raises(IntegrityError):  # a second open session for the same visitor
        asyncio.run(execute(url, SESSION.format(open="true")))
    migrate(url)  # at head, again: nothing changes
    rows = asyncio.run(execute(url, "SELECT count(*) FROM engage_sessions"))
    assert rows == [[(3,)]]
    command.downgrade(alembic_config(url), "0032")  # type: ignore[arg-type]
    assert asyncio.run(execute(url, "SELECT id FROM customers")) == [[(1,)]]
    with pytest.raises(Exception, match="engage_sessions"):
        asyncio.run(execute(url, "SELECT count(*) FROM engage_sessions"))

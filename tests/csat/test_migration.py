"""Migration 0030 adds csat_ratings to a database with conversations in it, on SQLite and PostgreSQL: the
rows are untouched, its score check and primary key hold, run again it changes nothing, and downgrading
drops only that table."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError

from alembic import command
from contactcenter.cli import alembic_config, migrate
from tests.conversations.test_migration import NOW, execute, url

__all__ = ["url"]  # the fixture: a fresh database on each backend

SEED = (
    f"INSERT INTO customers (id, display_name, profile, created_at) VALUES (1, 'Ann', '{{}}', '{NOW}')",
    "INSERT INTO conversations (id, customer_id, channel, queue, status, agent_id, customer_name, created_at,"
    f" closed_at) VALUES ('c-1', 1, 'chat', 'general', 'closed', 7, 'Ann', '{NOW}', '{NOW}')",
)
RATE = (
    "INSERT INTO csat_ratings (conversation_id, customer_id, agent_id, queue, channel, score, comment, asked_at,"
    " rated_at) VALUES ('c-1', 1, 7, 'general', 'chat', {score}, 'ok', '{now}', '{now}')"
)
TABLES = "SELECT count(*) FROM csat_ratings"


def test_csat_ratings_added_checked_and_dropped_on_downgrade(url: str) -> None:
    migrate(url, "0028")
    asyncio.run(execute(url, *SEED))
    migrate(url)
    for bad in (0, 6):
        with pytest.raises(IntegrityError):
            asyncio.run(execute(url, RATE.format(score=bad, now=NOW)))
    asyncio.run(execute(url, RATE.format(score=4, now=NOW)))
    with pytest.raises(IntegrityError):  # one row per conversation
        asyncio.run(execute(url, RATE.format(score=5, now=NOW)))
    migrate(url)  # at head, again: nothing changes
    assert asyncio.run(execute(url, "SELECT conversation_id, score FROM csat_ratings")) == [[("c-1", 4)]]
    command.downgrade(alembic_config(url), "0028")  # type: ignore[arg-type]
    assert asyncio.run(execute(url, "SELECT id, status FROM conversations")) == [[("c-1", "closed")]]
    with pytest.raises(Exception, match="csat_ratings"):
        asyncio.run(execute(url, TABLES))

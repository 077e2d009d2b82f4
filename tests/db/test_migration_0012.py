"""Migration 0012 (visitor limits), on SQLite and PostgreSQL with rows present: attachments already stored
count as sent (the sweep never takes them), customers gain an empty contact_email; run again, nothing changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from contactcenter.cli import migrate
from tests.conftest import psql
from tests.conversations.test_migration import execute
from tests.services import PostgresServer

NOW = "2026-12-01 10:00:00"
SEED = (
    f"INSERT INTO customers (id, display_name, profile, created_at) VALUES (1, 'Ann', '{{}}', '{NOW}')",
    "INSERT INTO conversations (id, customer_id, channel, queue, status, customer_name, created_at)"
    f" VALUES ('c-1', 1, 'chat', 'general', 'closed', 'Ann', '{NOW}')",
    "INSERT INTO chat_attachments (id, conversation_id, uploader_kind, uploader_id, filename, content_type, size,"
    f" data, created_at) VALUES ('a-1', 'c-1', 'customer', 1, 'x.png', 'image/png', 3, 'abc', '{NOW}')",
)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'mig11.db'}"
    pg: PostgresServer = request.getfixturevalue("pg_server")
    psql(pg, "DROP DATABASE IF EXISTS mig_0012")
    psql(pg, "CREATE DATABASE mig_0012")
    return pg.url("mig_0012")


def test_stored_attachments_stay_and_customers_gain_an_empty_contact_email(url: str) -> None:
    migrate(url, "0011")
    asyncio.run(execute(url, *SEED))
    for _ in range(2):  # and once more at head: nothing changes
        migrate(url)
        sent, contact = asyncio.run(
            execute(url, "SELECT id, sent FROM chat_attachments", "SELECT id, contact_email FROM customers")
        )
        assert [(i, bool(s)) for i, s in sent] == [("a-1", True)]
        assert contact == [(1, None)]

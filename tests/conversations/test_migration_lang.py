"""Migration 0011 adds conversations.lang to a database with conversations in it, on SQLite and PostgreSQL;
the rows are untouched, run again it changes nothing, and downgrading drops only that column."""

from __future__ import annotations

import asyncio

from alembic import command
from contactcenter.cli import alembic_config, migrate
from tests.conversations.test_migration import NOW, columns, execute, url

__all__ = ["url"]  # the fixture: a fresh database on each backend

SEED = (
    f"INSERT INTO customers (id, display_name, profile, created_at) VALUES (1, 'Ann', '{{}}', '{NOW}')",
    "INSERT INTO conversations (id, customer_id, channel, queue, status, customer_name, page_url, created_at)"
    f" VALUES ('c-1', 1, 'chat', 'general', 'queued', 'Ann', 'https://www.bank.example/', '{NOW}')",
)
ROWS = "SELECT id, customer_name, page_url, lang FROM conversations ORDER BY id"


def test_lang_is_added_with_rows_kept_and_dropped_on_downgrade(url: str) -> None:
    migrate(url, "0010")
    asyncio.run(execute(url, *SEED))
    assert "lang" not in asyncio.run(columns(url))
    migrate(url)
    assert asyncio.run(execute(url, ROWS)) == [[("c-1", "Ann", "https://www.bank.example/", None)]]
    asyncio.run(execute(url, "UPDATE conversations SET lang = 'fr-CA' WHERE id = 'c-1'"))
    migrate(url)  # at head, again: nothing changes
    assert asyncio.run(execute(url, ROWS)) == [[("c-1", "Ann", "https://www.bank.example/", "fr-CA")]]
    command.downgrade(alembic_config(url), "0010")  # type: ignore[arg-type]
    assert "lang" not in asyncio.run(columns(url))
    assert asyncio.run(execute(url, "SELECT id, page_url FROM conversations")) == [
        [("c-1", "https://www.bank.example/")]
    ]

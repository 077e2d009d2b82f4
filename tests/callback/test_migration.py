"""Migration 0018 adds callback_requests on SQLite and PostgreSQL: the seat and idempotency constraints hold
in the database itself, and downgrading drops only that table."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError

from alembic import command
from contactcenter.cli import alembic_config, migrate
from tests.conversations.test_migration import NOW, execute, url

__all__ = ["url"]  # the fixture: a fresh database on each backend

COLS = (
    "id, reference, customer_id, idempotency_key, name, mode, queue, slot_start, slot_seat, status, due_at,"
    " window_end, attempts, created_at"
)


def row(n: int, key: str, seat: int) -> str:
    return (
        f"INSERT INTO callback_requests ({COLS}) VALUES ('00000000-0000-0000-0000-00000000000{n}', 'CB-{n}', 1,"
        f" '{key}', 'Ann', 'phone', 'general', '{NOW}', {seat}, 'booked', '{NOW}', '{NOW}', 0, '{NOW}')"
    )


def test_callback_requests_is_added_with_its_constraints_and_dropped_on_downgrade(url: str) -> None:
    migrate(url)
    customer = f"INSERT INTO customers (id, display_name, profile, created_at) VALUES (1, 'Ann', '{{}}', '{NOW}')"
    asyncio.run(execute(url, customer, row(1, "key-1", 0), row(2, "key-2", 1)))
    for clash in (row(3, "key-1", 2), row(4, "key-4", 0)):  # a reused key; a seat taken twice
        with pytest.raises(IntegrityError):
            asyncio.run(execute(url, clash))
    rows = asyncio.run(execute(url, "SELECT idempotency_key, slot_seat FROM callback_requests ORDER BY id"))
    assert rows == [[("key-1", 0), ("key-2", 1)]]
    command.downgrade(alembic_config(url), "0017")  # type: ignore[arg-type]
    assert asyncio.run(execute(url, "SELECT id FROM customers")) == [[(1,)]]
    with pytest.raises(Exception, match="callback_requests"):
        asyncio.run(execute(url, "SELECT 1 FROM callback_requests"))

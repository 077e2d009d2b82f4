"""PostgreSQL connections: a pooled connection that died while idle is replaced before use (the pool no
longer pings on every checkout), and reads outside a transaction really run without one."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from contactcenter.db import Database, engine
from tests.conftest import _fresh_pg, psql
from tests.services import PostgresServer


@pytest.fixture
async def pg_db(pg_server: PostgresServer, pg_template: str) -> Database:
    return Database(_fresh_pg(pg_server, pg_template))


async def _pid(db: Database) -> int:
    async with db.reader() as s:
        return int((await s.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_killed_while_idle_is_replaced_on_checkout(
    pg_db: Database, pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        first = await _pid(pg_db)
        psql(pg_server, f"SELECT pg_terminate_backend({first})")  # what a PostgreSQL restart does to it
        monkeypatch.setattr(engine, "PING_IDLE_S", 0.0)  # it has been idle "long enough"
        second = await _pid(pg_db)  # would raise "connection was closed" without the ping
        assert second != first
    finally:
        await pg_db.dispose()


async def test_a_connection_used_just_now_is_not_pinged(pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    pings: list[object] = []
    dialect = pg_db.engine.sync_engine.dialect
    monkeypatch.setattr(dialect, "do_ping", lambda conn: pings.append(conn) or True)
    try:
        for _ in range(3):
            await _pid(pg_db)
        assert pings == []  # three round trips saved on each of these checkouts
        monkeypatch.setattr(engine, "PING_IDLE_S", 0.0)
        await _pid(pg_db)
        assert len(pings) == 1
    finally:
        await pg_db.dispose()


async def test_the_reader_runs_each_statement_on_its_own(pg_db: Database) -> None:
    q = text("SELECT pg_current_xact_id()::text")
    try:
        async with pg_db.reader() as s:
            a, b = (await s.execute(q)).scalar_one(), (await s.execute(q)).scalar_one()
        assert a != b  # two transactions: no BEGIN ... ROLLBACK around the reads
        async with pg_db.session() as s:
            a, b = (await s.execute(q)).scalar_one(), (await s.execute(q)).scalar_one()
        assert a == b  # a session still holds one transaction
    finally:
        await pg_db.dispose()

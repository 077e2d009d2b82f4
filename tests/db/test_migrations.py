"""Alembic upgrades an empty database to a schema that matches the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

import contactcenter.models
from contactcenter.cli import migrate
from contactcenter.db import Base, Database
from tests.conftest import psql
from tests.services import PostgresServer


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    pg: PostgresServer = request.getfixturevalue("pg_server")
    psql(pg, "CREATE DATABASE mig_empty")
    return pg.url("mig_empty")


def test_upgrade_from_empty_matches_models(empty_url: str) -> None:
    migrate(empty_url)
    import asyncio

    async def diff() -> list[object]:
        db = Database(empty_url)
        try:
            async with db.engine.connect() as conn:

                def cmp(sync: Connection) -> list[object]:
                    ctx = MigrationContext.configure(sync, opts={"include_object": contactcenter.models.modelled})
                    return list(compare_metadata(ctx, Base.metadata))

                version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
                assert version is not None
                return await conn.run_sync(cmp)
        finally:
            await db.dispose()

    assert asyncio.run(diff()) == []


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await db.dispose()

"""Alembic environment: URL from settings (or the caller), metadata from every capability's models."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Connection

import contactcenter.models  # registers every table on Base.metadata
from alembic import context
from contactcenter.db import Base
from contactcenter.db.engine import make_engine
from contactcenter.settings import get_settings

config = context.config
url = config.attributes.get("database_url") or get_settings().database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=contactcenter.models.modelled,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = make_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_main())

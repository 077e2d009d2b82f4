"""Routing's start-up on a fresh database, by several processes at the same moment."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from contactcenter.bus.memory import MemoryBus
from contactcenter.db import Database
from contactcenter.routing import service as routing
from contactcenter.routing.models import RoutingQueue


async def test_processes_starting_together_both_load_the_one_default_queue(db: Database) -> None:
    """Each process creates the default queue when there is none; the one that loses the race must read the
    winner's row instead of failing its start-up (it used to exit with a unique-key error)."""
    buses = [MemoryBus(), MemoryBus(), MemoryBus()]

    async def start(bus: MemoryBus) -> None:
        async with db.session() as s:
            await routing.load(s, bus)

    await asyncio.gather(*(start(b) for b in buses))
    async with db.session() as s:
        ids = list(await s.scalars(select(RoutingQueue.id)))
    assert ids == [routing.DEFAULT_QUEUE]
    for b in buses:
        assert [q.id for q in await routing.of(b).backend.queues()] == [routing.DEFAULT_QUEUE]

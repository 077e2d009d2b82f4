"""The interim router: least-loaded available agent, never two agents for one conversation."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from contactcenter.bus import Bus
from contactcenter.bus.redis import RedisBus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import CustomerCreate
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.models import Conversation
from contactcenter.channels.chat.schemas import StartIn
from contactcenter.db import Database
from contactcenter.routing import service as routing
from tests.services import RedisServer


def test_choose_agent_prefers_least_loaded_then_lowest_id_within_capacity() -> None:
    assert routing.choose_agent({3, 1, 2}, {1: 2, 2: 1, 3: 1}, capacity=4) == 2
    assert routing.choose_agent({1, 2}, {1: 4, 2: 4}, capacity=4) is None
    assert routing.choose_agent(set(), {}, capacity=4) is None
    assert routing.choose_agent({5}, {}, capacity=1) == 5


async def _customers(db: Database, n: int) -> list[int]:
    async with db.session() as s:
        return [
            (await ccr.create_customer(s, data=CustomerCreate(display_name=f"C{i}"), region="GB")).id for i in range(n)
        ]


async def test_start_routes_to_available_agents_and_queues_the_rest(db: Database, bus: Bus) -> None:
    await routing.set_available(bus, agent_id=7)
    await routing.set_available(bus, agent_id=8)
    people = await _customers(db, 5)
    async with db.session() as s:
        convs = [
            await chat.start_conversation(s, bus, customer_id=c, data=StartIn(), capacity=2, region="GB")
            for c in people
        ]
    assert [c.status for c in convs].count("assigned") == 4 and convs[-1].status == "queued"
    assert sorted(c.agent_id for c in convs if c.agent_id) == [7, 7, 8, 8]
    # Starting again returns the customer's open chat, not a new one.
    async with db.session() as s:
        again = await chat.start_conversation(s, bus, customer_id=people[0], data=StartIn(), capacity=2, region="GB")
    assert again.id == convs[0].id
    await routing.set_available(bus, agent_id=9)
    async with db.session() as s:
        claimed = await chat.claim_queued(s, bus, agent_id=9, capacity=2)
    assert claimed == [convs[-1].id]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_two_routers_racing_never_assign_one_conversation_twice(db: Database, redis_server: RedisServer) -> None:
    buses = [RedisBus(redis_server.url), RedisBus(redis_server.url)]
    await buses[0].client.flushall()
    people = await _customers(db, 40)
    async with db.session() as s:
        convs = [
            await chat.start_conversation(s, buses[0], customer_id=c, data=StartIn(), capacity=100, region="GB")
            for c in people
        ]
    assert all(c.status == "queued" for c in convs)
    wins: list[tuple[str, int]] = []

    async def agent(agent_id: int, bus: Bus) -> None:
        # Both "processes" claim and route the same queue at the same time.
        db2 = Database(db.url)
        async with db2.session() as s:
            for conv in convs:
                if await chat.assign(s, bus, conversation_id=conv.id, agent_id=agent_id):
                    wins.append((conv.id, agent_id))
        await db2.dispose()

    await asyncio.gather(*(agent(a, buses[a % 2]) for a in range(1, 7)))
    assert sorted(c for c, _ in wins) == sorted(c.id for c in convs)
    async with db.session() as s:
        rows = {c.id: c.agent_id for c in await s.scalars(select(Conversation))}
    assert all(rows[c] == a for c, a in wins)
    for b in buses:
        await b.close()

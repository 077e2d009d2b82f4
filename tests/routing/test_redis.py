"""What only the Redis backend has: concurrent calls batched into one pipeline, the script reloaded after a
SCRIPT FLUSH, and routing.lua's indexes (idle lists per room mask, waiting counts) kept exact."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable

import pytest

from contactcenter.bus.redis import RedisBus
from contactcenter.routing.model import EPS, AgentSpec, Channel, ContactSpec, QueueSpec, RoutingError, State
from contactcenter.routing.redis import RedisRouting
from tests.services import RedisServer

BITS = {"voice": 1, "chat": 2, "callback": 4, "email": 8}


@pytest.fixture
async def rr(redis_server: RedisServer) -> AsyncIterator[RedisRouting]:
    bus = RedisBus(redis_server.url)
    await bus.client.flushall()
    yield RedisRouting(bus.client, offer_s=10)
    await bus.close()


async def test_concurrent_calls_share_a_connection_and_keep_their_own_answers(rr: RedisRouting) -> None:
    await rr.add_queue(QueueSpec("sales", {"sales": 1}))
    for aid in range(1, 6):
        await rr.add_agent(AgentSpec(aid, {"sales": 1}), now=0)
        await rr.heartbeat(aid, now=aid, ttl_s=1000)
    before = (await rr.client.info("stats"))["total_connections_received"]
    calls: list[Awaitable[object]] = [
        rr.enqueue(ContactSpec(f"c{i}", "sales", Channel.chat), now=10 + i) for i in range(40)
    ]
    calls.append(rr.enqueue(ContactSpec("x", "nope", Channel.chat), now=60))
    calls.append(rr.accept(1, "not-offered", now=60))
    got = await asyncio.gather(*calls, return_exceptions=True)
    # One pipeline: at most one new connection for 42 concurrent calls (one each without batching).
    assert (await rr.client.info("stats"))["total_connections_received"] - before <= 1
    offers = [o for r in got[:40] if isinstance(r, list) for o in r]
    assert len(offers) == 20  # 5 agents x 4 chats
    assert [type(r) for r in got[:40]].count(list) == 40
    assert isinstance(got[40], RoutingError) and got[40].code == "queue_not_found"
    assert isinstance(got[41], RoutingError) and got[41].code == "offer_withdrawn"
    assert [q.waiting for q in await rr.queue_views()] == [20]


async def test_the_script_is_loaded_again_after_script_flush(rr: RedisRouting) -> None:
    await rr.add_queue(QueueSpec("sales", {"sales": 1}))
    await rr.add_agent(AgentSpec(1, {"sales": 1}), now=0)
    await rr.client.script_flush()
    assert await rr.heartbeat(1, now=1, ttl_s=100) == []
    await rr.client.script_flush()
    got = await asyncio.gather(*(rr.enqueue(ContactSpec(f"c{i}", "sales", Channel.chat), now=2) for i in range(6)))
    assert sum(len(o) for o in got) == 4


async def test_idle_lists_and_waiting_counts_stay_exact(rr: RedisRouting) -> None:
    rng = random.Random(3)
    queues = [QueueSpec("a", {"x": 1}), QueueSpec("b", {"y": 1}), QueueSpec("c", {"x": 2})]
    for q in queues:
        await rr.add_queue(q)
    for aid in range(1, 9):
        skills = {"x": rng.randint(1, 2)} | ({"y": 1} if aid % 2 else {})
        await rr.add_agent(AgentSpec(aid, skills, 1.0, {"chat": 0.2} if aid % 3 == 0 else {}), now=0)
        await rr.heartbeat(aid, now=0, ttl_s=1e6)
    live: list[str] = []
    for step in range(400):
        now = 1.0 + step
        roll = rng.random()
        try:
            if roll < 0.45:
                ch = rng.choice(list(Channel))
                await rr.enqueue(ContactSpec(f"c{step}", rng.choice(queues).id, ch, rng.randint(0, 2)), now=now)
                live.append(f"c{step}")
            elif roll < 0.7 and live:
                await rr.finish(live.pop(rng.randrange(len(live))), now=now)
            elif roll < 0.8 and live:
                view = await rr.contact(rng.choice(live))
                if view and view.status == "offered" and view.agent is not None:
                    if rng.random() < 0.5:
                        await rr.accept(view.agent, view.id, now=now)
                    else:
                        await rr.decline(view.agent, view.id, now=now)
            elif roll < 0.85 and live:
                await rr.transfer(rng.choice(live), now=now, queue=rng.choice(queues).id)
            elif roll < 0.95:
                state = rng.choice([State.available, State.away, State.wrap_up, State.available])
                await rr.set_state(rng.randint(1, 8), state, now=now, until=now + 5)
            else:
                await rr.tick(now=now + 30)
        except RoutingError:
            pass  # transfers of contacts not assigned, and the like: refused, nothing changes
        await check_indexes(rr)


async def check_indexes(rr: RedisRouting) -> None:
    """rt:i:<queue>|<mask> holds each available agent once per queue under its current room mask, scored by
    its idle time; rt:wn counts exactly what rt:w:<queue>|<channel> holds."""
    c = rr.client
    want: dict[str, dict[str, float]] = {}
    for aid in await c.smembers("rt:agents"):
        h = await c.hgetall(f"rt:a:{aid}")
        if h["st"] != "available":
            continue
        w, load, cap = json.loads(h["w"]), float(h["load"]), float(h["cap"])
        mask = sum(bit for ch, bit in BITS.items() if load + w[ch] <= cap + EPS)
        for q in json.loads(h["qs"]) if mask else []:
            want.setdefault(f"rt:i:{q}|{mask}", {})[aid] = float(h["idle"])
    have = {k: dict(await c.zrange(k, 0, -1, withscores=True)) for k in await c.keys("rt:i:*")}
    assert {k: v for k, v in have.items() if v} == want
    counts = {f: int(n) for f, n in (await c.hgetall("rt:wn")).items()}
    sizes = {k.removeprefix("rt:w:"): await c.zcard(k) for k in await c.keys("rt:w:*")}
    assert counts == {k: n for k, n in sizes.items() if n}


async def test_state_of_the_per_queue_and_channel_version_is_upgraded(rr: RedisRouting) -> None:
    await rr.add_queue(QueueSpec("sales", {"sales": 1}))
    for aid in (1, 2):
        await rr.add_agent(AgentSpec(aid, {"sales": 1}, capacity=0.25), now=0)
        await rr.heartbeat(aid, now=aid, ttl_s=1000)
    [o1], [o2] = [await rr.enqueue(ContactSpec(c, "sales", Channel.chat), now=5) for c in ("a", "b")]
    assert await rr.enqueue(ContactSpec("waits", "sales", Channel.chat), now=6) == []
    await rr.set_state(2, State.away, now=7)  # gives "b" back: it waits too
    # Rewrite it as the older script left it: idle lists per (queue, channel) named in the agent's "ix",
    # no waiting counts, no room masks, no version.
    c = rr.client
    await c.delete("rt:wn", "rt:v", *await c.keys("rt:i:*"))
    await c.hdel("rt:a:1", "mk")
    await c.hdel("rt:a:2", "mk")
    await c.hset("rt:a:1", "ix", "[]")
    await c.hset("rt:a:2", "ix", '["sales|email"]')
    await c.zadd("rt:i:sales|email", {"2": 1.0})
    fresh = RedisRouting(c, offer_s=10)
    agent, offers = await fresh.finish(o1.contact_id, now=8)
    assert (agent, [o.contact_id for o in offers]) == (1, ["b"])  # priority 0, then arrival: "b" came first
    assert await c.exists("rt:i:sales|email") == 0
    await check_indexes(fresh)
    await fresh.set_state(2, State.available, now=9)
    await check_indexes(fresh)
    view = await fresh.contact("waits")
    assert view is not None and (view.status, view.agent) == ("offered", 2)
    assert o2.contact_id == "b"

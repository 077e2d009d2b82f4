"""Two worker processes hammer assignment through one real redis-server: no contact is ever offered twice,
none is lost, and no agent's capacity is exceeded."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

from contactcenter.bus.redis import RedisBus
from contactcenter.routing.backend import ContactView, make_backend
from contactcenter.routing.model import AgentSpec, QueueSpec
from tests.services import RedisServer

N = 400


async def test_two_processes_never_double_assign_or_lose(redis_server: RedisServer) -> None:
    bus = RedisBus(redis_server.url)
    await bus.client.flushall()
    backend = make_backend(bus, offer_s=3600)
    await backend.add_queue(QueueSpec("sales", {"sales": 1}))
    await backend.add_queue(QueueSpec("support", {"support": 1}))
    for aid in range(1, 13):
        skills = {"sales": 1} if aid % 3 == 0 else {"support": 1} if aid % 3 == 1 else {"sales": 1, "support": 1}
        await backend.add_agent(AgentSpec(aid, skills), now=time.time())
        await backend.heartbeat(aid, now=time.time(), ttl_s=3600)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.routing.hammer", redis_server.url, name, str(N), stdout=asyncio.subprocess.PIPE
        )
        for name in ("w1", "w2")
    ]
    outs = [await p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    offers = [json.loads(line) for out, _ in outs for line in out.decode().splitlines()]
    offered = Counter(o["contact"] for o in offers)
    assert max(offered.values()) == 1, "a contact was offered twice"
    # Both workers took offers for the other's contacts: the race was real.
    assert {o["by"] for o in offers if not o["contact"].startswith(o["by"])} == {"w1", "w2"}
    # Offers reach whoever made the decision, so a contact left waiting when its worker finished is still
    # queued in Redis, not lost: everything is either offered once or waiting.
    waiting = {c.id for q in ("sales", "support") for c in await _waiting(bus, q)}
    assert set(offered) | waiting == {f"{w}-{i}" for w in ("w1", "w2") for i in range(N)}
    assert not set(offered) & waiting
    for view in await backend.agents():
        assert view.load <= view.capacity + 1e-9
    await bus.close()


async def _waiting(bus: RedisBus, queue: str) -> list[ContactView]:
    backend = make_backend(bus, offer_s=1)
    views = [await backend.contact(i) for i in await bus.client.zrange(f"rt:wt:{queue}", 0, -1)]
    return [v for v in views if v is not None and v.status == "queued"]

"""A worker process for the two-process routing test: enqueue contacts, accept what it is offered, finish
some, in 4 concurrent lanes; print one JSON line per offer received (`python -m tests.routing.hammer URL NAME N`)."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

from contactcenter.bus.redis import RedisBus
from contactcenter.routing.backend import make_backend
from contactcenter.routing.model import Channel, ContactSpec, Offer

LANES = 4


async def main(url: str, name: str, n: int) -> None:
    bus = RedisBus(url)
    backend = make_backend(bus, offer_s=3600)
    rng = random.Random(name)
    held: list[str] = []

    async def took(offers: list[Offer]) -> None:
        for o in offers:
            print(json.dumps({"contact": o.contact_id, "agent": o.agent_id, "by": name}), flush=True)
            await backend.accept(o.agent_id, o.contact_id, now=time.time())
            held.append(o.contact_id)

    async def lane(first: int) -> None:
        for i in range(first, n, LANES):
            ch = rng.choice([Channel.chat, Channel.chat, Channel.voice, Channel.email])
            spec = ContactSpec(f"{name}-{i}", rng.choice(["sales", "support"]), ch, rng.randint(0, 2))
            await took(await backend.enqueue(spec, now=time.time()))
            while held and rng.random() < 0.5:
                _, offers = await backend.finish(held.pop(rng.randrange(len(held))), now=time.time())
                await took(offers)
        # Drain: finish everything this worker holds until nothing more comes its way.
        while held:
            _, offers = await backend.finish(held.pop(), now=time.time())
            await took(offers)

    # Start together, so the two processes really race (one could otherwise be done before the other starts).
    if await bus.client.incr("hammer:ready") == 2:
        await bus.client.rpush("hammer:go", 1, 1)
    await bus.client.blpop(["hammer:go"], timeout=60)
    # Concurrent lanes, as an app process serves many requests at once (the backend batches their calls).
    await asyncio.gather(*(lane(k) for k in range(LANES)))
    await bus.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))

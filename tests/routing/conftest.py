"""A routing backend per test: the in-process core, or Redis (routing.lua) on the session's redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from contactcenter.bus import Bus
from contactcenter.bus.memory import MemoryBus
from contactcenter.bus.redis import RedisBus
from contactcenter.routing.backend import RoutingBackend, make_backend


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[RoutingBackend]:
    bus: Bus
    if request.param == "memory":
        bus = MemoryBus()
    else:
        bus = RedisBus(request.getfixturevalue("redis_server").url)
        await bus.client.flushall()
    yield make_backend(bus, offer_s=10)
    await bus.close()

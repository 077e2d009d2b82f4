"""One routing interface, two backends (like contactcenter/bus): the in-process core for one process, and
Redis (one Lua script) where several app processes must agree. Every mutation returns the offers it made;
the service tells the agents about them."""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contactcenter.routing.model import DEFAULT_WEIGHTS, AgentSpec, Channel, ContactSpec, Offer, QueueSpec, State

if TYPE_CHECKING:
    from contactcenter.bus import Bus


@dataclass(frozen=True)
class AgentView:
    id: int
    state: State  # busy when available and holding contacts
    reason: str
    until: float
    load: float
    capacity: float
    held: dict[str, str] = field(default_factory=dict)  # contact id -> offered | assigned
    queues: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueView:
    id: str
    waiting: int
    oldest_at: float | None


@dataclass(frozen=True)
class ContactView:
    id: str
    queue: str
    channel: Channel
    status: str
    agent: int | None
    position: int
    enqueued_at: float


def weights_of(spec: AgentSpec) -> dict[str, float]:
    return {ch.value: spec.weight(ch) for ch in DEFAULT_WEIGHTS}


def skills_json(skills: dict[str, int]) -> str:
    return json.dumps(dict(sorted(skills.items())))


class RoutingBackend(abc.ABC):
    name: str

    @abc.abstractmethod
    async def add_queue(self, spec: QueueSpec) -> None: ...

    @abc.abstractmethod
    async def queues(self) -> list[QueueSpec]: ...

    @abc.abstractmethod
    async def add_agent(self, spec: AgentSpec, *, now: float, held: Sequence[ContactSpec] = ()) -> list[Offer]:
        """Create or update an agent's skills, capacity and weights (a new agent starts offline); `held`:
        contacts the agent holds in their owner's records that routing does not know (after a restart)."""

    @abc.abstractmethod
    async def set_state(
        self, agent_id: int, state: State, *, now: float, reason: str = "", until: float = 0.0
    ) -> list[Offer]: ...

    @abc.abstractmethod
    async def heartbeat(self, agent_id: int, *, now: float, ttl_s: float) -> list[Offer]: ...

    @abc.abstractmethod
    async def enqueue(self, spec: ContactSpec, *, now: float) -> list[Offer]: ...

    @abc.abstractmethod
    async def accept(self, agent_id: int, contact_id: str, *, now: float) -> Offer: ...

    @abc.abstractmethod
    async def decline(self, agent_id: int, contact_id: str, *, now: float) -> list[Offer]: ...

    @abc.abstractmethod
    async def finish(self, contact_id: str, *, now: float) -> tuple[int | None, list[Offer]]: ...

    @abc.abstractmethod
    async def transfer(
        self, contact_id: str, *, now: float, queue: str | None = None, agent_id: int | None = None
    ) -> list[Offer]: ...

    @abc.abstractmethod
    async def tick(self, *, now: float) -> list[Offer]: ...

    @abc.abstractmethod
    async def agent(self, agent_id: int) -> AgentView | None: ...

    @abc.abstractmethod
    async def agents(self) -> list[AgentView]: ...

    @abc.abstractmethod
    async def contact(self, contact_id: str) -> ContactView | None: ...

    @abc.abstractmethod
    async def queue_views(self) -> list[QueueView]: ...

    @abc.abstractmethod
    async def record_handle(self, queue: str, seconds: float) -> None:
        """Remember how long a contact of this queue took (for estimated wait times)."""

    @abc.abstractmethod
    async def handle_times(self, queue: str) -> list[float]: ...


def make_backend(bus: Bus, *, offer_s: float) -> RoutingBackend:
    """The Redis backend shares the bus's Redis connection; the memory bus gets the in-process core."""
    from contactcenter.bus.redis import RedisBus

    if isinstance(bus, RedisBus):
        from contactcenter.routing.redis import RedisRouting

        return RedisRouting(bus.client, offer_s=offer_s)
    from contactcenter.routing.memory import MemoryRouting

    return MemoryRouting(offer_s=offer_s)

"""In-process routing backend: the core as is (one process, no awaits inside a decision)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence

from contactcenter.routing.backend import AgentView, ContactView, QueueView, RoutingBackend
from contactcenter.routing.core import Router
from contactcenter.routing.model import AgentSpec, ContactSpec, Offer, QueueSpec, State

HANDLE_SAMPLES = 200


class MemoryRouting(RoutingBackend):
    name = "memory"

    def __init__(self, *, offer_s: float = 20.0) -> None:
        self.core = Router(offer_s=offer_s)
        self.handles: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=HANDLE_SAMPLES))

    async def add_queue(self, spec: QueueSpec) -> None:
        self.core.add_queue(spec)

    async def queues(self) -> list[QueueSpec]:
        return list(self.core.queues.values())

    async def add_agent(self, spec: AgentSpec, *, now: float, held: Sequence[ContactSpec] = ()) -> list[Offer]:
        return self.core.add_agent(spec, now=now, held=held)

    async def set_state(
        self, agent_id: int, state: State, *, now: float, reason: str = "", until: float = 0.0
    ) -> list[Offer]:
        return self.core.set_state(agent_id, state, now=now, reason=reason, until=until)

    async def heartbeat(self, agent_id: int, *, now: float, ttl_s: float) -> list[Offer]:
        return self.core.heartbeat(agent_id, now=now, ttl_s=ttl_s)

    async def enqueue(self, spec: ContactSpec, *, now: float) -> list[Offer]:
        return self.core.enqueue(spec, now=now)

    async def accept(self, agent_id: int, contact_id: str, *, now: float) -> Offer:
        return self.core.accept(agent_id, contact_id, now=now)

    async def decline(self, agent_id: int, contact_id: str, *, now: float) -> list[Offer]:
        return self.core.decline(agent_id, contact_id, now=now)

    async def finish(self, contact_id: str, *, now: float) -> tuple[int | None, list[Offer]]:
        return self.core.finish(contact_id, now=now)

    async def transfer(
        self, contact_id: str, *, now: float, queue: str | None = None, agent_id: int | None = None
    ) -> list[Offer]:
        return self.core.transfer(contact_id, now=now, queue=queue, agent_id=agent_id)

    async def tick(self, *, now: float) -> list[Offer]:
        return self.core.tick(now=now)

    def _view(self, agent_id: int) -> AgentView:
        a = self.core.agents[agent_id]
        held = {cid: self.core.contacts[cid].status for cid in a.held}
        return AgentView(agent_id, self.core.status(a), a.reason, a.until, a.load, a.spec.capacity, held, a.queues)

    async def agent(self, agent_id: int) -> AgentView | None:
        return self._view(agent_id) if agent_id in self.core.agents else None

    async def agents(self) -> list[AgentView]:
        return [self._view(a) for a in sorted(self.core.agents)]

    async def contact(self, contact_id: str) -> ContactView | None:
        c = self.core.contacts.get(contact_id)
        if c is None:
            return None
        pos = self.core.position(contact_id)
        return ContactView(c.spec.id, c.spec.queue, c.spec.channel, c.status, c.agent, pos, c.enqueued_at)

    async def queue_views(self) -> list[QueueView]:
        out = []
        for q in self.core.queues:
            waiting = [c for c in self.core.contacts.values() if c.status == "queued" and c.spec.queue == q]
            out.append(QueueView(q, len(waiting), min((c.enqueued_at for c in waiting), default=None)))
        return out

    async def record_handle(self, queue: str, seconds: float) -> None:
        self.handles[queue].append(seconds)

    async def handle_times(self, queue: str) -> list[float]:
        return list(self.handles[queue])

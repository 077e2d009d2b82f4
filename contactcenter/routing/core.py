"""The routing core: queues, skills, agent states, weighted capacity, offers. Pure: no I/O and no clock
(every call takes `now`), so it is unit- and property-tested directly, and the memory backend is this
class behind a lock. The Redis backend (redis.lua) implements the same rules in one Lua script.

Every decision is O(log n): per (queue, channel) sorted lists of waiting contacts keyed by
(-priority, arrival seq), and per (queue, channel) heaps of agents keyed by (idle since, id). The heaps are
lazy: an entry whose agent has since been offered work (new idle time), left `available` or filled up is
dropped when it reaches the top, so a decision touches only what it needs.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sortedcontainers import SortedList

from contactcenter.routing.model import (
    EPS,
    AgentSpec,
    Channel,
    ContactSpec,
    Offer,
    QueueSpec,
    RoutingError,
    State,
    qualifies,
)

MISSED = "missed offer"


@dataclass
class _Agent:
    spec: AgentSpec
    queues: tuple[str, ...] = ()
    state: State = State.offline
    reason: str = ""
    until: float = 0.0  # wrap-up end
    present_until: float = 0.0
    idle_since: float = 0.0
    load: float = 0.0
    held: dict[str, float] = field(default_factory=dict)  # contact id -> weight (offered or assigned)
    indexed: set[tuple[str, Channel]] = field(default_factory=set)  # heaps holding its current entry
    w: dict[Channel, float] = field(default_factory=dict)  # weights, resolved once per profile

    def fits(self, ch: Channel) -> bool:
        return self.load + self.w[ch] <= self.spec.capacity + EPS


@dataclass
class _Contact:
    spec: ContactSpec
    seq: int
    enqueued_at: float
    status: str = "queued"  # queued | offered | assigned
    agent: int | None = None
    deadline: float = 0.0
    declined: set[int] = field(default_factory=set)

    @property
    def key(self) -> tuple[int, int, str]:
        return (-self.spec.priority, self.seq, self.spec.id)


class Router:
    """One process's routing state; every mutation returns the offers it made."""

    def __init__(self, *, offer_s: float = 20.0) -> None:
        self.offer_s = offer_s
        self.queues: dict[str, QueueSpec] = {}
        self.agents: dict[int, _Agent] = {}
        self.contacts: dict[str, _Contact] = {}
        self.waiting: dict[tuple[str, Channel], SortedList] = {}
        self.idle: dict[tuple[str, Channel], list[tuple[float, int]]] = {}
        self.live: defaultdict[tuple[str, Channel], int] = defaultdict(int)
        self.timers = SortedList()  # (time, kind, id): offer deadlines, wrap-up ends, presence expiry
        self.seq = 0

    # --- configuration -------------------------------------------------------------------------------

    def add_queue(self, spec: QueueSpec) -> None:
        self.queues[spec.id] = spec
        for ch in Channel:
            self.waiting.setdefault((spec.id, ch), SortedList())
            self.idle.setdefault((spec.id, ch), [])
        for a in self.agents.values():
            self._unindex(a)
            a.queues = self._queues_for(a.spec)
            self._reindex(a)

    def _queues_for(self, spec: AgentSpec) -> tuple[str, ...]:
        return tuple(q.id for q in self.queues.values() if qualifies(spec.skills, q.skills))

    def add_agent(self, spec: AgentSpec, *, now: float, held: Sequence[ContactSpec] = ()) -> list[Offer]:
        """Create or update an agent; `held`: contacts their owner's records say the agent holds, counted
        against their capacity before anything is offered (unless routing already knows them)."""
        a = self.agents.get(spec.id)
        if a is None:
            a = self.agents[spec.id] = _Agent(spec=spec, idle_since=now)
        self._unindex(a)
        a.spec, a.queues = spec, self._queues_for(spec)
        a.w = {ch: spec.weight(ch) for ch in Channel}
        for h in held:
            if h.id not in self.contacts and h.queue in self.queues:
                self.seq += 1
                c = self.contacts[h.id] = _Contact(spec=h, seq=self.seq, enqueued_at=now)
                c.status, c.agent = "assigned", spec.id
                a.held[h.id] = a.w[h.channel]
                a.load += a.held[h.id]
        self._reindex(a)
        return self._fill(a, now)

    # --- agent state ---------------------------------------------------------------------------------

    def agent(self, agent_id: int) -> _Agent:
        a = self.agents.get(agent_id)
        if a is None:
            raise RoutingError("agent_not_found", f"agent {agent_id} has no routing profile")
        return a

    def set_state(
        self, agent_id: int, state: State, *, now: float, reason: str = "", until: float = 0.0
    ) -> list[Offer]:
        """Move an agent; leaving `available` gives their pending offers back to the queue."""
        if state is State.busy:
            raise RoutingError("bad_state", "busy follows from the contacts an agent holds; it cannot be set")
        a = self.agent(agent_id)
        self._untime(a)
        self._unindex(a)
        was = a.state
        a.state, a.reason, a.until = state, reason, (until if state is State.wrap_up else 0.0)
        if state is State.wrap_up:
            self.timers.add((a.until, "w", str(agent_id)))
        if state is not State.offline and a.present_until > now:
            self.timers.add((a.present_until, "p", str(agent_id)))
        if state is State.available and was is not State.available:
            a.idle_since = now
        offers: list[Offer] = []
        if state is not State.available:
            for cid in [c for c, _ in a.held.items() if self.contacts[c].status == "offered"]:
                offers += self._give_back(self.contacts[cid], now, decline=False)
        self._reindex(a)
        return offers + self._fill(a, now)

    def heartbeat(self, agent_id: int, *, now: float, ttl_s: float) -> list[Offer]:
        """The agent's console is alive for `ttl_s` more; an offline agent comes back available."""
        a = self.agent(agent_id)
        # Always drop the old expiry: it may have passed without a tick having fired it yet.
        self.timers.discard((a.present_until, "p", str(agent_id)))
        a.present_until = now + ttl_s
        if a.state is State.offline:
            return self.set_state(agent_id, State.available, now=now)
        self.timers.add((a.present_until, "p", str(agent_id)))
        return []

    def _untime(self, a: _Agent) -> None:
        self.timers.discard((a.until, "w", str(a.spec.id)))
        self.timers.discard((a.present_until, "p", str(a.spec.id)))

    def routable(self, a: _Agent) -> bool:
        return a.state is State.available

    def _unindex(self, a: _Agent) -> None:
        """Its entries go stale (its idle time or queues change); they are dropped when they surface."""
        for key in a.indexed:
            self.live[key] -= 1
        a.indexed = set()

    def _reindex(self, a: _Agent) -> None:
        """Add the agent to every heap of a (queue, channel) it now has room for and is not in yet."""
        if not self.routable(a):
            return
        for q in a.queues:
            for ch in Channel:
                key = (q, ch)
                if key not in a.indexed and a.fits(ch):
                    heap = self.idle[key]
                    heapq.heappush(heap, (a.idle_since, a.spec.id))
                    a.indexed.add(key)
                    self.live[key] += 1
                    if len(heap) > 2 * self.live[key] + 64:
                        self._compact(key)

    def _compact(self, key: tuple[str, Channel]) -> None:
        # Stale entries pile up in heaps nobody pops; rebuild one when it is mostly stale (amortised O(1)).
        heap = [e for e in self.idle[key] if e[0] == self.agents[e[1]].idle_since and key in self.agents[e[1]].indexed]
        heapq.heapify(heap)
        self.idle[key] = heap

    # --- contacts ------------------------------------------------------------------------------------

    def enqueue(self, spec: ContactSpec, *, now: float) -> list[Offer]:
        """A new contact: offer it to the longest-idle eligible agent, or wait in its queue."""
        if spec.queue not in self.queues:
            raise RoutingError("queue_not_found", f"no queue {spec.queue!r}")
        if spec.id in self.contacts:
            raise RoutingError("contact_exists", f"contact {spec.id} is already routed")
        self.seq += 1
        c = self.contacts[spec.id] = _Contact(spec=spec, seq=self.seq, enqueued_at=now)
        return self._place(c, now)

    def _place(self, c: _Contact, now: float) -> list[Offer]:
        a = self._choose_agent(c)
        if a is None:
            c.status, c.agent = "queued", None
            self.waiting[(c.spec.queue, c.spec.channel)].add(c.key)
            return []
        return [self._offer(c, a, now)]

    def _choose_agent(self, c: _Contact) -> _Agent | None:
        key = (c.spec.queue, c.spec.channel)
        heap, skipped, found = self.idle[key], [], None
        while heap:
            idle, aid = heap[0]
            a = self.agents[aid]
            if idle != a.idle_since or key not in a.indexed:
                heapq.heappop(heap)  # stale: the agent has a newer entry, or none belongs here
            elif not self.routable(a) or not a.fits(c.spec.channel):
                heapq.heappop(heap)
                a.indexed.discard(key)
                self.live[key] -= 1
            elif aid in c.declined:
                skipped.append(heapq.heappop(heap))
            else:
                found = a
                break
        for e in skipped:
            heapq.heappush(heap, e)
        return found

    def _choose_contact(self, a: _Agent) -> _Contact | None:
        best: _Contact | None = None
        for q in a.queues:
            for ch in Channel:
                if not a.fits(ch):
                    continue
                for key in self.waiting[(q, ch)]:
                    c = self.contacts[key[2]]
                    if a.spec.id not in c.declined:
                        if best is None or c.key < best.key:
                            best = c
                        break
        return best

    def _offer(self, c: _Contact, a: _Agent, now: float) -> Offer:
        self.waiting[(c.spec.queue, c.spec.channel)].discard(c.key)
        c.status, c.agent, c.deadline = "offered", a.spec.id, now + self.offer_s
        if a.spec.auto_accept:
            c.status = "assigned"
        else:
            self.timers.add((c.deadline, "o", c.spec.id))
        a.held[c.spec.id] = a.w[c.spec.channel]
        self._unindex(a)
        a.load += a.held[c.spec.id]
        a.idle_since = now
        self._reindex(a)
        return Offer(c.spec.id, a.spec.id, c.spec.queue, c.spec.channel, c.deadline, c.status == "assigned")

    def _fill(self, a: _Agent, now: float) -> list[Offer]:
        offers = []
        while self.routable(a):
            c = self._choose_contact(a)
            if c is None:
                break
            offers.append(self._offer(c, a, now))
        return offers

    def _free(self, a: _Agent, cid: str) -> None:
        a.load = max(0.0, a.load - a.held.pop(cid, 0.0))
        self._reindex(a)

    def _give_back(self, c: _Contact, now: float, *, decline: bool) -> list[Offer]:
        """An offer ends without acceptance: the contact goes back with its place, to someone else first."""
        assert c.agent is not None
        a = self.agents[c.agent]
        self.timers.discard((c.deadline, "o", c.spec.id))
        if decline:
            c.declined.add(a.spec.id)
        self._free(a, c.spec.id)
        return self._place(c, now)

    def contact(self, contact_id: str) -> _Contact:
        c = self.contacts.get(contact_id)
        if c is None:
            raise RoutingError("contact_not_found", f"no routed contact {contact_id}")
        return c

    def _own_offer(self, agent_id: int, contact_id: str) -> _Contact:
        c = self.contacts.get(contact_id)
        if c is None or c.status != "offered":
            raise RoutingError("offer_withdrawn", f"contact {contact_id} is not on offer any more")
        if c.agent != agent_id:
            raise RoutingError("offer_not_yours", f"contact {contact_id} is offered to another agent")
        return c

    def accept(self, agent_id: int, contact_id: str, *, now: float) -> Offer:
        """The agent takes the contact they were offered."""
        c = self._own_offer(agent_id, contact_id)
        self.timers.discard((c.deadline, "o", c.spec.id))
        c.status = "assigned"
        return Offer(c.spec.id, agent_id, c.spec.queue, c.spec.channel, c.deadline, True)

    def decline(self, agent_id: int, contact_id: str, *, now: float) -> list[Offer]:
        """The agent turns the offer down: the next agent gets it, the agent gets other work."""
        c = self._own_offer(agent_id, contact_id)
        return self._give_back(c, now, decline=True) + self._fill(self.agents[agent_id], now)

    def finish(self, contact_id: str, *, now: float) -> tuple[int | None, list[Offer]]:
        """The contact ends (handled, abandoned or closed): it leaves routing, its agent's room frees up.
        Returns the agent who held it (None if it was still waiting) and the offers that follow."""
        c = self.contacts.pop(contact_id, None)
        if c is None:
            return None, []
        if c.status == "queued":
            self.waiting[(c.spec.queue, c.spec.channel)].discard(c.key)
            return None, []
        self.timers.discard((c.deadline, "o", c.spec.id))
        assert c.agent is not None
        a = self.agents[c.agent]
        self._free(a, contact_id)
        return a.spec.id, self._fill(a, now)

    def transfer(
        self, contact_id: str, *, now: float, queue: str | None = None, agent_id: int | None = None
    ) -> list[Offer]:
        """Move an assigned contact to a queue (keeping its place) or straight to an agent with room."""
        c = self.contact(contact_id)
        if c.status != "assigned":
            raise RoutingError("not_assigned", f"contact {contact_id} is not with an agent")
        if queue is not None and queue not in self.queues:
            raise RoutingError("queue_not_found", f"no queue {queue!r}")
        target = self.agent(agent_id) if agent_id is not None else None
        if target is not None and (not self.routable(target) or not target.fits(c.spec.channel)):
            raise RoutingError("agent_unavailable", f"agent {agent_id} is not available with room for this contact")
        assert c.agent is not None
        old = self.agents[c.agent]
        self._free(old, contact_id)
        if queue is not None:
            c.spec = ContactSpec(c.spec.id, queue, c.spec.channel, c.spec.priority)
        c.declined = set()
        offers = [self._offer(c, target, now)] if target is not None else self._place(c, now)
        return offers + self._fill(old, now)

    # --- time ----------------------------------------------------------------------------------------

    def tick(self, *, now: float) -> list[Offer]:
        """Expire offers (re-offer; the silent agent goes away), wrap-ups (available) and presence (offline)."""
        offers: list[Offer] = []
        while self.timers and self.timers[0][0] <= now:
            # Each timer is handled as of its own time, so a late tick replays the events in order.
            at, kind, ident = self.timers.pop(0)
            if kind == "o":
                c = self.contacts.get(ident)
                if c is not None and c.status == "offered" and c.agent is not None:
                    # An unanswered offer means nobody is at the desk: re-offer, and stop offering to them.
                    offers += self.set_state(c.agent, State.away, now=at, reason=MISSED)
            elif kind == "w":
                offers += self.set_state(int(ident), State.available, now=at)
            else:
                offers += self.set_state(int(ident), State.offline, now=at)
        return offers

    # --- reading -------------------------------------------------------------------------------------

    def position(self, contact_id: str) -> int:
        """0-based place of a waiting contact in its queue (contacts of higher priority count as ahead)."""
        c = self.contact(contact_id)
        if c.status != "queued":
            return 0
        return int(self.waiting[(c.spec.queue, c.spec.channel)].index(c.key))

    def status(self, a: _Agent) -> State:
        return State.busy if a.state is State.available and a.held else a.state

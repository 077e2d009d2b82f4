"""Routing: contacts of every channel enter here, agents' states and presence change here, and the offers the
backend makes are carried out here (auto-accepted ones handed to their channel, the others announced).

The conversations core registers one set of hooks (`register_contacts`) for every channel instead of
routing importing it: routing knows contact ids and media, the core knows what a contact is. The backend
of a bus is attached by the app's lifespan (`attach`).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus, Event
from contactcenter.http import ApiError
from contactcenter.routing.backend import RoutingBackend, make_backend
from contactcenter.routing.events import (
    TOPIC_ROUTING,
    ContactTransferred,
    OfferEnded,
    OfferMade,
    QueueChanged,
)
from contactcenter.routing.model import AgentSpec, Channel, ContactSpec, Offer, QueueSpec, RoutingError
from contactcenter.routing.models import AgentProfile, RoutingQueue
from contactcenter.routing.schemas import QueueIn, TransferIn
from contactcenter.settings import Settings

log = structlog.get_logger("routing")
DEFAULT_QUEUE = "general"
COUNTER_WINDOW_S = 86_400  # wallboard counters cover the last day

Assign = Callable[[AsyncSession, Bus, str, int], Awaitable[bool]]
Requeue = Callable[[AsyncSession, Bus, str, int | None, str | None], Awaitable[None]]
CustomerOf = Callable[[AsyncSession, str], Awaitable[int | None]]


@dataclass(frozen=True)
class Held:
    """A contact as its owner's records hold it: id, queue, medium, (when assigned) agent, and priority."""

    contact_id: str
    queue: str
    channel: Channel
    agent_id: int | None = None
    priority: int = 0


Listing = Callable[[AsyncSession], Awaitable[list[Held]]]
HeldBy = Callable[[AsyncSession, int], Awaitable[list[Held]]]


@dataclass(frozen=True)
class ContactHooks:
    """How routing reaches the records of the contacts it routes (the conversations core, for every channel)."""

    assign: Assign  # give the contact to the agent in the owner's records; False if it is gone
    requeue: Requeue  # the contact waits again (transfer), in the given queue if any: its agent is forgotten
    customer_of: CustomerOf  # whose contact this is (a visitor may only see their own)
    pending: Listing  # contacts waiting in the owner's records, oldest first
    assigned: HeldBy  # contacts this agent holds in the owner's records (routing's load after a restart)


async def customer_of(session: AsyncSession, bus: Bus, *, contact_id: str) -> int | None:
    """The customer a routed contact belongs to."""
    if _hooks is None or await of(bus).backend.contact(contact_id) is None:
        return None
    return await _hooks.customer_of(session, contact_id)


@dataclass
class Routing:
    backend: RoutingBackend
    chat_capacity: int = 4
    auto_accept: bool = True
    presence_s: float = 10.0
    wrap_up_s: float = 30.0
    targets: dict[str, int] = field(default_factory=dict)
    reentered_at: float = float("-inf")  # monotonic time of this process's last complete presence.reenter


_hooks: ContactHooks | None = None
_attached: weakref.WeakKeyDictionary[Bus, Routing] = weakref.WeakKeyDictionary()


def register_contacts(hooks: ContactHooks) -> None:
    """The owner of contacts says how they are handed to an agent and taken back (called at import)."""
    global _hooks
    _hooks = hooks


def contact_hooks() -> ContactHooks | None:
    """The registered hooks, if any."""
    return _hooks


async def has_queue(session: AsyncSession, *, queue: str) -> bool:
    """Whether the queue exists (the default one always does: start-up creates it)."""
    return queue == DEFAULT_QUEUE or await session.get(RoutingQueue, queue) is not None


def attach(bus: Bus, routing: Routing) -> None:
    """Use this routing state for everything that goes through `bus` (the app's lifespan does this)."""
    _attached[bus] = routing


def attach_configured(bus: Bus, settings: Settings) -> None:
    """The routing state the settings describe, attached to `bus`: web processes and voice workers alike."""
    backend = make_backend(bus, offer_s=settings.routing_offer_s)
    attach(
        bus,
        Routing(
            backend,
            chat_capacity=settings.chat_capacity,
            auto_accept=settings.routing_auto_accept,
            presence_s=settings.routing_presence_s,
            wrap_up_s=settings.routing_wrap_up_s,
        ),
    )


def of(bus: Bus) -> Routing:
    """The routing attached to this bus; a bare bus (scripts, tests) gets defaults on first use."""
    if bus not in _attached:
        _attached[bus] = Routing(make_backend(bus, offer_s=20.0))
    return _attached[bus]


def as_api_error(exc: RoutingError) -> ApiError:
    """A refused routing request as an HTTP error: 404 for missing things, 409 for the wrong state."""
    status = 404 if exc.code.endswith("_not_found") else 409
    return ApiError(status, exc.code, exc.detail)


async def publish(bus: Bus, events: Sequence[Event]) -> None:
    """Publish routing events after the decision."""
    # Decisions are already made and stored; a bus outage only delays the consoles' wake-up.
    for ev in events:
        try:
            await bus.publish_event(TOPIC_ROUTING, ev)
        except Exception as exc:
            log.warning("publish_failed", what=ev.type, error=repr(exc))


async def _count(bus: Bus, key: str, amount: int = 1) -> int:
    try:
        return await bus.hit(f"routing:{key}", COUNTER_WINDOW_S, amount)
    except Exception:
        return 0


async def apply_offers(session: AsyncSession, bus: Bus, offers: list[Offer]) -> list[int]:
    """Carry out the backend's offers; returns the agents who got a contact assigned at once."""
    r, assigned, events = of(bus), [], list[Event]()
    todo = list(offers)
    while todo:
        o = todo.pop(0)
        if not o.accepted:
            events.append(OfferMade(**_offer_fields(o)))
            continue
        if await _hand_over(session, bus, o):
            assigned.append(o.agent_id)
        else:  # the channel no longer has this contact: free the agent, who may get the next one
            _, more = await r.backend.finish(o.contact_id, now=time.time())
            todo += more
        events.append(QueueChanged(queue=o.queue))
    await publish(bus, events)
    return assigned


def _offer_fields(o: Offer) -> dict[str, object]:
    return {
        "contact_id": o.contact_id,
        "agent_id": o.agent_id,
        "queue": o.queue,
        "channel": o.channel,
        "deadline": o.deadline,
    }


async def _hand_over(session: AsyncSession, bus: Bus, o: Offer) -> bool:
    if _hooks is None or not await _hooks.assign(session, bus, o.contact_id, o.agent_id):
        return False
    view = await of(bus).backend.contact(o.contact_id)
    if view is not None:
        waited = time.time() - view.enqueued_at
        await _count(bus, f"answered:{o.queue}")
        if waited <= of(bus).targets.get(o.queue, 30):
            await _count(bus, f"in_target:{o.queue}")
    return True


# --- configuration -------------------------------------------------------------------------------------


async def load(session: AsyncSession, bus: Bus) -> None:
    """Give the backend every queue (creating the default one on a fresh install)."""
    rows = list(await session.scalars(select(RoutingQueue)))
    if not rows:
        session.add(RoutingQueue(id=DEFAULT_QUEUE, name="General", skills={}, target_s=30))
        try:
            await session.commit()
        except IntegrityError:  # another process starting at the same moment created it first
            await session.rollback()
        rows = list(await session.scalars(select(RoutingQueue)))
    for q in rows:
        await of(bus).backend.add_queue(QueueSpec(q.id, {k: int(v) for k, v in q.skills.items()}))
        of(bus).targets[q.id] = q.target_s


async def put_queue(session: AsyncSession, bus: Bus, *, data: QueueIn) -> RoutingQueue:
    """Create or change a queue; agents' eligibility follows at once."""
    q = await session.get(RoutingQueue, data.id)
    if q is None:
        q = RoutingQueue(id=data.id)
        session.add(q)
    q.name, q.skills, q.target_s = data.name, dict(data.skills), data.target_s
    await session.commit()
    await of(bus).backend.add_queue(QueueSpec(q.id, dict(data.skills)))
    of(bus).targets[q.id] = q.target_s
    return q


async def agent_spec(session: AsyncSession, bus: Bus, *, agent_id: int) -> AgentSpec:
    """The agent's routing profile, or the defaults (chat weight from CC_CHAT_CAPACITY)."""
    r = of(bus)
    p = await session.get(AgentProfile, agent_id, populate_existing=True)
    weights = {Channel.chat.value: 1.0 / r.chat_capacity} | (dict(p.weights) if p else {})
    if p is None:
        return AgentSpec(agent_id, {}, 1.0, weights, r.auto_accept)
    auto = r.auto_accept if p.auto_accept is None else p.auto_accept
    return AgentSpec(agent_id, {k: int(v) for k, v in p.skills.items()}, p.capacity, weights, auto)


async def put_profile(session: AsyncSession, bus: Bus, *, profile: AgentProfile) -> None:
    """Store a profile and apply it to the live agent (who may take more, or fewer, contacts now)."""
    session.add(profile)
    await session.commit()
    spec = await agent_spec(session, bus, agent_id=profile.user_id)
    await apply_offers(session, bus, await of(bus).backend.add_agent(spec, now=time.time()))


# --- contacts ------------------------------------------------------------------------------------------


async def enter(
    session: AsyncSession, bus: Bus, *, contact_id: str, channel: Channel, queue: str = DEFAULT_QUEUE, priority: int = 0
) -> int | None:
    """A contact waits for an agent; returns the agent it went to at once (auto-accept), else None."""
    offers = await of(bus).backend.enqueue(ContactSpec(contact_id, queue, channel, priority), now=time.time())
    assigned = await apply_offers(session, bus, offers)
    await publish(bus, [QueueChanged(queue=queue)])
    return assigned[0] if assigned and offers[0].contact_id == contact_id else None


async def leave(session: AsyncSession, bus: Bus, *, contact_id: str) -> None:
    """The contact is over (handled, or abandoned while waiting): its agent's room frees up."""
    r = of(bus)
    view = await r.backend.contact(contact_id)
    if view is None:
        return
    agent, offers = await r.backend.finish(contact_id, now=time.time())
    if agent is None:
        await _count(bus, f"abandoned:{view.queue}")
    else:
        await r.backend.record_handle(view.queue, max(0.0, time.time() - view.enqueued_at))
        if view.status == "offered":
            await publish(bus, [OfferEnded(contact_id=contact_id, agent_id=agent, outcome="withdrawn")])
    await apply_offers(session, bus, offers)
    await publish(bus, [QueueChanged(queue=view.queue)])


async def accept(session: AsyncSession, bus: Bus, *, agent_id: int, contact_id: str) -> None:
    """The agent takes the contact offered to them (409 if withdrawn or someone else's)."""
    try:
        o = await of(bus).backend.accept(agent_id, contact_id, now=time.time())
    except RoutingError as exc:
        raise as_api_error(exc) from exc
    if not await _hand_over(session, bus, o):
        await leave(session, bus, contact_id=contact_id)
        raise ApiError(409, "offer_withdrawn", f"contact {contact_id} ended before it was accepted")
    await publish(
        bus, [OfferEnded(contact_id=contact_id, agent_id=agent_id, outcome="accepted"), QueueChanged(queue=o.queue)]
    )


async def decline(session: AsyncSession, bus: Bus, *, agent_id: int, contact_id: str) -> None:
    """The agent turns the offer down: the next agent gets it, keeping its place in the queue."""
    try:
        offers = await of(bus).backend.decline(agent_id, contact_id, now=time.time())
    except RoutingError as exc:
        raise as_api_error(exc) from exc
    await publish(bus, [OfferEnded(contact_id=contact_id, agent_id=agent_id, outcome="declined")])
    await apply_offers(session, bus, offers)


async def transfer(
    session: AsyncSession, bus: Bus, *, contact_id: str, data: TransferIn, by: int, own_only: bool
) -> None:
    """Send an assigned contact to a queue or an agent, with a note; `own_only` for agents (not supervisors)."""
    r = of(bus)
    view = await r.backend.contact(contact_id)
    if view is None:
        raise ApiError(404, "contact_not_found", f"no routed contact {contact_id}")
    if own_only and view.agent != by:
        raise ApiError(403, "not_your_contact", "agents transfer only contacts they hold")
    try:
        offers = await r.backend.transfer(contact_id, now=time.time(), queue=data.queue, agent_id=data.agent_id)
    except RoutingError as exc:
        raise as_api_error(exc) from exc
    if _hooks is not None:  # stored with its new queue: a routing restart puts it back there
        await _hooks.requeue(session, bus, contact_id, view.agent, data.queue)
    await publish(
        bus,
        [
            ContactTransferred(
                contact_id=contact_id,
                from_agent_id=view.agent,
                to_queue=data.queue,
                to_agent_id=data.agent_id,
                note=data.note,
                by=by,
            )
        ],
    )
    await apply_offers(session, bus, offers)

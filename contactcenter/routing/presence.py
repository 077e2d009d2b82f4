"""Agents' routing state and presence: consoles coming and going, heartbeats, state changes, and the
sweeper that fires timers (offer time-outs, wrap-up ends, lapsed presence)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.db import Database
from contactcenter.http import ApiError
from contactcenter.routing.backend import AgentView
from contactcenter.routing.events import AgentStateChanged
from contactcenter.routing.model import ContactSpec, RoutingError, State
from contactcenter.routing.schemas import StateIn
from contactcenter.routing.service import agent_spec, apply_offers, as_api_error, contact_hooks, load, of, publish

log = structlog.get_logger("routing")


# A console's hello re-enters what routing forgot at most this often per process: a hundred consoles
# reconnecting at once (a process lost) each read every waiting contact and asked routing about each one.
REENTER_EVERY_S = 5.0


async def reenter(session: AsyncSession, bus: Bus, *, every_s: float = 0.0) -> int:
    """Give routing the contacts channels hold as waiting that it does not know (after a restart of the
    in-process backend or of Redis, or a routing outage). Returns how many entered. With `every_s`, skipped
    if it succeeded in this process less than that long ago, unless routing has lost its queues (then it
    restarted or was flushed: never skipped)."""
    r, n = of(bus), 0
    if not await r.backend.queues():
        await load(session, bus)
    elif every_s and time.monotonic() - r.reentered_at < every_s:
        return 0
    hooks = contact_hooks()
    for held in await hooks.pending(session) if hooks is not None else []:
        if await r.backend.contact(held.contact_id) is None:
            with contextlib.suppress(RoutingError):
                spec = ContactSpec(held.contact_id, held.queue, held.channel, held.priority)
                await apply_offers(session, bus, await r.backend.enqueue(spec, now=time.time()))
                n += 1
    r.reentered_at = time.monotonic()  # only once it got through: during an outage every console tries
    return n


async def agent_online(db: Database, bus: Bus, *, agent_id: int) -> None:
    """An agent's console connected: load their profile, mark them present (offline -> available)."""
    r = of(bus)
    async with db.session() as s:
        await reenter(s, bus, every_s=REENTER_EVERY_S)
        # Contacts the agent still holds count against their capacity, also when routing restarted and
        # forgot them (the in-process backend, a Redis flush).
        hooks = contact_hooks()
        held = [
            ContactSpec(h.contact_id, h.queue, h.channel, h.priority)
            for h in (await hooks.assigned(s, agent_id) if hooks is not None else [])
        ]
        spec = await agent_spec(s, bus, agent_id=agent_id)
        offers = await r.backend.add_agent(spec, now=time.time(), held=held)
        offers += await r.backend.heartbeat(agent_id, now=time.time(), ttl_s=r.presence_s)
        await apply_offers(s, bus, offers)
    await publish(bus, [await _state_event(bus, agent_id)])


async def heartbeat(db: Database, bus: Bus, *, agent_id: int) -> None:
    """The console is alive: renew presence; an agent who had lapsed to offline is available again."""
    r = of(bus)
    try:
        offers = await r.backend.heartbeat(agent_id, now=time.time(), ttl_s=r.presence_s)
    except RoutingError:
        return await agent_online(db, bus, agent_id=agent_id)  # e.g. a Redis restart forgot them
    if offers:
        async with db.session() as s:
            await apply_offers(s, bus, offers)


async def agent_gone(db: Database, bus: Bus, *, agent_id: int) -> None:
    """The agent's last console closed: offline now, their pending offers go to the next agents."""
    with contextlib.suppress(RoutingError):
        offers = await of(bus).backend.set_state(agent_id, State.offline, now=time.time())
        async with db.session() as s:
            await apply_offers(s, bus, offers)
        await publish(bus, [await _state_event(bus, agent_id)])


async def _state_event(bus: Bus, agent_id: int, by: int | None = None) -> AgentStateChanged:
    v = await of(bus).backend.agent(agent_id)
    return AgentStateChanged(
        agent_id=agent_id, state=v.state if v else State.offline, reason=v.reason if v else "", by=by
    )


async def set_state(session: AsyncSession, bus: Bus, *, agent_id: int, data: StateIn, by: int) -> AgentView:
    """Move an agent (themselves, or a supervisor for them); wrap-up ends by itself after `wrap_up_s`."""
    r, now = of(bus), time.time()
    until = now + (data.wrap_up_s or r.wrap_up_s) if data.state == "wrap_up" else 0.0
    try:
        offers = await r.backend.set_state(agent_id, State(data.state), now=now, reason=data.reason, until=until)
    except RoutingError as exc:
        raise as_api_error(exc) from exc
    await apply_offers(session, bus, offers)
    await publish(bus, [await _state_event(bus, agent_id, by if by != agent_id else None)])
    return await view_agent(bus, agent_id=agent_id)


async def view_agent(bus: Bus, *, agent_id: int) -> AgentView:
    """An agent's live routing state, or 404 for someone routing has never seen."""
    v = await of(bus).backend.agent(agent_id)
    if v is None:
        raise ApiError(404, "agent_not_found", f"agent {agent_id} has not been online since routing started")
    return v


async def tick(db: Database, bus: Bus) -> None:
    """Expire offers, wrap-ups and presence (every process may run this: each timer fires once)."""
    offers = await of(bus).backend.tick(now=time.time())
    if offers:
        async with db.session() as s:
            await apply_offers(s, bus, offers)


async def run_sweeper(db: Database, bus: Bus, *, every_s: float = 1.0) -> None:
    """Tick forever (a lifespan task); errors are logged and retried, never fatal."""
    me = asyncio.current_task()
    while True:
        try:
            await tick(db, bus)
        except Exception as exc:
            log.warning("routing_tick_failed", error=repr(exc))
        # A cancel that arrived inside tick() can be swallowed by a client library (the app's shutdown then
        # waited for ever on this task): honour it here.
        if me is not None and me.cancelling():
            raise asyncio.CancelledError
        await asyncio.sleep(every_s)

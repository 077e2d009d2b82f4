"""Read-only routing answers: an agent's state, a contact's place and estimated wait, the wallboard."""

from __future__ import annotations

import statistics
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import service as auth
from contactcenter.bus import Bus
from contactcenter.http import ApiError
from contactcenter.routing import service
from contactcenter.routing.backend import AgentView
from contactcenter.routing.model import State
from contactcenter.routing.models import RoutingQueue
from contactcenter.routing.schemas import AgentOut, ContactOut, EstimateOut, HeldOut, QueueStats, WallboardOut

# Below this many observed contacts an estimate would be a guess: none is given.
MIN_SAMPLES = 3


def agent_out(v: AgentView) -> AgentOut:
    held = [
        HeldOut(contact_id=c, status="offered" if s == "offered" else "assigned") for c, s in sorted(v.held.items())
    ]
    return AgentOut(
        agent_id=v.id,
        state=v.state,
        reason=v.reason,
        until=v.until or None,
        load=round(v.load, 4),
        capacity=v.capacity,
        held=held,
    )


async def estimate(bus: Bus, *, queue: str, position: int) -> EstimateOut:
    """Wait estimate from observed handle times: the contacts ahead, shared among the agents on duty for the
    queue, each taking a median handle time; the range uses the 25th and 75th percentiles."""
    backend = service.of(bus).backend
    times = sorted(await backend.handle_times(queue))
    on_duty = [a for a in await backend.agents() if queue in a.queues and a.state in (State.available, State.busy)]
    n = len(on_duty)
    if len(times) < MIN_SAMPLES or n == 0:
        return EstimateOut(position=position, agents=n, expected_s=None, low_s=None, high_s=None)
    q1, med, q3 = statistics.quantiles(times, n=4, method="inclusive")
    rounds = (position + 1) / n
    return EstimateOut(
        position=position,
        agents=n,
        expected_s=round(rounds * med, 1),
        low_s=round(rounds * q1, 1),
        high_s=round(rounds * q3, 1),
    )


async def contact(bus: Bus, *, contact_id: str) -> ContactOut:
    """A routed contact: its status, place in the queue and (while waiting) the estimated wait."""
    v = await service.of(bus).backend.contact(contact_id)
    if v is None:
        raise ApiError(404, "contact_not_found", f"no routed contact {contact_id}")
    est = await estimate(bus, queue=v.queue, position=v.position) if v.status == "queued" else None
    status = v.status if v.status in ("queued", "offered") else "assigned"
    return ContactOut(
        contact_id=v.id,
        queue=v.queue,
        channel=v.channel,
        status=status,
        agent_id=v.agent,
        position=v.position,
        waited_s=round(time.time() - v.enqueued_at, 1),
        estimate=est,
    )


async def wallboard(session: AsyncSession, bus: Bus) -> WallboardOut:
    """Per queue: waiting, longest wait, service level, abandoned; agents by state."""
    backend = service.of(bus).backend
    names = {q.id: q for q in await session.scalars(select(RoutingQueue))}
    now, stats = time.time(), []
    for qv in await backend.queue_views():
        q = names.get(qv.id)
        answered = await _read(bus, f"answered:{qv.id}")
        in_target = await _read(bus, f"in_target:{qv.id}")
        stats.append(
            QueueStats(
                queue=qv.id,
                name=q.name if q else qv.id,
                waiting=qv.waiting,
                longest_wait_s=round(now - qv.oldest_at, 1) if qv.oldest_at else 0.0,
                answered=answered,
                answered_in_target=in_target,
                service_level_pct=round(100 * in_target / answered, 1) if answered else None,
                abandoned=await _read(bus, f"abandoned:{qv.id}"),
                target_s=q.target_s if q else 30,
            )
        )
    agents = await backend.agents()
    by_state = {s: 0 for s in State}
    for a in agents:
        by_state[a.state] += 1
    people = {u.id: u.display_name for u in await auth.list_users(session)}
    outs = [agent_out(a).model_copy(update={"name": people.get(a.id)}) for a in agents]
    return WallboardOut(queues=stats, agents_by_state=by_state, agents=outs)


async def _read(bus: Bus, key: str) -> int:
    try:
        return await bus.hit(f"routing:{key}", service.COUNTER_WINDOW_S, 0)
    except Exception:
        return 0

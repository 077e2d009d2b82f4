"""The simplest routing that works: the least-loaded available agent with spare chat capacity.

The routing issue replaces this with queues, skills, priorities and offers; the chat channel only calls
`set_available`, `set_unavailable` and `choose_agent`, so that swap stays local to this package.
"""

from __future__ import annotations

from collections.abc import Mapping

from contactcenter.bus import Bus

AVAILABLE = "routing.agents.available"
# An agent's console renews this with every heartbeat; a closed tab drops out after it.
PRESENCE_TTL_S = 30.0


async def set_available(bus: Bus, *, agent_id: int, ttl_s: float = PRESENCE_TTL_S) -> None:
    """Mark an agent available for new contacts (renewed by console heartbeats)."""
    await bus.mark_present(AVAILABLE, str(agent_id), ttl_s)


async def set_unavailable(bus: Bus, *, agent_id: int) -> None:
    """Take an agent out of routing at once (console closed, state changed)."""
    await bus.mark_absent(AVAILABLE, str(agent_id))


async def available_agents(bus: Bus) -> set[int]:
    """Agents available right now, across every process."""
    return {int(a) for a in await bus.present(AVAILABLE)}


def choose_agent(candidates: set[int], loads: Mapping[int, int], *, capacity: int) -> int | None:
    """Least-loaded candidate under capacity; ties go to the lowest id so the choice is stable."""
    best: tuple[int, int] | None = None
    for agent in candidates:
        load = loads.get(agent, 0)
        if load < capacity and (best is None or (load, agent) < best):
            best = (load, agent)
    return None if best is None else best[1]

"""Routing over the websocket: agents set their state and answer offers; routing events reach the agent
they concern and every supervisor's socket (the wallboard)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from pydantic import TypeAdapter, ValidationError

from contactcenter.bus import Bus
from contactcenter.db import Database
from contactcenter.http import ApiError
from contactcenter.realtime.connection import Connection
from contactcenter.realtime.schemas import AgentStateIn, OfferAnswer, RoutingFrame
from contactcenter.routing import presence
from contactcenter.routing import service as routing
from contactcenter.routing.events import AgentStateChanged, ContactTransferred, OfferEnded, OfferMade, QueueChanged
from contactcenter.routing.schemas import StateIn

if TYPE_CHECKING:
    from contactcenter.realtime.hub import Hub

log = structlog.get_logger("realtime.routing")
RoutingEvent = OfferMade | OfferEnded | AgentStateChanged | ContactTransferred | QueueChanged
_event: TypeAdapter[RoutingEvent] = TypeAdapter(RoutingEvent)


async def handle(conn: Connection, db: Database, bus: Bus, frame: AgentStateIn | OfferAnswer) -> None:
    """Carry out an agent's routing frame; a refusal is an error frame (the socket stays open)."""
    ref = frame.contact_id if isinstance(frame, OfferAnswer) else frame.type
    if not conn.is_agent or conn.who.role == "planner":
        conn.fail("forbidden", "only agents have a routing state and offers", ref=ref)
        return
    try:
        async with db.session() as s:
            if isinstance(frame, AgentStateIn):
                data = StateIn(state=frame.state, reason=frame.reason, wrap_up_s=frame.wrap_up_s)
                await presence.set_state(s, bus, agent_id=conn.who.id, data=data, by=conn.who.id)
            elif frame.type == "offer_accept":
                await routing.accept(s, bus, agent_id=conn.who.id, contact_id=frame.contact_id)
            else:
                await routing.decline(s, bus, agent_id=conn.who.id, contact_id=frame.contact_id)
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=ref)


def relay(hub: Hub, data: str) -> None:
    """Push a routing event to the sockets it concerns (this process's only; every process does this)."""
    try:
        event = _event.validate_json(data)
    except ValidationError:
        log.warning("bad_event_on_bus", size=len(data))
        return
    agents: set[int | None] = set()
    if isinstance(event, OfferMade | OfferEnded | AgentStateChanged):
        agents.add(event.agent_id)
    elif isinstance(event, ContactTransferred):
        agents |= {event.from_agent_id, event.to_agent_id}
    targets = set(hub.watchers)
    for agent_id in agents:
        if agent_id is not None:
            targets |= hub.agents.get(agent_id, set())
    frame = RoutingFrame(event=event)
    for conn in targets:
        conn.push(frame)

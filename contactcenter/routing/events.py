"""Events routing publishes (after the decision is made in the backend). Consoles and the wallboard get
them through the real-time hub; they are wake-ups, GET /api/routing/* is the record."""

from __future__ import annotations

from typing import Literal

from contactcenter.bus import Event
from contactcenter.routing.model import Channel, State

TOPIC_ROUTING = "routing.events"


class OfferMade(Event):
    type: Literal["routing.offer"] = "routing.offer"
    contact_id: str
    agent_id: int
    queue: str
    channel: Channel
    deadline: float


class OfferEnded(Event):
    """An offer is over: accepted, declined, timed out or withdrawn (the contact left or the agent dropped)."""

    type: Literal["routing.offer_ended"] = "routing.offer_ended"
    contact_id: str
    agent_id: int
    outcome: Literal["accepted", "declined", "withdrawn"]


class AgentStateChanged(Event):
    type: Literal["routing.agent_state"] = "routing.agent_state"
    agent_id: int
    state: State
    reason: str
    by: int | None = None  # the supervisor who moved them, if not themselves


class ContactTransferred(Event):
    type: Literal["routing.transfer"] = "routing.transfer"
    contact_id: str
    from_agent_id: int | None
    to_queue: str | None
    to_agent_id: int | None
    note: str
    by: int


class QueueChanged(Event):
    """Something on the wallboard moved (a contact waits, is answered or abandoned)."""

    type: Literal["routing.queue"] = "routing.queue"
    queue: str

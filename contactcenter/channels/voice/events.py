"""What voice publishes on the real-time topic: the hub's generic Push carrying a call's state to its
customer, its agent and the supervisors following the conversation."""

from __future__ import annotations

from pydantic import BaseModel

from contactcenter.realtime.events import Audience, Push


def to_call(conversation_id: str, *, customer_id: int, agent_id: int | None, frame: BaseModel) -> Push:
    to = Audience(conversation_id=conversation_id, customer_id=customer_id, agent_id=agent_id, supervisors="following")
    return Push(to=to, frame=frame.model_dump_json())

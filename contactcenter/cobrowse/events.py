"""What co-browse publishes on the real-time topic: the hub's generic Push carrying co-browse's frames,
addressed to one side of one conversation and never to supervisors (a page is between its two people)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from contactcenter.realtime.events import Audience, Push

Side = Literal["customer", "agent", "both"]


def to_side(conversation_id: str, *, customer_id: int, agent_id: int | None, side: Side, frame: BaseModel) -> Push:
    """A frame for the conversation's customer, its agent, or both; a socket that has since heard the
    conversation went to another agent drops it (owner_check)."""
    to = Audience(
        conversation_id=conversation_id,
        customer_id=customer_id if side in ("customer", "both") else None,
        agent_id=agent_id if side in ("agent", "both") else None,
        supervisors="none",
    )
    return Push(to=to, owner_check=True, frame=frame.model_dump_json())

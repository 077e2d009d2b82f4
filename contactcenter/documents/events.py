"""What documents publish on the real-time topic: the hub's generic Push carrying its frames, to one side
of one conversation (a push is between its customer and its agent: supervisors are not sent it)."""

from __future__ import annotations

from pydantic import BaseModel

from contactcenter.conversations.schemas import ConversationOut
from contactcenter.realtime.events import Audience, Push


def to_customer(conv: ConversationOut, frame: BaseModel) -> Push:
    to = Audience(conversation_id=conv.id, customer_id=conv.customer_id, agent_id=None, supervisors="none")
    return Push(to=to, frame=frame.model_dump_json())


def to_agent(conv: ConversationOut, frame: BaseModel) -> Push:
    """A socket that has since heard the conversation went to another agent drops it (owner_check)."""
    to = Audience(conversation_id=conv.id, customer_id=None, agent_id=conv.agent_id, supervisors="none")
    return Push(to=to, owner_check=True, frame=frame.model_dump_json())

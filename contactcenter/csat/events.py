"""What CSAT publishes: the ask, as the hub's generic Push to the conversation's customer only (a rating is
theirs: neither the agent nor supervisors are sent the frame)."""

from __future__ import annotations

from contactcenter.conversations.schemas import ConversationOut
from contactcenter.csat.schemas import CsatAsk
from contactcenter.realtime.events import Audience, Push


def ask_push(conv: ConversationOut, agent_name: str | None) -> Push:
    to = Audience(conversation_id=conv.id, customer_id=conv.customer_id, agent_id=None, supervisors="none")
    frame = CsatAsk(conversation_id=conv.id, channel=conv.channel, agent_name=agent_name)
    return Push(to=to, frame=frame.model_dump_json())

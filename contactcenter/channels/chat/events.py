"""Events the chat channel publishes on the real-time topic, after each commit."""

from __future__ import annotations

from typing import Literal

from contactcenter.bus import Event
from contactcenter.channels.chat.schemas import ConversationOut, MessageOut

# One topic for every real-time event: each process's hub fans out to its own sockets by the ids inside.
TOPIC_REALTIME = "rt.events"


class MessagePosted(Event):
    type: Literal["chat.message"] = "chat.message"
    customer_id: int
    agent_id: int | None
    message: MessageOut


class ConversationChanged(Event):
    type: Literal["chat.conversation"] = "chat.conversation"
    previous_agent_id: int | None = None
    conversation: ConversationOut


class Typing(Event):
    type: Literal["chat.typing"] = "chat.typing"
    conversation_id: str
    customer_id: int
    agent_id: int | None
    sender: Literal["customer", "agent"]
    name: str
    state: bool


class ReadUpTo(Event):
    type: Literal["chat.read"] = "chat.read"
    conversation_id: str
    customer_id: int
    agent_id: int | None
    reader: Literal["customer", "agent"]
    seq: int

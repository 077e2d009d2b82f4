"""What the conversations core publishes, after each commit, on its own topic."""

from __future__ import annotations

from typing import Literal

from pydantic import ValidationError

from contactcenter.bus import BusMessage, Event
from contactcenter.conversations.schemas import ConversationOut

# Conversation state changes (opened, assigned, requeued, closed) of every channel.
TOPIC_CONVERSATIONS = "conversations.events"


class ConversationChanged(Event):
    type: Literal["conversation.changed"] = "conversation.changed"
    # The agent who held it before this change (a transfer): their console drops it.
    previous_agent_id: int | None = None
    conversation: ConversationOut


def changed(msg: BusMessage) -> ConversationChanged | None:
    """The ConversationChanged a bus message carries (decoded from Redis if need be), or None."""
    if isinstance(msg.event, ConversationChanged):
        return msg.event
    try:
        return ConversationChanged.model_validate_json(msg.data)
    except ValidationError:
        return None

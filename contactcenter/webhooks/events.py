"""What webhooks publishes (subscriber changes, so every process reloads its list), and how the contact
events it hears become outbound webhook events."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, ValidationError

from contactcenter.bus import Event
from contactcenter.ccr.events import TOPIC_TOUCHES, TouchLogged
from contactcenter.conversations.events import TOPIC_CONVERSATIONS, ConversationChanged
from contactcenter.suggestions.events import TOPIC_FEEDBACK, SaleRecorded, SuggestionAccepted
from contactcenter.webhooks.schemas import EventType, Outbound

TOPIC_WEBHOOKS = "webhooks.subscribers"
HEARD_TOPICS = (TOPIC_CONVERSATIONS, TOPIC_TOUCHES, TOPIC_FEEDBACK, TOPIC_WEBHOOKS)


class SubscribersChanged(Event):
    type: Literal["webhooks.subscribers_changed"] = "webhooks.subscribers_changed"


class DeliveriesDue(Event):
    """A delivery was put back in the outbox (a replay): workers look now rather than at their next poll."""

    type: Literal["webhooks.deliveries_due"] = "webhooks.deliveries_due"


Heard = ConversationChanged | TouchLogged | SuggestionAccepted | SaleRecorded | SubscribersChanged | DeliveriesDue
_heard: TypeAdapter[Heard] = TypeAdapter(Annotated[Heard, Field(discriminator="type")])


def parse(data: str, given: Event | None) -> Heard | None:
    """The typed event of a bus message (the object itself in-process), or None for one it does not hear."""
    if isinstance(given, Heard):
        return given
    try:
        return _heard.validate_json(data)
    except ValidationError:
        return None


def outbound(ev: Heard) -> Outbound | None:
    """The webhook event for a heard event, keyed by what identifies it in every process, or None."""
    if isinstance(ev, ConversationChanged):
        c = ev.conversation
        data = c.model_dump(mode="json", exclude={"last_seq", "customer_read_seq", "agent_read_seq"})
        if c.status == "closed" and c.closed_at is not None:
            return Outbound(
                key=f"conv.closed:{c.id}", type=EventType.conversation_closed, timestamp=c.closed_at, data=data
            )
        # Opened: queued, never assigned. A requeue is also "queued" but had an agent: the key keeps one anyway.
        if c.status == "queued" and c.assigned_at is None and ev.previous_agent_id is None:
            return Outbound(
                key=f"conv.started:{c.id}", type=EventType.conversation_started, timestamp=c.created_at, data=data
            )
        return None
    if isinstance(ev, TouchLogged):
        data = ev.model_dump(mode="json", exclude={"type"})
        return Outbound(key=f"touch:{ev.touch_id}", type=EventType.touch_logged, timestamp=ev.occurred_at, data=data)
    if isinstance(ev, SuggestionAccepted):
        data = ev.model_dump(mode="json", exclude={"type"})
        stamp = ev.accepted_at
        key = f"accepted:{ev.suggestion_id}:{stamp.timestamp():.6f}"  # accepted again after a dismissal: new
        return Outbound(key=key, type=EventType.suggestion_accepted, timestamp=stamp, data=data)
    if isinstance(ev, SaleRecorded):
        data = ev.model_dump(mode="json", exclude={"type"})
        return Outbound(
            key=f"sale:{ev.suggestion_id}", type=EventType.sale_recorded, timestamp=ev.converted_at, data=data
        )
    return None

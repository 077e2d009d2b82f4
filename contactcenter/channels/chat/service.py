"""Chat conversations and messages. A message is committed (with its sequence number and CCR touch)
before anyone is told about it; the bus event is only a wake-up, the database is the record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import service as auth
from contactcenter.bus import Bus, Event
from contactcenter.ccr import service as ccr
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.channels.chat.events import TOPIC_REALTIME, ConversationChanged
from contactcenter.channels.chat.models import ChatMessage, Conversation
from contactcenter.channels.chat.schemas import (
    AttachmentRef,
    ConversationOut,
    ConversationStatus,
    MessageOut,
    SenderKind,
    StartIn,
)
from contactcenter.db import utcnow
from contactcenter.http import ApiError
from contactcenter.routing import service as routing
from contactcenter.routing.model import Channel as RoutingChannel

OPEN = (ConversationStatus.queued.value, ConversationStatus.assigned.value)
log = structlog.get_logger("chat")


async def announce(bus: Bus, event: Event) -> None:
    """Publish after the commit; a bus outage must not turn a stored message into an error for its sender
    (receivers catch up from the database when the bus is back)."""
    try:
        await bus.publish_event(TOPIC_REALTIME, event)
    except Exception as exc:
        log.warning("publish_failed", what=event.type, error=repr(exc))


async def announce_touches(bus: Bus, touches: Sequence[Touch]) -> None:
    try:
        await ccr.publish_touches(bus, touches)
    except Exception as exc:
        log.warning("publish_failed", what="ccr.touch_logged", error=repr(exc))


def conversation_out(c: Conversation) -> ConversationOut:
    return ConversationOut.model_validate(c)


def message_out(m: ChatMessage) -> MessageOut:
    return MessageOut(
        conversation_id=m.conversation_id,
        seq=m.seq,
        sender=SenderKind(m.sender_kind),
        sender_name=m.sender_name,
        body=m.body,
        private=m.private,
        attachments=[AttachmentRef.model_validate(a) for a in m.attachments],
        client_id=m.client_id,
        at=m.created_at,
    )


async def get_conversation(session: AsyncSession, *, conversation_id: str) -> Conversation:
    """The conversation, or 404."""
    conv = await session.get(Conversation, conversation_id, populate_existing=True)
    if conv is None:
        raise ApiError(404, "conversation_not_found", f"no conversation {conversation_id}")
    return conv


async def open_for_customer(session: AsyncSession, *, customer_id: int) -> list[Conversation]:
    """A customer's conversations that are not closed, oldest first."""
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.customer_id == customer_id, Conversation.status.in_(OPEN))
        .order_by(Conversation.created_at)
    )
    return list(rows)


async def open_for_agent(session: AsyncSession, *, agent_id: int) -> list[Conversation]:
    """Conversations assigned to an agent and still open, oldest first."""
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.agent_id == agent_id, Conversation.status == "assigned")
        .order_by(Conversation.created_at)
    )
    return list(rows)


async def start_conversation(
    session: AsyncSession, bus: Bus, *, customer_id: int, data: StartIn, capacity: int, region: str
) -> ConversationOut:
    """The customer's open chat, or a new one (logged in the CCR and routed; `capacity` is unused now that
    routing weighs chats against each agent's capacity)."""
    existing = await open_for_customer(session, customer_id=customer_id)
    if existing:
        return conversation_out(existing[-1])
    name = (data.name or "").strip() or ccr.VISITOR_NAME
    await ccr.fill_from_contact(session, customer_id=customer_id, name=data.name, email=data.email, region=region)
    conv = Conversation(
        id=str(uuid.uuid4()),
        customer_id=customer_id,
        customer_name=name,
        topic=data.topic,
        page_url=data.page_url,
        status="queued",
        last_seq=0,
    )
    session.add(conv)
    await session.flush()
    touch = await ccr.add_touch(
        session,
        touch=TouchIn(
            customer_id=customer_id,
            channel=Channel.chat,
            kind=TouchKind.conversation,
            direction=Direction.inbound,
            conversation_id=conv.id,
            summary=f"Chat started{': ' + data.topic if data.topic else ''}",
            payload={"name": name, "email": data.email, "page_url": data.page_url},
        ),
    )
    await session.commit()
    await announce_touches(bus, [touch])
    await announce(bus, ConversationChanged(conversation=conversation_out(conv)))
    await route(session, bus, conversation_id=conv.id, capacity=capacity)
    return conversation_out(await get_conversation(session, conversation_id=conv.id))


async def assign(session: AsyncSession, bus: Bus, *, conversation_id: str, agent_id: int) -> bool:
    """Give a queued conversation to an agent; false if someone else got it first (atomic on any backend)."""
    name = await auth.display_name(session, user_id=agent_id)
    res = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status == "queued")
        .values(status="assigned", agent_id=agent_id, agent_name=name, assigned_at=utcnow())
    )
    await session.commit()
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return False
    conv = await get_conversation(session, conversation_id=conversation_id)
    await announce(bus, ConversationChanged(conversation=conversation_out(conv)))
    return True


async def route(session: AsyncSession, bus: Bus, *, conversation_id: str, capacity: int = 0) -> int | None:
    """Hand a queued conversation to routing; the agent it went to at once (auto-accept), else None."""
    conv = await get_conversation(session, conversation_id=conversation_id)
    try:
        return await routing.enter(
            session, bus, contact_id=conversation_id, channel=RoutingChannel.chat, queue=conv.queue
        )
    except Exception as exc:  # routing down: the chat stays queued and re-enters when an agent comes online
        log.warning("routing_unavailable", error=repr(exc))
        return None


async def requeue(session: AsyncSession, bus: Bus, *, conversation_id: str, previous_agent_id: int | None) -> None:
    """A transfer: the conversation waits again (the previous agent's console drops it)."""
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status == "assigned")
        .values(status="queued", agent_id=None, agent_name=None, assigned_at=None)
    )
    await session.commit()
    conv = await get_conversation(session, conversation_id=conversation_id)
    await announce(bus, ConversationChanged(conversation=conversation_out(conv), previous_agent_id=previous_agent_id))


async def queued_ids(session: AsyncSession) -> list[tuple[str, str]]:
    """(conversation, queue) of every queued chat, oldest first (re-entered after a routing restart)."""
    rows = await session.execute(
        select(Conversation.id, Conversation.queue)
        .where(Conversation.status == "queued")
        .order_by(Conversation.created_at, Conversation.id)
    )
    return [(str(i), str(q)) for i, q in rows.all()]


async def _customer_of(session: AsyncSession, conversation_id: str) -> int | None:
    return await session.scalar(select(Conversation.customer_id).where(Conversation.id == conversation_id))


async def _assign_hook(session: AsyncSession, bus: Bus, conversation_id: str, agent_id: int) -> bool:
    return await assign(session, bus, conversation_id=conversation_id, agent_id=agent_id)


async def _requeue_hook(session: AsyncSession, bus: Bus, conversation_id: str, previous: int | None) -> None:
    await requeue(session, bus, conversation_id=conversation_id, previous_agent_id=previous)


routing.register_channel(
    RoutingChannel.chat,
    routing.ChannelHooks(assign=_assign_hook, requeue=_requeue_hook, customer_of=_customer_of, pending=queued_ids),
)


async def close_conversation(session: AsyncSession, bus: Bus, *, conversation_id: str, by: str) -> ConversationOut:
    """Close a conversation (idempotent) and log it on the customer's timeline."""
    conv = await get_conversation(session, conversation_id=conversation_id)
    if conv.status == "closed":
        return conversation_out(conv)
    conv.status, conv.closed_at = "closed", utcnow()
    touch = await ccr.add_touch(
        session,
        touch=TouchIn(
            customer_id=conv.customer_id,
            channel=Channel.chat,
            kind=TouchKind.conversation,
            direction=Direction.internal,
            agent_id=conv.agent_id,
            conversation_id=conv.id,
            summary=f"Chat closed by {by} after {conv.last_seq} messages",
            payload={"closed_by": by},
        ),
    )
    await session.commit()
    out = conversation_out(conv)
    await announce_touches(bus, [touch])
    await announce(bus, ConversationChanged(conversation=out))
    try:  # the agent's room frees up (or, if it was waiting, the queue shortens)
        await routing.leave(session, bus, contact_id=conv.id)
    except Exception as exc:
        log.warning("routing_unavailable", error=repr(exc))
    return out

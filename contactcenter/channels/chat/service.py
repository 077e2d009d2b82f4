"""Chat conversations and messages. A message is committed (with its sequence number and CCR touch)
before anyone is told about it; the bus event is only a wake-up, the database is the record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import structlog
from sqlalchemy import func, select, update
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
    """The customer's open chat, or a new one (logged in the CCR and routed)."""
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


async def _loads(session: AsyncSession, agents: set[int]) -> dict[int, int]:
    rows = await session.execute(
        select(Conversation.agent_id, func.count())
        .where(Conversation.status == "assigned", Conversation.agent_id.in_(agents))
        .group_by(Conversation.agent_id)
    )
    return {int(a): int(n) for a, n in rows.all() if a is not None}


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


async def route(session: AsyncSession, bus: Bus, *, conversation_id: str, capacity: int) -> int | None:
    """Offer a queued conversation to the least-loaded available agent; None leaves it queued."""
    try:
        candidates = await routing.available_agents(bus)
    except Exception as exc:  # bus down: the chat waits in the queue and is claimed when agents report back
        log.warning("routing_unavailable", error=repr(exc))
        return None
    for _ in range(3):
        agent = routing.choose_agent(candidates, await _loads(session, candidates), capacity=capacity)
        if agent is None:
            return None
        if await assign(session, bus, conversation_id=conversation_id, agent_id=agent):
            return agent
        conv = await get_conversation(session, conversation_id=conversation_id)
        if conv.status != "queued":
            return conv.agent_id
    return None


async def claim_queued(session: AsyncSession, bus: Bus, *, agent_id: int, capacity: int) -> list[str]:
    """An agent became available: hand them the oldest queued conversations up to capacity."""
    got: list[str] = []
    load = (await _loads(session, {agent_id})).get(agent_id, 0)
    while load + len(got) < capacity:
        oldest = await session.scalar(
            select(Conversation.id)
            .where(Conversation.status == "queued")
            .order_by(Conversation.created_at, Conversation.id)
            .limit(1)
        )
        if oldest is None:
            break
        if await assign(session, bus, conversation_id=oldest, agent_id=agent_id):
            got.append(oldest)
    return got


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
    return out

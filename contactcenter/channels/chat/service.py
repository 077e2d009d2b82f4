"""The chat channel: a chat is a conversation (conversations core) plus chat's thread of sequenced
messages. A message is committed (with its sequence number and CCR touch) before anyone is told about it;
the bus event is only a wake-up, the database is the record."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

import orjson
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus, Event
from contactcenter.ccr import service as ccr
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.channels.chat.models import ChatMessage, ChatThread
from contactcenter.channels.chat.schemas import AttachmentRef, MessageOut, SenderKind, StartIn
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut, OpenIn, Positions
from contactcenter.db import driver_fetch, driver_reads
from contactcenter.realtime.events import TOPIC_REALTIME
from contactcenter.routing.model import Channel as Medium

CHANNEL = "chat"
log = structlog.get_logger("chat")


async def announce(bus: Bus, event: Event) -> None:
    """Publish after the commit; a bus outage must not turn a stored message into an error for its sender
    (receivers catch up from the database when the bus is back)."""
    try:
        await bus.publish_event(TOPIC_REALTIME, event)
    except Exception as exc:
        log.warning("publish_failed", what=event.type, error=repr(exc))


async def announce_many(bus: Bus, events: Sequence[Event]) -> None:
    """Like announce, for a batch (one pipeline on Redis)."""
    if not events:
        return
    try:
        await bus.publish_events(TOPIC_REALTIME, events)
    except Exception as exc:
        log.warning("publish_failed", what=events[0].type, count=len(events), error=repr(exc))


async def announce_touches(bus: Bus, touches: Sequence[Touch]) -> None:
    try:
        await ccr.publish_touches(bus, touches)
    except Exception as exc:
        log.warning("publish_failed", what="ccr.touch_logged", error=repr(exc))


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


def row_message(
    conversation_id: str,
    seq: int,
    kind: str,
    name: str,
    body: str,
    private: bool,
    attachments: str | None,
    client_id: str,
    at: datetime,
) -> MessageOut:
    """A message from a driver row (attachments as JSON text): the PostgreSQL writer's and catch-up's reads."""
    return MessageOut(
        conversation_id=conversation_id,
        seq=seq,
        sender=SenderKind(kind),
        sender_name=name,
        body=body,
        private=private,
        attachments=[AttachmentRef.model_validate(a) for a in orjson.loads(attachments or "[]")],
        client_id=client_id,
        at=at,
    )


_PG_POSITIONS = (
    "SELECT conversation_id, last_seq, customer_read_seq, agent_read_seq FROM chat_threads"
    " WHERE conversation_id = ANY($1::text[])"
)


async def positions(session: AsyncSession, ids: Sequence[str]) -> Mapping[str, Positions]:
    """Each chat's numbering and read positions (the realtime hub's positions hook)."""
    if driver_reads(session):  # every socket's hello reads this: straight on the driver (reads.for_socket)
        found = await driver_fetch(session, _PG_POSITIONS, list(ids))
        return {r[0]: Positions(last_seq=r[1], customer_read_seq=r[2], agent_read_seq=r[3]) for r in found}
    t = ChatThread
    rows = await session.execute(
        select(t.conversation_id, t.last_seq, t.customer_read_seq, t.agent_read_seq).where(
            t.conversation_id.in_(list(ids))
        )
    )  # columns, not entities
    return {
        cid: Positions(last_seq=last, customer_read_seq=cust, agent_read_seq=agent) for cid, last, cust, agent in rows
    }


async def with_positions(session: AsyncSession, conv: ConversationOut) -> ConversationOut:
    found = (await positions(session, [conv.id])).get(conv.id)
    return conv.model_copy(update=found.model_dump()) if found is not None else conv


async def start_conversation(
    session: AsyncSession,
    bus: Bus,
    *,
    customer_id: int,
    data: StartIn,
    region: str,
    queue: str | None = None,
    stored: Callable[[str], Awaitable[None]] | None = None,
) -> ConversationOut:
    """The customer's open chat, or a new one (a conversation with its chat thread, logged in the CCR and
    routed). `stored(id)` runs after the commit and before the conversation is announced: the customer can
    hear of it (and start again) from then on, so bookkeeping such as the start limits' must be done by then."""
    existing = await conversations.open_for_customer(session, customer_id=customer_id, channel=CHANNEL)
    if existing:
        return await with_positions(session, existing[-1])
    name = (data.name or "").strip() or ccr.VISITOR_NAME
    await ccr.fill_from_contact(session, customer_id=customer_id, name=data.name, email=data.email, region=region)
    conv = await conversations.stage_open(
        session,
        data=OpenIn(
            customer_id=customer_id,
            channel=CHANNEL,
            customer_name=name,
            queue=queue,
            topic=data.topic,
            page_url=data.page_url,
            lang=data.lang,
        ),
    )
    session.add(ChatThread(conversation_id=conv.id, last_seq=0))
    touch = await ccr.add_touch(
        session,
        touch=TouchIn(
            customer_id=customer_id,
            channel=Channel.chat,
            kind=TouchKind.conversation,
            direction=Direction.inbound,
            conversation_id=conv.id,
            summary=f"Chat started{': ' + data.topic if data.topic else ''}",
            payload={"name": name, "email": data.email, "page_url": data.page_url, "lang": data.lang},
        ),
    )
    await session.commit()
    if stored is not None:
        await stored(conv.id)
    await announce_touches(bus, [touch])
    return await with_positions(session, await conversations.opened(session, bus, conversation=conv))


async def _on_close(session: AsyncSession, conversation_id: str) -> str | None:
    # Closed in the same transaction as the conversation: from here on the writer refuses its messages.
    last = await session.scalar(
        update(ChatThread)
        .where(ChatThread.conversation_id == conversation_id)
        .values(closed=True)
        .returning(ChatThread.last_seq)
    )
    return f"after {last} messages" if last is not None else None


conversations.register_channel(
    conversations.ChannelSpec(
        name=CHANNEL, label="Chat", medium=Medium.chat, touch_channel=Channel.chat, on_close=_on_close
    )
)

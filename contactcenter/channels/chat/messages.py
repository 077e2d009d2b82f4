"""Messages: numbered, stored with their CCR touch, then announced; read positions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.channels.chat.events import message_posted, read_up_to
from contactcenter.channels.chat.models import ChatAttachment, ChatMessage, ChatThread
from contactcenter.channels.chat.schemas import MessageFrame, MessageOut, SenderKind
from contactcenter.channels.chat.service import announce, announce_touches, message_out, row_message
from contactcenter.conversations import service as conversations
from contactcenter.db import driver_fetch, driver_reads
from contactcenter.http import ApiError
from contactcenter.realtime.channels import CATCH_UP_PAGE


async def post_message(
    session: AsyncSession,
    bus: Bus,
    *,
    conversation_id: str,
    sender: SenderKind,
    sender_id: int,
    sender_name: str,
    body: str,
    client_id: str,
    private: bool = False,
    attachment_ids: Sequence[str] = (),
) -> tuple[MessageOut, bool]:
    """Store a message with the next sequence number; returns (message, was_duplicate). Idempotent by client_id."""
    dup_q = select(ChatMessage).where(
        ChatMessage.conversation_id == conversation_id,
        ChatMessage.sender_kind == sender.value,
        ChatMessage.client_id == client_id,
    )
    found = await session.scalar(dup_q)
    if found is not None:
        return message_out(found), True
    conv = await conversations.get(session, conversation_id=conversation_id)
    if conv.status == "closed":
        raise ApiError(409, "conversation_closed", "this conversation is closed")
    refs: list[dict[str, object]] = []
    if attachment_ids:
        rows = list(
            await session.scalars(
                select(ChatAttachment).where(
                    ChatAttachment.id.in_(list(attachment_ids)),
                    ChatAttachment.conversation_id == conversation_id,
                    ChatAttachment.uploader_kind == sender.value,
                    ChatAttachment.uploader_id == sender_id,
                )
            )
        )
        if len(rows) != len(set(attachment_ids)):
            raise ApiError(422, "unknown_attachment", "an attachment is missing or not yours")
        by_id = {a.id: a for a in rows}
        for a in rows:
            a.sent = True  # committed with the message: from now on the sweep keeps it
        # In the order the sender chose, each once.
        refs = [
            {"id": a.id, "name": a.filename, "type": a.content_type, "size": a.size}
            for a in (by_id[i] for i in dict.fromkeys(attachment_ids))
        ]
    # The row update both hands out the number and serialises writers of this conversation until commit;
    # a close committed meanwhile set `closed` first, so no number is handed out after it.
    seq = await session.scalar(
        update(ChatThread)
        .where(ChatThread.conversation_id == conversation_id, ChatThread.closed.is_(False))
        .values(last_seq=ChatThread.last_seq + 1)
        .returning(ChatThread.last_seq)
        .execution_options(synchronize_session=False)
    )
    if seq is None:
        raise ApiError(409, "conversation_closed", "this conversation is closed")
    msg = ChatMessage(
        conversation_id=conversation_id,
        seq=seq,
        sender_kind=sender.value,
        sender_id=sender_id,
        sender_name=sender_name,
        body=body,
        private=private,
        attachments=refs,
        client_id=client_id,
    )
    session.add(msg)
    direction = (
        Direction.internal if private else (Direction.inbound if sender is SenderKind.customer else Direction.outbound)
    )
    try:
        await session.flush()
        touch = await ccr.add_touch(
            session,
            touch=TouchIn(
                customer_id=conv.customer_id,
                channel=Channel.chat,
                kind=TouchKind.message,
                direction=direction,
                agent_id=sender_id if sender is SenderKind.agent else None,
                conversation_id=conversation_id,
                summary=(("Note: " if private else "") + body)[:500] or "(attachment)",
                payload={"seq": seq, "attachments": len(refs)},
            ),
        )
        await session.commit()
    except IntegrityError:
        # The same client id raced in on another connection: that copy won, return it.
        await session.rollback()
        again = await session.scalar(dup_q)
        if again is None:
            raise
        return message_out(again), True
    out = message_out(msg)
    await announce_touches(bus, [touch])
    await announce(bus, message_posted(out, customer_id=conv.customer_id, agent_id=conv.agent_id))
    return out, False


_PG_AFTER = (
    "SELECT seq, sender_kind, sender_name, body, private, attachments::text, client_id, created_at"  # row_message
    " FROM chat_messages WHERE conversation_id = $1 AND seq > $2 AND (NOT private OR $3::bool)"
    " ORDER BY seq LIMIT $4"
)


async def messages_after(
    session: AsyncSession, *, conversation_id: str, after: int, include_private: bool, limit: int = 500
) -> list[MessageOut]:
    """Messages with seq > after, in order; customers never see private notes."""
    if driver_reads(session):  # a resumed socket's catch-up, a thousand at once after a process died
        rows = await driver_fetch(session, _PG_AFTER, conversation_id, after, include_private, limit)
        return [row_message(conversation_id, *row) for row in rows]
    q = select(ChatMessage).where(ChatMessage.conversation_id == conversation_id, ChatMessage.seq > after)
    if not include_private:
        q = q.where(ChatMessage.private.is_(False))
    found = await session.scalars(q.order_by(ChatMessage.seq).limit(limit))
    return [message_out(m) for m in found]


async def catch_up(
    session: AsyncSession, conversation_id: str, after: int, include_private: bool
) -> list[tuple[int, str]]:
    """The realtime hub's catch-up hook: message frames after `after`, in order."""
    found = await messages_after(
        session, conversation_id=conversation_id, after=after, include_private=include_private, limit=CATCH_UP_PAGE
    )
    return [(m.seq, MessageFrame(message=m).model_dump_json()) for m in found]


async def mark_read(session: AsyncSession, bus: Bus, *, conversation_id: str, reader: SenderKind, seq: int) -> None:
    """Remember how far a side has read (unread counts, read receipts); never moves backwards."""
    col = ChatThread.customer_read_seq if reader is SenderKind.customer else ChatThread.agent_read_seq
    res = await session.execute(
        update(ChatThread)
        .where(ChatThread.conversation_id == conversation_id, col < seq, ChatThread.last_seq >= seq)
        .values({col: seq})
    )
    await session.commit()
    if res.rowcount == 1:  # type: ignore[attr-defined]
        conv = await conversations.get(session, conversation_id=conversation_id)
        await announce(
            bus,
            read_up_to(
                conversation_id,
                customer_id=conv.customer_id,
                agent_id=conv.agent_id,
                reader="customer" if reader is SenderKind.customer else "agent",
                seq=seq,
            ),
        )

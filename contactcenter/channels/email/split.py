"""Splitting a mis-threaded message off into a new conversation of the same customer (one click in the
console). Its ids stay with it, so a later reply to it follows it into the new conversation."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.channels.email import clock
from contactcenter.channels.email.models import EmailMessage
from contactcenter.channels.email.schemas import Reason
from contactcenter.channels.email.service import CHANNEL, log
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut, OpenIn
from contactcenter.http import ApiError


async def find_message(session: AsyncSession, *, message_id: int) -> EmailMessage | None:
    return await session.get(EmailMessage, message_id)


async def split_off(
    session: AsyncSession, bus: Bus, *, message_id: int, agent_id: int, clock_policy: clock.ClockPolicy | None = None
) -> ConversationOut:
    """Move one message into a new queued conversation of its customer; 409 when it is alone already."""
    msg = await session.get(EmailMessage, message_id, with_for_update=True)
    if msg is None:
        raise ApiError(404, "email_not_found", f"no email message {message_id}")
    old = await conversations.get(session, conversation_id=msg.conversation_id)
    siblings = await session.scalar(
        select(func.count()).select_from(EmailMessage).where(EmailMessage.conversation_id == old.id)
    )
    if (siblings or 0) <= 1:
        raise ApiError(409, "nothing_to_split", "this message is the only one in its conversation")
    conv = await conversations.stage_open(
        session,
        data=OpenIn(
            customer_id=old.customer_id,
            channel=CHANNEL,
            customer_name=old.customer_name,
            queue=old.queue,
            topic=(msg.subject or "(no subject)")[:200],
        ),
    )
    msg.conversation_id, msg.reason = conv.id, Reason.split_off.value
    if clock_policy is not None:  # the customer waits for an answer in the new conversation
        await session.flush()
        await clock.stage_starts(session, rows=[msg], policy=clock_policy)
    touch = await ccr.add_touch(
        session,
        touch=TouchIn(
            customer_id=old.customer_id,
            channel=Channel.email,
            kind=TouchKind.conversation,
            direction=Direction.internal,
            agent_id=agent_id,
            conversation_id=conv.id,
            summary=f"Email split off into a new conversation: {msg.subject}"[:500],
            payload={"email_message_id": msg.id, "from_conversation": old.id},
        ),
    )
    await session.commit()
    try:
        await ccr.publish_touches(bus, [touch])
    except Exception as exc:
        log.warning("publish_failed", what="ccr.touch_logged", error=repr(exc))
    return await conversations.opened(session, bus, conversation=conv)

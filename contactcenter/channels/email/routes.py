"""Email over HTTP, for staff: a conversation's parsed messages, a message's original bytes (a download,
never rendered), splitting a mis-threaded message off, and the IMAP poller's state for supervisors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.bus import Bus
from contactcenter.channels.email import clock, service, split
from contactcenter.channels.email.models import EmailImapCursor, EmailRaw
from contactcenter.channels.email.schemas import EmailMessageOut, ImapStatusOut
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.http import ApiError, get_bus, get_session, get_settings_dep
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
Agent = Annotated[StaffPrincipal, Depends(deps.agents)]
Supervisor = Annotated[StaffPrincipal, Depends(deps.supervisors)]


async def _visible(session: AsyncSession, conversation_id: str, who: StaffPrincipal) -> ConversationOut:
    """The assigned agent, supervisors and admins see an email conversation; others get a 404."""
    conv = await conversations.find(session, conversation_id=conversation_id)
    ok = conv is not None and conv.channel == service.CHANNEL
    if conv is None or not ok or not (conv.agent_id == who.user_id or who.role.value in ("supervisor", "admin")):
        raise ApiError(404, "conversation_not_found", "no such email conversation for you")
    return conv


@router.get("/api/email/conversations/{conversation_id}/messages", response_model=list[EmailMessageOut])
async def conversation_messages(conversation_id: str, session: Session, who: Agent) -> list[EmailMessageOut]:
    await _visible(session, conversation_id, who)
    return await service.messages(session, conversation_id=conversation_id)


async def _message(session: AsyncSession, message_id: int, who: StaffPrincipal) -> tuple[int, str]:
    msg = await split.find_message(session, message_id=message_id)
    if msg is None:
        raise ApiError(404, "email_not_found", f"no email message {message_id}")
    try:
        await _visible(session, msg.conversation_id, who)
    except ApiError as exc:
        raise ApiError(404, "email_not_found", f"no email message {message_id}") from exc
    return msg.raw_id, msg.conversation_id


@router.get("/api/email/messages/{message_id}/raw")
async def raw_message(message_id: int, session: Session, who: Agent) -> Response:
    raw_id, _ = await _message(session, message_id, who)
    data = await session.scalar(select(EmailRaw.data).where(EmailRaw.id == raw_id))
    # octet-stream + attachment: the browser saves it; a mail's HTML never runs on our origin
    return Response(
        content=bytes(data or b""),
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="message-{message_id}.eml"'},
    )


@router.post("/api/email/messages/{message_id}/split", response_model=ConversationOut)
async def split_message(
    message_id: int,
    session: Session,
    bus: Annotated[Bus, Depends(get_bus)],
    who: Agent,
    settings: Annotated[Settings, Depends(get_settings_dep)],
) -> ConversationOut:
    await _message(session, message_id, who)
    policy = clock.policy_of(settings)
    return await split.split_off(session, bus, message_id=message_id, agent_id=who.user_id, clock_policy=policy)


@router.get("/api/email/imap", response_model=list[ImapStatusOut])
async def imap_status(
    session: Session, _who: Annotated[StaffPrincipal, Depends(deps.supervisors)]
) -> list[ImapStatusOut]:
    """Each polled mailbox: how far it is stored and finished, when it was last read, its last error."""
    rows = await session.scalars(select(EmailImapCursor).order_by(EmailImapCursor.mailbox))
    return [ImapStatusOut.model_validate(r) for r in rows]

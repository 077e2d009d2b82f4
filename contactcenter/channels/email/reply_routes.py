"""Writing in email conversations over HTTP: the thread as the console shows it, replies (into the outbox),
notes, sending a refused reply again, and the first-response clocks (agents: theirs; supervisors: all)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.channels.email import clock, outbox, replies, service
from contactcenter.channels.email.schemas import ClockOut, NoteIn, OutgoingOut, ReplyIn, ThreadOut
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import utcnow
from contactcenter.http import ApiError, get_session, get_settings_dep
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
Agent = Annotated[StaffPrincipal, Depends(deps.agents)]
Config = Annotated[Settings, Depends(get_settings_dep)]
SUPERVISING = ("supervisor", "admin")


async def _email_conversation(session: AsyncSession, conversation_id: str) -> ConversationOut:
    conv = await conversations.find(session, conversation_id=conversation_id)
    if conv is None or conv.channel != service.CHANNEL:
        raise ApiError(404, "conversation_not_found", "no such email conversation")
    return conv


def _wake(request: Request) -> None:
    cap = getattr(request.app.state, "capabilities", {}).get(service.CHANNEL)
    if cap is not None:
        cap.wake_sender()


@router.get("/api/email/conversations/{conversation_id}/thread", response_model=ThreadOut)
async def get_thread(conversation_id: str, session: Session, who: Agent, settings: Config) -> ThreadOut:
    conv = await _email_conversation(session, conversation_id)
    if conv.agent_id != who.user_id and who.role.value not in SUPERVISING:
        raise ApiError(404, "conversation_not_found", "no such email conversation for you")
    return await replies.thread(session, conv=conv, now=utcnow(), policy=clock.policy_of(settings))


@router.post("/api/email/conversations/{conversation_id}/replies", response_model=OutgoingOut, status_code=201)
async def post_reply(
    conversation_id: str, data: ReplyIn, request: Request, session: Session, who: Agent, settings: Config
) -> OutgoingOut:
    conv = await _email_conversation(session, conversation_id)
    out = await replies.reply(session, conv=conv, who=who, data=data, from_addr=settings.email_from, now=utcnow())
    _wake(request)
    return out


@router.post("/api/email/conversations/{conversation_id}/notes", response_model=OutgoingOut, status_code=201)
async def post_note(conversation_id: str, data: NoteIn, session: Session, who: Agent) -> OutgoingOut:
    conv = await _email_conversation(session, conversation_id)
    return await replies.note(session, conv=conv, who=who, data=data, now=utcnow())


@router.post("/api/email/outgoing/{out_id}/resend", response_model=OutgoingOut)
async def resend(out_id: int, request: Request, session: Session, who: Agent) -> OutgoingOut:
    row = await replies.find_outgoing(session, out_id=out_id)
    if row is None:
        raise ApiError(404, "email_not_found", f"no outgoing email {out_id}")
    replies.may_write(await _email_conversation(session, row.conversation_id), who)
    again = await outbox.resend(session, out_id=out_id, now=utcnow())
    _wake(request)
    return OutgoingOut.model_validate(again)


@router.get("/api/email/first-response", response_model=list[ClockOut])
async def first_response(session: Session, who: Agent, settings: Config, overdue: bool = False) -> list[ClockOut]:
    """Running clocks, soonest breach first; an agent sees those of conversations assigned to them."""
    mine = None if who.role.value in SUPERVISING else who.user_id
    policy = clock.policy_of(settings)
    return await clock.running(session, now=utcnow(), agent_id=mine, overdue_only=overdue, policy=policy)

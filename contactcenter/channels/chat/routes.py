"""Chat over HTTP: conversation lists and history, attachments, canned replies, transcripts."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal
from contactcenter.bus import Bus
from contactcenter.ccr.identity import normalize_email
from contactcenter.channels.chat import files, messages, service, transcript, widget
from contactcenter.channels.chat.models import CannedReply
from contactcenter.channels.chat.schemas import AttachmentRef, CannedIn, CannedOut, MessageOut, TranscriptIn
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.http import ApiError, get_bus, get_session, get_settings_dep, get_templates
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
Anyone = StaffPrincipal | VisitorPrincipal


async def _visible(session: AsyncSession, conversation_id: str, who: Anyone) -> ConversationOut:
    conv = await conversations.find(session, conversation_id=conversation_id)
    if isinstance(who, VisitorPrincipal):
        mine = conv is not None and conv.customer_id == who.customer_id
    else:
        mine = conv is not None and (conv.agent_id == who.user_id or who.role.value in ("supervisor", "admin"))
    if conv is None or not mine:
        raise ApiError(404, "conversation_not_found", "no such conversation for you")
    return conv


@router.get("/api/chat/conversations", response_model=list[ConversationOut])
async def my_conversations(
    session: Session,
    who: Annotated[StaffPrincipal, Depends(deps.agents)],
    status: Annotated[str, Query(pattern="^(open|closed|queued)$")] = "open",
) -> list[ConversationOut]:
    mine = who.role.value == "agent" and status != "queued"
    found = await conversations.listing(session, status=status, agent_id=who.user_id if mine else None)
    # Every channel's (the console shows one list); chats with their numbering and read positions.
    pos = await service.positions(session, [c.id for c in found if c.channel == service.CHANNEL])
    return [c.model_copy(update=pos[c.id].model_dump()) if c.id in pos else c for c in found]


@router.get("/api/chat/conversations/{conversation_id}/messages", response_model=list[MessageOut])
async def history(
    conversation_id: str,
    session: Session,
    who: Annotated[Anyone, Depends(deps.visitor_or_agents)],
    after: Annotated[int, Query(ge=0)] = 0,
) -> list[MessageOut]:
    await _visible(session, conversation_id, who)
    return await messages.messages_after(
        session, conversation_id=conversation_id, after=after, include_private=isinstance(who, StaffPrincipal)
    )


@router.post("/api/chat/conversations/{conversation_id}/close", response_model=ConversationOut)
async def close(
    conversation_id: str,
    session: Session,
    bus: Annotated[Bus, Depends(get_bus)],
    who: Annotated[StaffPrincipal, Depends(deps.agents)],
) -> ConversationOut:
    await _visible(session, conversation_id, who)
    return await conversations.close(session, bus, conversation_id=conversation_id, by="agent")


@router.post("/api/chat/conversations/{conversation_id}/transcript", status_code=202)
async def email_transcript(
    conversation_id: str,
    body: TranscriptIn,
    session: Session,
    settings: SettingsDep,
    bus: Annotated[Bus, Depends(get_bus)],
    who: Annotated[VisitorPrincipal, Depends(deps.visitor)],
) -> dict[str, int]:
    await _visible(session, conversation_id, who)
    to = normalize_email(body.email)  # a mistyped address does not use up the hourly allowance
    if await bus.hit(f"chat:transcript:{who.customer_id}", 3600) > 5:
        raise ApiError(429, "too_many_transcripts", "at most 5 transcripts an hour")
    sent = await transcript.send_transcript(
        session,
        conversation_id=conversation_id,
        to=to,
        smtp_url=settings.smtp_url,
        mail_from=settings.mail_from,
    )
    return {"messages": sent}


@router.post("/api/chat/attachments", response_model=AttachmentRef, status_code=201)
async def upload(
    session: Session,
    settings: SettingsDep,
    who: Annotated[Anyone, Depends(deps.visitor_or_agents)],
    conversation_id: Annotated[str, Form(max_length=36)],
    file: Annotated[UploadFile, File()],
) -> AttachmentRef:
    conv = await _visible(session, conversation_id, who)
    if conv.status == "closed":
        raise ApiError(409, "conversation_closed", "this conversation is closed")
    data = await file.read(settings.max_upload_bytes + 1)
    kind, uid = ("customer", who.customer_id) if isinstance(who, VisitorPrincipal) else ("agent", who.user_id)
    return await files.store(
        session,
        conversation_id=conv.id,
        uploader_kind=kind,
        uploader_id=uid,
        filename=file.filename or "file",
        data=data,
        max_bytes=settings.max_upload_bytes,
    )


@router.get("/api/chat/attachments/{attachment_id}")
async def download(
    attachment_id: str, session: Session, who: Annotated[Anyone, Depends(deps.visitor_or_agents)]
) -> Response:
    row = await files.load(session, attachment_id=attachment_id)
    await _visible(session, row.conversation_id, who)
    ascii_name = row.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = "inline" if row.content_type.startswith("image/") else "attachment"
    return Response(
        row.data,
        media_type=row.content_type,
        headers={
            # Headers are latin-1: an ASCII fallback name plus the UTF-8 one (RFC 6266).
            "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(row.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/api/chat/canned", response_model=list[CannedOut])
async def canned(session: Session, _: Annotated[StaffPrincipal, Depends(deps.agents)]) -> list[CannedOut]:
    rows = await session.scalars(select(CannedReply).order_by(CannedReply.shortcut))
    return [CannedOut.model_validate(r) for r in rows]


@router.put("/api/chat/canned/{shortcut}", response_model=CannedOut)
async def save_canned(
    shortcut: str, body: CannedIn, session: Session, who: Annotated[StaffPrincipal, Depends(deps.supervisors)]
) -> CannedOut:
    if shortcut != body.shortcut:
        raise ApiError(422, "shortcut_mismatch", "the path and the body name different shortcuts")
    row = await session.scalar(select(CannedReply).where(CannedReply.shortcut == shortcut))
    if row is None:
        row = CannedReply(shortcut=shortcut, title=body.title, body=body.body, updated_by=who.user_id)
        session.add(row)
    else:
        row.title, row.body, row.updated_by = body.title, body.body, who.user_id
    await session.commit()
    return CannedOut.model_validate(row)


@router.delete("/api/chat/canned/{shortcut}", status_code=204)
async def delete_canned(
    shortcut: str, session: Session, _: Annotated[StaffPrincipal, Depends(deps.supervisors)]
) -> Response:
    res = await session.execute(delete(CannedReply).where(CannedReply.shortcut == shortcut))
    await session.commit()
    if res.rowcount == 0:  # type: ignore[attr-defined]
        raise ApiError(404, "canned_not_found", f"no canned reply {shortcut!r}")
    return Response(status_code=204)


@router.get("/widget.js", include_in_schema=False)
async def widget_js(settings: SettingsDep, _: Annotated[None, Depends(deps.public)]) -> Response:
    body = widget.script(settings.web_dir / "widget")
    if body is None:
        raise ApiError(404, "not_found", "widget not built")
    return Response(
        body,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/staff/console", response_class=HTMLResponse)
async def console_page(
    request: Request,
    templates: Annotated[Jinja2Templates, Depends(get_templates)],
    who: Annotated[StaffPrincipal, Depends(deps.agents)],
) -> HTMLResponse:
    return templates.TemplateResponse(request, "console.html", {"me": who, "nav": "console"})

"""Chat over HTTP: conversation lists and history, attachments, canned replies, transcripts."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile as StarletteUpload

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal
from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.identity import normalize_email
from contactcenter.channels.chat import files, messages, service, transcript, widget
from contactcenter.channels.chat.models import CannedReply
from contactcenter.channels.chat.schemas import AttachmentRef, CannedIn, CannedOut, MessageOut, TranscriptIn
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.http import ApiError, get_bus, get_session, get_settings_dep, get_templates, too_many
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
    conv = await _visible(session, conversation_id, who)
    if not settings.smtp_url:
        raise ApiError(503, "email_unavailable", "transcripts by email are not configured here")
    held = await ccr.contact_addresses(session, customer_id=conv.customer_id)
    to = normalize_email(body.email) if body.email else (held[0] if held else None)
    if to is None or to not in held:
        # Never to an address typed here: that would make the company's mail a relay for anyone.
        raise ApiError(422, "address_not_on_file", "transcripts go only to the email address given for this chat")
    await _limit(bus, f"chat:transcript:{who.customer_id}", 3600, settings.transcripts_per_visitor_per_hour)
    to_key = hashlib.sha256(to.encode()).hexdigest()[:32]
    await _limit(bus, f"chat:transcript:to:{to_key}", 86400, settings.transcripts_per_address_per_day)
    try:
        sent = await transcript.send_transcript(
            session, conversation_id=conversation_id, to=to, smtp_url=settings.smtp_url, mail_from=settings.mail_from
        )
    except transcript.SendFailed as exc:
        raise ApiError(502, "email_failed", "we couldn't send the transcript; please try again later") from exc
    return {"messages": sent}


async def _limit(bus: Bus, key: str, window_s: int, limit: int) -> None:
    if await bus.hit(key, window_s) > limit:
        left = await bus.window_left(key)
        raise too_many("too_many_transcripts", "too many transcripts for now; try again later", left)


@router.post("/api/chat/attachments", response_model=AttachmentRef, status_code=201)
async def upload(
    request: Request,
    session: Session,
    settings: SettingsDep,
    bus: Annotated[Bus, Depends(get_bus)],
    who: Annotated[Anyone, Depends(deps.visitor_or_agents)],
) -> AttachmentRef:
    """multipart/form-data: `conversation_id`, `file`. A visitor's rate and daily quota are checked before the
    body is read (its Content-Length against the bytes left), the conversation's right after the form."""
    if isinstance(who, VisitorPrincipal):
        key = f"chat:upload:{who.customer_id}"
        if await bus.hit(key, 60) > settings.upload_per_visitor_per_minute:
            raise too_many("too_many_uploads", "too many uploads; wait a minute", await bus.window_left(key))
        # The body's length less the form's own few hundred bytes: the exact size is checked after the read.
        length = request.headers.get("content-length", "")
        declared = max(0, min(int(length), settings.max_upload_bytes) - 1024) if length.isdigit() else 0
        await _quota(session, settings, who, None, declared)
    form = await request.form(max_files=1, max_fields=2)
    conversation_id, file = form.get("conversation_id"), form.get("file")
    if not isinstance(conversation_id, str) or len(conversation_id) > 36 or not isinstance(file, StarletteUpload):
        raise ApiError(422, "invalid_request", "send the fields conversation_id and file")
    conv = await _visible(session, conversation_id, who)
    if conv.status == "closed":
        raise ApiError(409, "conversation_closed", "this conversation is closed")
    data = await file.read(settings.max_upload_bytes + 1)
    if isinstance(who, VisitorPrincipal):
        await _quota(session, settings, who, conv.id, len(data))
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


async def _quota(
    session: AsyncSession, settings: Settings, who: VisitorPrincipal, conversation_id: str | None, size: int
) -> None:
    await files.check_quota(
        session,
        customer_id=who.customer_id,
        conversation_id=conversation_id,
        size=size,
        per_visitor=files.Quota(settings.upload_max_files_per_visitor, settings.upload_max_bytes_per_visitor),
        per_conversation=files.Quota(
            settings.upload_max_files_per_conversation, settings.upload_max_bytes_per_conversation
        ),
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
async def widget_js(request: Request, settings: SettingsDep, _: Annotated[None, Depends(deps.public)]) -> Response:
    # The consent policy's version: the widget asks again when it differs from the stored answer's.
    policy = {"version": settings.consent_policy_version, "url": settings.consent_policy_url}
    prelude = f"const CONSENT_POLICY = {json.dumps(policy)};"
    body = widget.script(settings.web_dir / "widget", prelude, request.app.state.widget_parts)
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

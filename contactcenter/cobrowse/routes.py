"""Co-browse over HTTP: a batch too big for a websocket frame (a page's full snapshot), and a session's
state for the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal
from contactcenter.bus import Bus
from contactcenter.cobrowse import service
from contactcenter.cobrowse.schemas import Accepted, EventsBody, SessionOut
from contactcenter.conversations import service as conversations
from contactcenter.http import ApiError, get_bus, get_session, get_settings_dep
from contactcenter.settings import Settings

router = APIRouter()
EVENTS_PATH = "/api/cobrowse/events"
# rrweb from the npm registry (package.json), served by the app itself: no CDN.
RRWEB = {"rrweb.js": ("rrweb.umd.min.cjs", "text/javascript"), "rrweb.css": ("style.min.css", "text/css")}


@router.get("/cobrowse/{name}", include_in_schema=False)
async def rrweb_file(
    name: str,
    settings: Annotated[Settings, Depends(get_settings_dep)],
    _: Annotated[None, Depends(deps.public)],
) -> Response:
    if name not in RRWEB:
        raise ApiError(404, "not_found", "no such file")
    file, media = RRWEB[name]
    path = settings.web_dir.parent / "node_modules" / "rrweb" / "dist" / file
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise ApiError(404, "not_found", "rrweb is not installed (npm install)") from None
    # No Cross-Origin-Resource-Policy: the widget loads it on the company's site (as /widget.js).
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=3600"})


@router.post(EVENTS_PATH, response_model=Accepted)
async def post_events(
    body: EventsBody,
    request: Request,
    bus: Annotated[Bus, Depends(get_bus)],
    settings: Annotated[Settings, Depends(get_settings_dep)],
    who: Annotated[VisitorPrincipal, Depends(deps.visitor)],
) -> Accepted:
    db = request.app.state.db
    async with db.session() as s:
        conv = await conversations.find(s, conversation_id=body.conversation_id)
    if conv is None or conv.customer_id != who.customer_id:
        raise ApiError(404, "conversation_not_found", "no such conversation for you")
    limits = service.Limits(
        event_bytes=settings.cobrowse_max_event_bytes, snapshot_bytes=settings.cobrowse_max_snapshot_bytes
    )
    done = await service.relay(db, bus, conv=conv, customer_id=who.customer_id, events=body.events, limits=limits)
    return Accepted(relayed=done.relayed, redacted=done.redacted)


@router.get("/api/cobrowse/conversations/{conversation_id}", response_model=SessionOut | None)
async def current(
    conversation_id: str,
    session: Annotated[AsyncSession, Depends(get_session)],
    who: Annotated[StaffPrincipal, Depends(deps.agents)],
) -> SessionOut | None:
    conv = await conversations.find(session, conversation_id=conversation_id)
    mine = conv is not None and (conv.agent_id == who.user_id or who.role.value in ("supervisor", "admin"))
    if conv is None or not mine:
        raise ApiError(404, "conversation_not_found", "no such conversation for you")
    return await service.live_session(session, conversation_id=conversation_id)

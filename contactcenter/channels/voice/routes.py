"""Voice over HTTP: a call's stereo recording, for agents and supervisors only (never the customer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.channels.voice import service
from contactcenter.conversations import service as conversations
from contactcenter.http import ApiError, get_session, get_settings_dep
from contactcenter.settings import Settings

router = APIRouter()


@router.get("/api/voice/{conversation_id}/recording", response_class=FileResponse)
async def recording(
    conversation_id: str,
    session: Annotated[AsyncSession, Depends(get_session)],
    settings: Annotated[Settings, Depends(get_settings_dep)],
    who: Annotated[StaffPrincipal, Depends(deps.agents)],
) -> FileResponse:
    conv = await conversations.find(session, conversation_id=conversation_id)
    # An agent plays the calls they took; supervisors and admins any.
    mine = conv is not None and (conv.agent_id == who.user_id or who.role.value in ("supervisor", "admin"))
    if conv is None or not mine or conv.channel != service.CHANNEL:
        raise ApiError(404, "conversation_not_found", "no such call for you")
    path = service.recording_path(settings, conv.id)
    if not path.is_file():
        raise ApiError(404, "recording_not_found", "this call has no recording (yet)")
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "private, no-store"})

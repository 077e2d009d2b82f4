"""Conversations over HTTP: the lists a console shows, wrap-up outcomes, closing with an outcome."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.bus import Bus
from contactcenter.conversations import service
from contactcenter.conversations.schemas import ConversationOut, OutcomeCount, OutcomeOut, WrapUpIn
from contactcenter.db import utcnow
from contactcenter.http import ApiError, get_bus, get_session, get_settings_dep
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
Agent = Annotated[StaffPrincipal, Depends(deps.agents)]


def _may_see(conv: ConversationOut | None, who: StaffPrincipal) -> bool:
    return conv is not None and (conv.agent_id == who.user_id or who.role.value in ("supervisor", "admin"))


@router.get("/api/conversations", response_model=list[ConversationOut])
async def conversations(
    session: Session, who: Agent, status: Annotated[str, Query(pattern="^(open|closed|queued)$")] = "open"
) -> list[ConversationOut]:
    """Every channel's conversations, newest first; agents see only their own (and the queue)."""
    mine = who.role.value == "agent" and status != "queued"
    return await service.listing(session, status=status, agent_id=who.user_id if mine else None)


@router.get("/api/conversations/outcomes", response_model=list[OutcomeOut])
async def outcomes(settings: SettingsDep, _: Annotated[StaffPrincipal, Depends(deps.any_staff)]) -> list[OutcomeOut]:
    return service.outcomes(settings.wrap_up_codes)


@router.get("/api/conversations/outcomes/today", response_model=list[OutcomeCount])
async def outcomes_today(
    session: Session, _: Annotated[StaffPrincipal, Depends(deps.supervisors)]
) -> list[OutcomeCount]:
    """Conversations closed in the last 24 hours, per outcome (the wallboard)."""
    return await service.outcome_counts(session, since=utcnow() - timedelta(days=1))


@router.post("/api/conversations/{conversation_id}/close", response_model=ConversationOut)
async def close(
    conversation_id: str,
    body: WrapUpIn,
    session: Session,
    settings: SettingsDep,
    bus: Annotated[Bus, Depends(get_bus)],
    who: Agent,
) -> ConversationOut:
    """Wrap up and close a conversation of any channel with an outcome and an optional note."""
    if not _may_see(await service.find(session, conversation_id=conversation_id), who):
        raise ApiError(404, "conversation_not_found", "no such conversation for you")
    return await service.close(
        session,
        bus,
        conversation_id=conversation_id,
        by="agent",
        outcome=body.outcome,
        note=body.note,
        allowed=service.outcomes(settings.wrap_up_codes),
    )

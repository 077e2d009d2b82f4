"""Routing over HTTP: queues, profiles, agent state, offers, transfers, contact position, the wallboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth import service as auth
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal
from contactcenter.bus import Bus
from contactcenter.http import ApiError, get_bus, get_session, get_templates
from contactcenter.routing import presence, service, views
from contactcenter.routing.models import AgentProfile, RoutingQueue
from contactcenter.routing.schemas import (
    AgentOut,
    ContactOut,
    ProfileIn,
    ProfileOut,
    QueueIn,
    QueueOut,
    StateIn,
    TransferIn,
    WallboardOut,
)

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
BusDep = Annotated[Bus, Depends(get_bus)]
Agent = Annotated[StaffPrincipal, Depends(deps.agents)]
Supervisor = Annotated[StaffPrincipal, Depends(deps.supervisors)]
ContactId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.get("/api/routing/queues", response_model=list[QueueOut])
async def list_queues(session: Session, _: Annotated[StaffPrincipal, Depends(deps.any_staff)]) -> list[QueueOut]:
    rows = await session.scalars(select(RoutingQueue).order_by(RoutingQueue.id))
    return [QueueOut.model_validate(q) for q in rows]


@router.put("/api/routing/queues/{queue_id}", response_model=QueueOut)
async def put_queue(
    queue_id: str, body: QueueIn, session: Session, bus: BusDep, _: Annotated[StaffPrincipal, Depends(deps.admins)]
) -> QueueOut:
    if body.id != queue_id:
        raise ApiError(422, "id_mismatch", "the body's id must match the path")
    return QueueOut.model_validate(await service.put_queue(session, bus, data=body))


@router.put("/api/routing/agents/{agent_id}/profile", response_model=ProfileOut)
async def put_profile(agent_id: int, body: ProfileIn, session: Session, bus: BusDep, _: Supervisor) -> ProfileOut:
    if await auth.display_name(session, user_id=agent_id) is None:
        raise ApiError(404, "agent_not_found", f"no staff user {agent_id}")
    p = await session.get(AgentProfile, agent_id) or AgentProfile(user_id=agent_id)
    p.skills, p.capacity = dict(body.skills), body.capacity
    p.weights, p.auto_accept = {k.value: v for k, v in body.weights.items()}, body.auto_accept
    await service.put_profile(session, bus, profile=p)
    return ProfileOut(user_id=agent_id, **body.model_dump())


@router.get("/api/routing/me", response_model=AgentOut)
async def me(bus: BusDep, who: Agent) -> AgentOut:
    return views.agent_out(await presence.view_agent(bus, agent_id=who.user_id))


@router.put("/api/routing/me/state", response_model=AgentOut)
async def my_state(body: StateIn, session: Session, bus: BusDep, who: Agent) -> AgentOut:
    v = await presence.set_state(session, bus, agent_id=who.user_id, data=body, by=who.user_id)
    return views.agent_out(v)


@router.put("/api/routing/agents/{agent_id}/state", response_model=AgentOut)
async def agent_state(agent_id: int, body: StateIn, session: Session, bus: BusDep, who: Supervisor) -> AgentOut:
    v = await presence.set_state(session, bus, agent_id=agent_id, data=body, by=who.user_id)
    return views.agent_out(v)


@router.post("/api/routing/offers/{contact_id}/accept", response_model=ContactOut)
async def accept(contact_id: ContactId, session: Session, bus: BusDep, who: Agent) -> ContactOut:
    await service.accept(session, bus, agent_id=who.user_id, contact_id=contact_id)
    return await views.contact(bus, contact_id=contact_id)


@router.post("/api/routing/offers/{contact_id}/decline", response_model=AgentOut)
async def decline(contact_id: ContactId, session: Session, bus: BusDep, who: Agent) -> AgentOut:
    await service.decline(session, bus, agent_id=who.user_id, contact_id=contact_id)
    return views.agent_out(await presence.view_agent(bus, agent_id=who.user_id))


@router.post("/api/routing/contacts/{contact_id}/transfer", response_model=ContactOut)
async def transfer(contact_id: ContactId, body: TransferIn, session: Session, bus: BusDep, who: Agent) -> ContactOut:
    own_only = who.role.value == "agent"
    await service.transfer(session, bus, contact_id=contact_id, data=body, by=who.user_id, own_only=own_only)
    return await views.contact(bus, contact_id=contact_id)


@router.post("/api/routing/contacts/{contact_id}/reassign", response_model=ContactOut)
async def reassign(
    contact_id: ContactId, body: TransferIn, session: Session, bus: BusDep, who: Supervisor
) -> ContactOut:
    await service.transfer(session, bus, contact_id=contact_id, data=body, by=who.user_id, own_only=False)
    return await views.contact(bus, contact_id=contact_id)


@router.get("/api/routing/contacts/{contact_id}", response_model=ContactOut)
async def contact(
    contact_id: ContactId,
    session: Session,
    bus: BusDep,
    who: Annotated[StaffPrincipal | VisitorPrincipal, Depends(deps.visitor_or_agents)],
) -> ContactOut:
    if isinstance(who, VisitorPrincipal):
        # Same answer for "missing" and "not yours".
        if await service.customer_of(session, bus, contact_id=contact_id) != who.customer_id:
            raise ApiError(404, "contact_not_found", f"no routed contact {contact_id}")
    return await views.contact(bus, contact_id=contact_id)


@router.get("/staff/wallboard", response_class=HTMLResponse)
async def wallboard_page(
    request: Request, templates: Annotated[Jinja2Templates, Depends(get_templates)], who: Supervisor
) -> HTMLResponse:
    return templates.TemplateResponse(request, "wallboard.html", {"me": who, "nav": "wallboard"})


@router.get("/api/routing/wallboard", response_model=WallboardOut)
async def wallboard(session: Session, bus: BusDep, _: Supervisor) -> WallboardOut:
    return await views.wallboard(session, bus)

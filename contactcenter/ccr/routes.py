"""CCR HTTP routes: customer search and profile, timeline, identities, notes, merge; staff pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.bus import Bus
from contactcenter.ccr import service, visibility
from contactcenter.ccr.schemas import (
    Channel,
    CustomerCreate,
    CustomerOut,
    Direction,
    IdentityIn,
    MergeIn,
    MergeOut,
    NoteIn,
    TimelinePage,
    TouchIn,
    TouchKind,
    TouchOut,
)
from contactcenter.http import get_bus, get_session, get_settings_dep, get_templates
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


@router.get("/api/customers", response_model=list[CustomerOut])
async def search(
    session: Session,
    settings: SettingsDep,
    _: Annotated[StaffPrincipal, Depends(deps.any_staff)],
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[CustomerOut]:
    return await service.search_customers(session, q=q, region=settings.default_phone_region, limit=limit)


@router.post("/api/customers", response_model=CustomerOut, status_code=201)
async def create(
    body: CustomerCreate, session: Session, settings: SettingsDep, _: Annotated[StaffPrincipal, Depends(deps.agents)]
) -> CustomerOut:
    return await service.create_customer(session, data=body, region=settings.default_phone_region)


@router.get("/api/customers/{customer_id}", response_model=CustomerOut)
async def get_one(
    customer_id: int, session: Session, _: Annotated[StaffPrincipal, Depends(deps.any_staff)]
) -> CustomerOut:
    return await service.get_customer(session, customer_id=customer_id)


@router.post("/api/customers/{customer_id}/identities", response_model=CustomerOut, status_code=201)
async def add_identity(
    customer_id: int,
    body: IdentityIn,
    session: Session,
    settings: SettingsDep,
    _: Annotated[StaffPrincipal, Depends(deps.agents)],
) -> CustomerOut:
    return await service.add_identity(
        session, customer_id=customer_id, kind=body.kind, value=body.value, region=settings.default_phone_region
    )


@router.get("/api/customers/{customer_id}/timeline", response_model=TimelinePage)
async def get_timeline(
    customer_id: int,
    session: Session,
    who: Annotated[StaffPrincipal, Depends(deps.any_staff)],
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> TimelinePage:
    live = await service.live_customer_id(session, customer_id=customer_id)
    page = await service.timeline(
        session, customer_id=live, limit=limit, cursor=cursor, channels=channel or (), since=since, until=until
    )
    return visibility.for_role(page, who.role)


@router.post("/api/customers/{customer_id}/notes", response_model=TouchOut, status_code=201)
async def add_note(
    customer_id: int,
    body: NoteIn,
    session: Session,
    bus: Annotated[Bus, Depends(get_bus)],
    who: Annotated[StaffPrincipal, Depends(deps.agents)],
) -> TouchOut:
    live = await service.live_customer_id(session, customer_id=customer_id)
    touch = TouchIn(
        customer_id=live,
        channel=Channel.face_to_face,
        kind=TouchKind.note,
        direction=Direction.internal,
        occurred_at=body.occurred_at,
        agent_id=who.user_id,
        summary=body.summary,
        payload={"body": body.body, "author": who.display_name},
    )
    return await service.log_touch(session, bus, touch=touch)


@router.post("/api/customers/merge", response_model=MergeOut)
async def merge(
    body: MergeIn,
    session: Session,
    bus: Annotated[Bus, Depends(get_bus)],
    who: Annotated[StaffPrincipal, Depends(deps.supervisors)],
) -> MergeOut:
    return await service.merge_customers(
        session, bus, source_id=body.source_id, target_id=body.target_id, actor_id=who.user_id, reason=body.reason
    )


@router.get("/staff/", response_class=HTMLResponse)
@router.get("/staff/customers", response_class=HTMLResponse)
async def search_page(
    request: Request,
    templates: Annotated[Jinja2Templates, Depends(get_templates)],
    who: Annotated[StaffPrincipal, Depends(deps.any_staff)],
) -> HTMLResponse:
    return templates.TemplateResponse(request, "customers.html", {"me": who})


@router.get("/staff/customers/{customer_id}", response_class=HTMLResponse)
async def customer_page(
    customer_id: int,
    request: Request,
    session: Session,
    templates: Annotated[Jinja2Templates, Depends(get_templates)],
    who: Annotated[StaffPrincipal, Depends(deps.any_staff)],
) -> HTMLResponse:
    customer = await service.get_customer(session, customer_id=customer_id)
    return templates.TemplateResponse(request, "customer.html", {"me": who, "customer": customer})

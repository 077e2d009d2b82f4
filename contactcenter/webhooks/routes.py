"""Webhook subscribers and their deliveries, for admins only (docs/api.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.bus import Bus
from contactcenter.db import utcnow
from contactcenter.http import get_bus, get_session, get_settings_dep, get_templates
from contactcenter.settings import Settings
from contactcenter.webhooks import policy, service
from contactcenter.webhooks.schemas import (
    DeliveryDetail,
    DeliveryList,
    DeliveryOut,
    DeliveryStatus,
    SubscriberCreated,
    SubscriberIn,
    SubscriberOut,
    SubscriberUpdate,
)

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
BusDep = Annotated[Bus, Depends(get_bus)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
Admin = Annotated[StaffPrincipal, Depends(deps.admins)]
IdPath = Annotated[int, Path(ge=1, le=2**53)]
Templates = Annotated[Jinja2Templates, Depends(get_templates)]


@router.get("/staff/webhooks", response_class=HTMLResponse)
async def page(request: Request, templates: Templates, who: Admin) -> HTMLResponse:
    # A shell: its script reads and writes through the routes below.
    return templates.TemplateResponse(request, "webhooks.html", {"me": who, "nav": "webhooks"})


@router.get("/api/webhooks/subscribers", response_model=list[SubscriberOut])
async def subscribers(session: Session, _: Admin) -> list[SubscriberOut]:
    return await service.list_subscribers(session)


@router.post("/api/webhooks/subscribers", response_model=SubscriberCreated, status_code=201)
async def create(
    body: SubscriberIn, session: Session, bus: BusDep, settings: SettingsDep, _: Admin
) -> SubscriberCreated:
    return await service.create_subscriber(
        session,
        bus,
        data=body,
        allowed=policy.parse_hosts(settings.webhook_allowed_hosts),
        limit=settings.webhook_max_subscribers,
    )


@router.patch("/api/webhooks/subscribers/{subscriber_id}", response_model=SubscriberOut)
async def update(
    subscriber_id: IdPath, body: SubscriberUpdate, session: Session, bus: BusDep, settings: SettingsDep, _: Admin
) -> SubscriberOut:
    allowed = policy.parse_hosts(settings.webhook_allowed_hosts)
    return await service.update_subscriber(session, bus, subscriber_id=subscriber_id, data=body, allowed=allowed)


@router.delete("/api/webhooks/subscribers/{subscriber_id}", status_code=204)
async def remove(subscriber_id: IdPath, session: Session, bus: BusDep, _: Admin) -> Response:
    await service.delete_subscriber(session, bus, subscriber_id=subscriber_id)
    return Response(status_code=204)


@router.get("/api/webhooks/subscribers/{subscriber_id}/deliveries", response_model=DeliveryList)
async def deliveries(
    subscriber_id: IdPath,
    session: Session,
    _: Admin,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryList:
    items = await service.deliveries(session, subscriber_id=subscriber_id, status=status, limit=limit)
    return DeliveryList(items=items)


@router.get("/api/webhooks/deliveries/{delivery_id}", response_model=DeliveryDetail)
async def delivery(delivery_id: IdPath, session: Session, _: Admin) -> DeliveryDetail:
    return await service.delivery(session, delivery_id=delivery_id)


@router.post("/api/webhooks/deliveries/{delivery_id}/replay", response_model=DeliveryOut)
async def replay(delivery_id: IdPath, session: Session, bus: BusDep, _: Admin) -> DeliveryOut:
    out = await service.replay(session, delivery_id=delivery_id, now=utcnow())
    await service.wake(bus)
    return out

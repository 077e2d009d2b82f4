"""Callback over HTTP: the widget's request and slots, the signed link, the agent's outcome, supervisors'
list, cancel and the promise-kept figure."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal
from contactcenter.bus import Bus
from contactcenter.channels.callback import links, manage, outcomes, scheduler, service
from contactcenter.channels.callback.schemas import (
    CallbackOut,
    Confirmation,
    CustomerView,
    OutcomeIn,
    PromiseOut,
    RequestIn,
    RescheduleIn,
    SlotOut,
)
from contactcenter.db import utcnow
from contactcenter.http import ApiError, get_bus, get_session, get_settings_dep, too_many
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
BusDep = Annotated[Bus, Depends(get_bus)]


def get_now() -> datetime:
    """The time routes decide by; tests override this dependency with a fake clock."""
    return utcnow()


Now = Annotated[datetime, Depends(get_now)]
Ident = Annotated[str, Query(max_length=40, pattern=r"^[a-z0-9_-]+$")]


@router.post("/api/callback/requests", response_model=Confirmation, status_code=201)
async def request_callback(
    body: RequestIn,
    session: Session,
    bus: BusDep,
    settings: SettingsDep,
    now: Now,
    who: Annotated[VisitorPrincipal, Depends(deps.visitor)],
) -> JSONResponse:
    async def admit() -> None:
        # Valid new requests only: a retried one (its key stored) or a refused one never uses the allowance.
        key = f"callback:new:{who.customer_id}"
        if await bus.hit(key, 3600) > settings.callback_new_per_visitor_per_hour:
            raise too_many("too_many_callbacks", "too many callback requests; try later", await bus.window_left(key))

    found, new = await service.request(
        session, bus, customer_id=who.customer_id, data=body, settings=settings, now=now, admit=admit
    )
    if new:
        if found.slot_start is None:  # as soon as possible: into routing at once
            await scheduler.dispatch(session, bus, callback_id=found.id, now=now, settings=settings)
    row = await service.row_of(session, callback_id=found.id)
    reply = await service.confirm(bus, row=row, settings=settings, now=now)
    return JSONResponse(reply.model_dump(mode="json"), status_code=201 if new else 200)


@router.get("/api/callback/slots", response_model=list[SlotOut])
async def slots(
    session: Session,
    settings: SettingsDep,
    now: Now,
    _: Annotated[VisitorPrincipal | StaffPrincipal, Depends(deps.visitor_or_agents)],
    queue: Ident = "general",
) -> list[SlotOut]:
    return await service.free_slots(session, queue=queue, settings=settings, now=now)


def _linked(settings: Settings, token: str, now: datetime) -> str:
    return links.read(settings.secret_key.get_secret_value(), token, now=now.timestamp())


@router.get("/api/callback/links/{token}", response_model=CustomerView)
async def link_view(
    token: str, session: Session, settings: SettingsDep, now: Now, _: Annotated[None, Depends(deps.new_visitor)]
) -> CustomerView:
    row = await service.row_of(session, callback_id=_linked(settings, token, now))
    return service.customer_view(row)


@router.post("/api/callback/links/{token}/cancel", response_model=CustomerView)
async def link_cancel(
    token: str,
    session: Session,
    bus: BusDep,
    settings: SettingsDep,
    now: Now,
    _: Annotated[None, Depends(deps.new_visitor)],
) -> CustomerView:
    done = await manage.cancel(session, bus, callback_id=_linked(settings, token, now), by="customer", now=now)
    return service.customer_view(await service.row_of(session, callback_id=done.id))


@router.post("/api/callback/links/{token}/reschedule", response_model=CustomerView)
async def link_reschedule(
    token: str,
    body: RescheduleIn,
    session: Session,
    bus: BusDep,
    settings: SettingsDep,
    now: Now,
    _: Annotated[None, Depends(deps.new_visitor)],
) -> CustomerView:
    callback_id = _linked(settings, token, now)
    await manage.reschedule(session, bus, callback_id=callback_id, start=body.slot_start, settings=settings, now=now)
    return service.customer_view(await service.row_of(session, callback_id=callback_id))


@router.get("/api/callback/conversations/{conversation_id}", response_model=CallbackOut)
async def for_conversation(
    conversation_id: str, session: Session, who: Annotated[StaffPrincipal, Depends(deps.agents)]
) -> CallbackOut:
    found = await service.by_conversation(session, conversation_id=conversation_id)
    if found is None:
        raise ApiError(404, "callback_not_found", "no callback for this conversation")
    return found


@router.post("/api/callback/requests/{callback_id}/outcome", response_model=CallbackOut)
async def record_outcome(
    callback_id: str,
    body: OutcomeIn,
    session: Session,
    bus: BusDep,
    settings: SettingsDep,
    now: Now,
    who: Annotated[StaffPrincipal, Depends(deps.agents)],
) -> CallbackOut:
    return await outcomes.record(
        session,
        bus,
        callback_id=callback_id,
        data=body,
        agent_id=who.user_id,
        any_agent=who.role.value in ("supervisor", "admin"),
        settings=settings,
        now=now,
    )


@router.get("/api/callback/requests", response_model=list[CallbackOut])
async def pending(session: Session, _: Annotated[StaffPrincipal, Depends(deps.supervisors)]) -> list[CallbackOut]:
    return await manage.pending(session)


@router.post("/api/callback/requests/{callback_id}/cancel", response_model=CallbackOut)
async def cancel(
    callback_id: str,
    session: Session,
    bus: BusDep,
    now: Now,
    _: Annotated[StaffPrincipal, Depends(deps.supervisors)],
) -> CallbackOut:
    return await manage.cancel(session, bus, callback_id=callback_id, by="supervisor", now=now)


@router.get("/api/callback/promise", response_model=PromiseOut)
async def promise(
    session: Session,
    now: Now,
    _: Annotated[StaffPrincipal, Depends(deps.supervisors)],
    days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> PromiseOut:
    return await manage.promise(session, since=now - timedelta(days=days), now=now)

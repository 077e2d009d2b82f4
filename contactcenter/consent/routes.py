"""Consent for the widget (issue 17 item 1): the policy's current version, and the visitor's answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import VisitorPrincipal
from contactcenter.bus import Bus
from contactcenter.consent import pageviews, service
from contactcenter.consent.schemas import ConsentIn, ConsentOut, PageViewsOut, Policy, Purpose
from contactcenter.http import get_bus, get_session, get_settings_dep
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
Visitor = Annotated[VisitorPrincipal, Depends(deps.visitor)]


def policy(settings: Settings) -> Policy:
    return Policy(version=settings.consent_policy_version, purposes=list(Purpose), url=settings.consent_policy_url)


@router.get("/api/consent/policy", response_model=Policy)
async def current_policy(settings: SettingsDep, _: Annotated[None, Depends(deps.widget_public)]) -> Policy:
    return policy(settings)


@router.get("/api/consent", response_model=ConsentOut)
async def mine(session: Session, settings: SettingsDep, who: Visitor) -> ConsentOut:
    """The visitor's latest answer per purpose; `current` is false when the policy changed since."""
    return await service.read(session, customer_id=who.customer_id, version=settings.consent_policy_version)


@router.post("/api/consent", response_model=ConsentOut)
async def answer(body: ConsentIn, session: Session, settings: SettingsDep, who: Visitor) -> ConsentOut:
    return await service.record(
        session,
        customer_id=who.customer_id,
        visitor_id=who.visitor_id,
        data=body,
        version=settings.consent_policy_version,
    )


@router.post("/api/consent/pageviews", response_model=PageViewsOut, status_code=202)
async def page_views(
    request: Request,
    session: Session,
    settings: SettingsDep,
    bus: Annotated[Bus, Depends(get_bus)],
    _: Annotated[None, Depends(deps.widget_public)],
) -> PageViewsOut:
    """A beacon of page views (text/plain JSON: sendBeacon sets no headers and a cross-site beacon may not
    send application/json); the visitor token is in the body and checked here."""
    body = pageviews.parse(await request.body())
    return await pageviews.record(session, bus, settings, body=body)

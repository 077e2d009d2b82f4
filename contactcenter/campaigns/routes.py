"""Campaigns for planners (admins too): define, preview the target list, start, stop, results (docs/api.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.bus import Bus
from contactcenter.campaigns import history, lifecycle, results, service
from contactcenter.campaigns.schemas import (
    CampaignIn,
    CampaignList,
    CampaignOut,
    History,
    PreviewIn,
    PreviewOut,
    ResultsOut,
    TargetList,
)
from contactcenter.http import get_bus, get_session

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
BusDep = Annotated[Bus, Depends(get_bus)]
Planner = Annotated[StaffPrincipal, Depends(deps.planners)]
IdPath = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[a-z0-9][a-z0-9-]*$")]


def _scripts(request: Request) -> set[str]:
    return set(request.app.state.suggestions.scripts.scripts)


@router.get("/api/campaigns", response_model=CampaignList)
async def campaigns(session: Session, _: Planner) -> CampaignList:
    return CampaignList(campaigns=await service.list_all(session))


@router.post("/api/campaigns", response_model=CampaignOut, status_code=201)
async def create(body: CampaignIn, request: Request, session: Session, who: Planner) -> CampaignOut:
    return await service.create(session, body, scripts=_scripts(request), author=who.display_name)


@router.post("/api/campaigns/preview", response_model=PreviewOut)
async def preview(body: PreviewIn, session: Session, _: Planner) -> PreviewOut:
    return await service.preview(session, body)


@router.get("/api/campaigns/{campaign_id}", response_model=CampaignOut)
async def campaign(campaign_id: IdPath, session: Session, _: Planner) -> CampaignOut:
    return await service.get(session, campaign_id)


@router.put("/api/campaigns/{campaign_id}", response_model=CampaignOut)
async def update(
    campaign_id: IdPath, body: CampaignIn, request: Request, session: Session, bus: BusDep, who: Planner
) -> CampaignOut:
    """A draft changes freely; a started one less (service.update says what)."""
    return await service.update(session, bus, campaign_id, body, scripts=_scripts(request), by=who.display_name)


@router.post("/api/campaigns/{campaign_id}/start", response_model=CampaignOut)
async def start(campaign_id: IdPath, session: Session, bus: BusDep, who: Planner) -> CampaignOut:
    return await lifecycle.start(session, bus, campaign_id, by=who.display_name)


@router.post("/api/campaigns/{campaign_id}/stop", response_model=CampaignOut)
async def stop(campaign_id: IdPath, session: Session, bus: BusDep, who: Planner) -> CampaignOut:
    return await lifecycle.stop(session, bus, campaign_id, by=who.display_name)


@router.post("/api/campaigns/{campaign_id}/restart", response_model=CampaignOut)
async def restart(campaign_id: IdPath, session: Session, bus: BusDep, who: Planner) -> CampaignOut:
    """A stopped campaign runs again: its list kept, customers matching now added."""
    return await lifecycle.restart(session, bus, campaign_id, by=who.display_name)


@router.get("/api/campaigns/{campaign_id}/history", response_model=History)
async def campaign_history(campaign_id: IdPath, session: Session, _: Planner) -> History:
    await service.load(session, campaign_id)
    return History(events=await history.events(session, campaign_id))


@router.get("/api/campaigns/{campaign_id}/results", response_model=ResultsOut)
async def campaign_results(campaign_id: IdPath, session: Session, _: Planner) -> ResultsOut:
    return await results.results(session, await service.load(session, campaign_id))


@router.get("/api/campaigns/{campaign_id}/targets", response_model=TargetList)
async def targets(
    campaign_id: IdPath,
    session: Session,
    _: Planner,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TargetList:
    """A started campaign's written list, by customer id (page on with `after`)."""
    return TargetList(targets=await service.targets(session, campaign_id, after=after, limit=limit))

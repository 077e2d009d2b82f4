"""Analytics for staff: a product's associations, a customer's figures, the latest full run; for planners'
charts, the tier distribution per period and the strongest associations overall."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.analytics import overview, service
from contactcenter.analytics.schemas import AssociationOut, CustomerFigures, RunOut, TierDistribution
from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.ccr import service as ccr
from contactcenter.http import ApiError, get_session

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]


@router.get("/api/products/{sku}/associations", response_model=list[AssociationOut])
async def product_associations(
    sku: str,
    session: Session,
    _: Annotated[StaffPrincipal, Depends(deps.any_staff)],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[AssociationOut]:
    return await service.top_associations(session, sku=sku, limit=limit)


@router.get("/api/customers/{customer_id}/analytics", response_model=CustomerFigures)
async def customer_figures(
    customer_id: int, session: Session, _: Annotated[StaffPrincipal, Depends(deps.any_staff)]
) -> CustomerFigures:
    live = await ccr.live_customer_id(session, customer_id=customer_id)
    found = await service.figures(session, customer_id=live)
    if found is None:
        raise ApiError(404, "figures_not_computed", f"no analytics for customer {customer_id} yet")
    return found


@router.get("/api/analytics/runs/latest", response_model=RunOut)
async def latest_run(session: Session, _: Annotated[StaffPrincipal, Depends(deps.planners)]) -> RunOut:
    run = await service.last_run(session)
    if run is None:
        raise ApiError(404, "no_run", "analytics have not run yet (contactcenter analytics run)")
    return run


@router.get("/api/analytics/tiers", response_model=TierDistribution)
async def tier_distribution(
    session: Session,
    _: Annotated[StaffPrincipal, Depends(deps.planners)],
    periods: Annotated[int, Query(ge=1, le=36)] = 12,
) -> TierDistribution:
    return await overview.tier_distribution(session, periods=periods)


@router.get("/api/analytics/associations", response_model=list[AssociationOut])
async def strongest_associations(
    session: Session,
    _: Annotated[StaffPrincipal, Depends(deps.planners)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    by: overview.Rank = "lift",
) -> list[AssociationOut]:
    return await overview.strongest_associations(session, limit=limit, by=by)

"""Analytics for staff: a product's associations, a customer's figures, the latest full run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.analytics import service
from contactcenter.analytics.schemas import AssociationOut, CustomerFigures, RunOut
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

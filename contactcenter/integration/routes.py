"""Products and orders for agents; order intake for back-office connectors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.bus import Bus
from contactcenter.http import get_bus, get_session
from contactcenter.integration import service
from contactcenter.integration.schemas import OrderIn, OrderOut, ProductOut

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]


@router.get("/api/products", response_model=list[ProductOut])
async def products(session: Session, _: Annotated[StaffPrincipal, Depends(deps.any_staff)]) -> list[ProductOut]:
    return await service.list_products(session)


@router.get("/api/customers/{customer_id}/orders", response_model=list[OrderOut])
async def orders(
    customer_id: int, session: Session, _: Annotated[StaffPrincipal, Depends(deps.any_staff)]
) -> list[OrderOut]:
    return await service.list_orders(session, customer_id=customer_id)


@router.post("/api/orders", response_model=OrderOut, status_code=201)
async def record(
    body: OrderIn,
    session: Session,
    bus: Annotated[Bus, Depends(get_bus)],
    _: Annotated[StaffPrincipal, Depends(deps.admins)],
) -> OrderOut:
    return await service.record_order(session, bus, data=body)

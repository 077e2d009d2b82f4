"""Products and orders for agents; order intake for back-office connectors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.bus import Bus
from contactcenter.http import get_bus, get_session
from contactcenter.integration import live, service
from contactcenter.integration.connectors import BackOffice
from contactcenter.integration.schemas import OrderIn, OrderOut, ProductOut
from contactcenter.settings import Settings

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


def _connector(request: Request) -> BackOffice | None:
    settings: Settings = request.app.state.settings
    return live.connector_for(settings)


Connector = Annotated[BackOffice | None, Depends(_connector)]


@router.get("/api/customers/{customer_id}/backoffice/orders", response_model=live.LiveOrdersOut)
async def backoffice_orders(
    customer_id: int, session: Session, connector: Connector, _: Annotated[StaffPrincipal, Depends(deps.any_staff)]
) -> live.LiveOrdersOut:
    """The customer's orders as the back office has them now (every identity asked), or the last known."""
    return await live.orders(session, connector, customer_id=customer_id)


@router.get("/api/products/{sku}/stock", response_model=live.StockOut)
async def product_stock(
    sku: Annotated[str, Path(min_length=1, max_length=40)],
    session: Session,
    connector: Connector,
    _: Annotated[StaffPrincipal, Depends(deps.any_staff)],
) -> live.StockOut:
    return await live.stock(session, connector, sku=sku)

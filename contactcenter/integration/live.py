"""Orders and stock read live from the back office for the console, with the last good answer kept.

Every identity the customer has (and those of customers merged into it) is asked, not only the first
email. When any ask fails the console gets the last complete answer and its time, marked unreachable:
a partial list would read as "these are all the orders".
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

import structlog
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.ccr import service as ccr
from contactcenter.ccr.models import CustomerIdentity
from contactcenter.db import utcnow
from contactcenter.integration.connectors import (
    BackOffice,
    ConnectorError,
    ExternalOrder,
    RestBackOffice,
    StockLevel,
    identities_to_ask,
)
from contactcenter.integration.models import BackOfficeCache
from contactcenter.settings import Settings

log = structlog.get_logger("integration")

Status = Literal["ok", "unreachable", "not_configured"]


class LiveOrdersOut(BaseModel):
    status: Status
    orders: list[ExternalOrder]
    fetched_at: datetime | None  # when the orders shown were read from the back office
    error: str | None = None  # for people: why the back office is not answering now
    asked: int = 0  # identities asked


class StockOut(BaseModel):
    status: Status
    sku: str
    available: int | None
    fetched_at: datetime | None
    error: str | None = None


def connector_for(settings: Settings) -> BackOffice | None:
    if not settings.backoffice_url:
        return None
    token = settings.backoffice_token.get_secret_value()
    return RestBackOffice(settings.backoffice_url, token=token, timeout_s=settings.backoffice_timeout_s)


async def _cached(session: AsyncSession, kind: str, key: str) -> BackOfficeCache | None:
    return await session.scalar(select(BackOfficeCache).where(BackOfficeCache.kind == kind, BackOfficeCache.key == key))


async def _remember(session: AsyncSession, kind: str, key: str, body: Any) -> datetime:
    now = utcnow()
    done = await session.execute(
        update(BackOfficeCache)
        .where(BackOfficeCache.kind == kind, BackOfficeCache.key == key)
        .values(body=body, fetched_at=now)
    )
    if not getattr(done, "rowcount", 0):
        session.add(BackOfficeCache(kind=kind, key=key, body=body, fetched_at=now))
    try:
        await session.commit()
    except IntegrityError:  # another process stored the same answer at the same moment
        await session.rollback()
    return now


def _why(exc: BaseException) -> str:
    if isinstance(exc, ConnectorError):
        return {"timeout": "it did not answer in time", "bad_response": "its answer could not be read"}.get(
            exc.code, f"it could not be reached ({exc.detail})"
        )
    return "it failed unexpectedly"


async def orders(session: AsyncSession, connector: BackOffice | None, *, customer_id: int) -> LiveOrdersOut:
    await ccr.get_customer(session, customer_id=customer_id)  # 404 for a customer that does not exist
    if connector is None:
        return LiveOrdersOut(status="not_configured", orders=[], fetched_at=None)
    rows = await session.execute(
        select(CustomerIdentity.kind, CustomerIdentity.value).where(
            CustomerIdentity.customer_id.in_(ccr.holding_ids(customer_id))
        )
    )
    asks = identities_to_ask([(k, v) for k, v in rows.all()])
    answers = await asyncio.gather(*(connector.orders(kind=k, value=v) for k, v in asks), return_exceptions=True)
    failed = [a for a in answers if isinstance(a, BaseException)]
    key = str(customer_id)
    if failed:
        log.warning("backoffice_orders_failed", customer=customer_id, errors=[repr(e) for e in failed[:3]])
        last = await _cached(session, "orders", key)
        shown = [ExternalOrder.model_validate(o) for o in last.body] if last is not None else []
        error = f"Couldn't reach the order system: {_why(failed[0])}."
        return LiveOrdersOut(
            status="unreachable",
            orders=shown,
            fetched_at=last.fetched_at if last else None,
            error=error,
            asked=len(asks),
        )
    by_ref: dict[str, ExternalOrder] = {}
    for answer in answers:
        assert not isinstance(answer, BaseException)
        for o in answer:
            by_ref[o.ref] = o  # one order found under two identities is one order
    found = sorted(by_ref.values(), key=lambda o: (o.placed_at, o.ref), reverse=True)
    at = await _remember(session, "orders", key, [o.model_dump(mode="json") for o in found])
    return LiveOrdersOut(status="ok", orders=found, fetched_at=at, asked=len(asks))


async def stock(session: AsyncSession, connector: BackOffice | None, *, sku: str) -> StockOut:
    if connector is None:
        return StockOut(status="not_configured", sku=sku, available=None, fetched_at=None)
    try:
        level = await connector.stock(sku=sku)
    except Exception as exc:
        log.warning("backoffice_stock_failed", sku=sku, error=repr(exc))
        last = await _cached(session, "stock", sku)
        known = StockLevel.model_validate(last.body) if last is not None else None
        return StockOut(
            status="unreachable",
            sku=sku,
            available=known.available if known else None,
            fetched_at=last.fetched_at if last else None,
            error=f"Couldn't reach the stock system: {_why(exc)}.",
        )
    if level is None:
        return StockOut(
            status="ok", sku=sku, available=0, fetched_at=utcnow(), error="The back office does not know this product."
        )
    at = await _remember(session, "stock", sku, level.model_dump(mode="json"))
    return StockOut(status="ok", sku=sku, available=level.available, fetched_at=at)

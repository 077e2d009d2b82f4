"""Products and orders; recording an order also logs a CCR touch in the same transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.db import utcnow
from contactcenter.http import ApiError
from contactcenter.integration.events import TOPIC_ORDERS, OrderRecorded
from contactcenter.integration.models import Order, Product
from contactcenter.integration.schemas import OrderIn, OrderOut, OrderStatus, ProductOut


async def list_products(session: AsyncSession) -> list[ProductOut]:
    """The whole catalogue, by category then name."""
    rows = await session.scalars(select(Product).order_by(Product.category, Product.name))
    return [ProductOut.model_validate(p) for p in rows]


async def list_orders(session: AsyncSession, *, customer_id: int, limit: int = 100) -> list[OrderOut]:
    """A customer's orders, newest first, with those of customers merged into it (shown as this one's)."""
    await ccr.get_customer(session, customer_id=customer_id)
    rows = await session.execute(
        select(Order, Product)
        .join(Product, Product.id == Order.product_id)
        .where(Order.customer_id.in_(ccr.holding_ids(customer_id)))
        .order_by(Order.placed_at.desc())
        .limit(limit)
    )
    return [
        OrderOut(
            id=o.id,
            customer_id=customer_id,
            sku=p.sku,
            product_name=p.name,
            quantity=o.quantity,
            amount=o.amount,
            status=OrderStatus(o.status),
            external_ref=o.external_ref,
            placed_at=o.placed_at,
        )
        for o, p in rows
    ]


async def record_order(session: AsyncSession, bus: Bus, *, data: OrderIn) -> OrderOut:
    """Store an order from a back-office system and log it on the customer's timeline."""
    customer_id = await ccr.live_customer_id(session, customer_id=data.customer_id)
    product = await session.scalar(select(Product).where(Product.sku == data.sku))
    if product is None:
        raise ApiError(422, "unknown_product", f"no product with sku {data.sku!r}")
    order = Order(
        customer_id=customer_id,
        product_id=product.id,
        quantity=data.quantity,
        amount=data.amount,
        status=data.status.value,
        external_ref=data.external_ref,
        placed_at=data.placed_at or utcnow(),
    )
    session.add(order)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(409, "duplicate_order", f"order {data.external_ref!r} was recorded already") from exc
    touch = await ccr.add_touch(
        session,
        touch=TouchIn(
            customer_id=customer_id,
            channel=Channel.system,
            kind=TouchKind.order,
            direction=Direction.inbound,
            occurred_at=order.placed_at,
            summary=f"Ordered {product.name} ({data.amount})",
            payload={"order_id": order.id, "sku": product.sku, "amount": str(data.amount), "status": data.status.value},
        ),
    )
    await session.commit()
    await ccr.publish_touches(bus, [touch])
    await bus.publish_event(
        TOPIC_ORDERS,
        OrderRecorded(order_id=order.id, customer_id=customer_id, sku=product.sku, amount=str(data.amount)),
    )
    return OrderOut(
        id=order.id,
        customer_id=customer_id,
        sku=product.sku,
        product_name=product.name,
        quantity=order.quantity,
        amount=order.amount,
        status=data.status,
        external_ref=order.external_ref,
        placed_at=order.placed_at,
    )


async def owned_products(session: AsyncSession, *, customer_id: int) -> list[tuple[str, str, datetime]]:
    """(sku, category, placed_at) of every order the customer (or one merged into it) has not cancelled,
    newest first; one query."""
    rows = await session.execute(
        select(Product.sku, Product.category, Order.placed_at)
        .join(Product, Product.id == Order.product_id)
        .where(Order.customer_id.in_(ccr.holding_ids(customer_id)), Order.status != OrderStatus.cancelled.value)
        .order_by(Order.placed_at.desc())
    )
    return [(sku, cat, at) for sku, cat, at in rows.all()]


# One order line as analytics reads it: (customer now holding it, product id, amount, period) where period
# is 0 when placed after period_starts[0], 1 when after period_starts[1], ..., len(period_starts) if older.
OrderLine = tuple[int, int, float, int]


def _holders(merged: dict[int, int], customer_ids: Iterable[int]) -> list[int]:
    wanted = set(customer_ids)
    return sorted(wanted | {src for src, into in merged.items() if into in wanted})


async def order_lines(
    session: AsyncSession,
    *,
    period_starts: Sequence[datetime],
    customer_ids: Iterable[int] | None = None,
    chunk: int = 20_000,
) -> AsyncIterator[OrderLine]:
    """Every order not cancelled (of `customer_ids` and the customers merged into them, when given), with
    merged customers' orders under the customer holding them now; streamed in chunks. The period is worked
    out in SQL: parsing a million timestamps in Python was most of the time."""
    merged = await ccr.merged_map(session)
    period = case(*((Order.placed_at > start, i) for i, start in enumerate(period_starts)), else_=len(period_starts))
    q = select(Order.customer_id, Order.product_id, cast(Order.amount, Float), period).where(
        Order.status != OrderStatus.cancelled.value
    )
    if customer_ids is not None:
        q = q.where(Order.customer_id.in_(_holders(merged, customer_ids)))
    result = await session.stream(q.execution_options(yield_per=chunk))
    async for rows in result.partitions(chunk):
        for cid, pid, amount, bucket in rows:
            yield merged.get(cid, cid), pid, amount, bucket


async def last_orders(session: AsyncSession, *, customer_ids: Iterable[int] | None = None) -> dict[int, datetime]:
    """{customer: when their newest order not cancelled was placed}, merged customers under their holder."""
    merged = await ccr.merged_map(session)
    q = (
        select(Order.customer_id, func.max(Order.placed_at))
        .where(Order.status != OrderStatus.cancelled.value)
        .group_by(Order.customer_id)
    )
    if customer_ids is not None:
        q = q.where(Order.customer_id.in_(_holders(merged, customer_ids)))
    out: dict[int, datetime] = {}
    for cid, at in await session.execute(q):
        holder = merged.get(cid, cid)
        if at is not None and (holder not in out or at > out[holder]):
            out[holder] = at
    return out


async def count_order_lines(session: AsyncSession) -> int:
    """How many orders are not cancelled (the full analytics run's progress total)."""
    n = await session.scalar(select(func.count()).select_from(Order).where(Order.status != OrderStatus.cancelled.value))
    return int(n or 0)


async def product_names(session: AsyncSession) -> dict[int, tuple[str, str]]:
    """{product id: (sku, name)} for the whole catalogue."""
    rows = await session.execute(select(Product.id, Product.sku, Product.name))
    return {pid: (sku, name) for pid, sku, name in rows}

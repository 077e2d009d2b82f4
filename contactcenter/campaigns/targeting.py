"""Who a target takes: one query over the CCR, analytics' stored figures and the orders, then the PTC and
consent checks in Python (they live in JSON columns, read the same way on both backends).

The preview and the start use the same function, so the list a planner saw is the list that is written
(as of that moment: figures change between the two).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import String, cast, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.analytics.models import CustomerValue, ProductAssociation
from contactcenter.campaigns.schemas import TargetIn, TargetRow
from contactcenter.ccr.models import Customer
from contactcenter.integration.models import Order, Product

BATCH = 2_000


def held_out(campaign_id: str, customer_id: int, pct: float) -> bool:
    """Per customer and campaign, decided once: a customer stays in one group through every contact."""
    h = int.from_bytes(hashlib.sha256(f"campaign:{campaign_id}:{customer_id}".encode()).digest()[:4], "big")
    return (h % 10_000) < round(pct * 100)


def _holds(product_id: Any) -> Any:
    return exists().where(Order.customer_id == Customer.id, Order.product_id == product_id, Order.status != "cancelled")


def _holds_associated(product_id: int | None) -> Any:
    # PTP: the customer holds a product whose association rule names this one (lift above 1, as the facts').
    antecedents = select(ProductAssociation.antecedent_id).where(
        ProductAssociation.consequent_id == product_id, ProductAssociation.lift > 1
    )
    return exists().where(
        Order.customer_id == Customer.id, Order.product_id.in_(antecedents), Order.status != "cancelled"
    )


async def _product_id(session: AsyncSession, sku: str | None) -> int | None:
    if sku is None:
        return None
    return await session.scalar(select(Product.id).where(Product.sku == sku))


async def matching(session: AsyncSession, target: TargetIn, *, offered_sku: str) -> AsyncIterator[TargetRow]:
    """Every customer the target takes now, by id (merged-away customers are left out: their target is)."""
    q = (
        # Columns, not entities: a big list is read ~3x faster without building ORM objects.
        select(
            Customer.id,
            Customer.display_name,
            Customer.segment,
            # Only the one profile key: decoding whole profiles was most of a big preview's time.
            Customer.profile["marketing_consent"],
            CustomerValue.tier,
            CustomerValue.attrition_risk,
            CustomerValue.ptc,
        )
        .outerjoin(CustomerValue, CustomerValue.customer_id == Customer.id)
        .where(Customer.merged_into_id.is_(None))
        .order_by(Customer.id)
    )
    if target.tiers:
        q = q.where(CustomerValue.tier.in_(target.tiers))
    if target.segments:
        q = q.where(Customer.segment.in_(target.segments))
    if target.min_attrition_risk is not None:
        q = q.where(CustomerValue.attrition_risk >= target.min_attrition_risk)
    offered = await _product_id(session, offered_sku)
    if target.exclude_owners and offered is not None:
        q = q.where(~_holds(offered))
    wanted = await _product_id(session, target.product)
    if target.product is not None and wanted is None:
        return  # an unknown product is nobody's next product
    via = target.product_via if wanted is not None else None
    if via == "ptp":
        q = q.where(_holds_associated(wanted))
    elif via == "ptc":
        # A text pre-filter (the SKU in the JSON) so only candidates' lists are decoded; checked exactly below.
        q = q.where(cast(CustomerValue.ptc, String).like(f'%"{target.product}"%'))
    elif via == "either":
        q = q.add_columns(_holds_associated(wanted).label("ptp"))
    last = 0
    while True:  # keyset pages: a big bank's list is never all in memory at once
        rows = (await session.execute(q.where(Customer.id > last).limit(BATCH))).all()
        if not rows:
            return
        for row in rows:
            cid, name, segment, consent, tier, risk, ptc = row[:7]
            last = cid
            # SQLite's json_extract gives JSON false as 0 (PostgreSQL keeps False): both mean "no marketing".
            if target.consented_only and (consent is False or consent == 0):
                continue
            if via in ("ptc", "either"):
                in_ptc = ptc is not None and any(p.get("sku") == target.product for p in ptc)
                by_ptp = via == "either" and bool(row[7])
                if not (in_ptc or by_ptp):
                    continue
            yield TargetRow(
                customer_id=cid,
                name=name,
                segment=segment,
                tier=tier,
                attrition_risk=risk,
            )

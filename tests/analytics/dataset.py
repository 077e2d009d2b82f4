"""A hand-checkable bank for the analytics tests: 22 customers, 4 products, tiers and flags known in advance.

now = 2026-12-01, period 182 days, shares 5/15/30 % of 22 customers: cuts after 1, 4 and 11 by rank.
- c1..c20 spend 100 * (21 - i) this period: platinum c1 (2000); gold c2..c4 (least 1700); silver c5..c11
  (least 1000); bronze c12..c20.
- Last period: c5 5000, c1 3000, c2 2000, c3 1000 (mortgages), c21 50: platinum c5; gold c1..c3 (least
  1000); silver c21 (least 50, the 5th of only 5 spenders).
- c5 fell platinum -> silver: risk 0.1 + 2 * 0.3 = 0.7. c21 (last order 300 days ago) fell silver -> bronze
  and lapsed: 0.1 + 0.3 + 0.6 = 1.0, capped at 0.95. c22 (one order of 0.00, 200 days ago): lapsed only, 0.7.

Holdings (the baskets): c1..c8 {EVERY, TRAVEL}, c9..c12 {EVERY}, c13..c16 {SAVE}, c17..c20 {EVERY, SAVE},
c1, c2, c3, c5 also MORT, c21 and c22 {SAVE}. 22 baskets: EVERY 16, TRAVEL 8, SAVE 10, MORT 4.
- EVERY -> TRAVEL: 8 of 16 (0.5), lift 0.5 / (8/22) = 1.375. MORT -> TRAVEL: 4 of 4, lift 2.75.
- TRAVEL -> MORT: 4 of 8 (0.5), lift 2.75. EVERY -> MORT: 4 of 16, lift 1.375. EVERY -> SAVE: lift 0.55.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.analytics.figures import Config
from contactcenter.analytics.tiers import Shares
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import CustomerCreate
from contactcenter.integration.models import Order, Product

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CONFIG = Config(period_days=182, shares=Shares(0.05, 0.15, 0.30), recency_days=180, min_baskets=2, next_products=3)
PRODUCTS = {
    "EVERY": "Everyday account",
    "TRAVEL": "Travel card",
    "SAVE": "Savings account",
    "MORT": "Mortgage",
}


async def build(session: AsyncSession, now: datetime = NOW) -> dict[int, int]:
    """The bank above (dates relative to `now`); returns {n: customer id} for c1..c22."""
    pid: dict[str, int] = {}
    for sku, name in PRODUCTS.items():
        p = Product(sku=sku, name=name, category=sku.lower(), price=Decimal("1.00"))
        session.add(p)
        await session.flush()
        pid[sku] = p.id
    ids: dict[int, int] = {}
    for n in range(1, 23):
        out = await ccr.create_customer(session, data=CustomerCreate(display_name=f"C{n}"), region="GB")
        ids[n] = out.id
    recent, last_period = now - timedelta(days=10), now - timedelta(days=250)

    def order(n: int, sku: str, amount: int, at: datetime) -> None:
        session.add(Order(customer_id=ids[n], product_id=pid[sku], amount=Decimal(amount), placed_at=at))

    for n in range(1, 21):
        first = "SAVE" if 13 <= n <= 16 else "EVERY"
        order(n, first, 100 * (21 - n), recent)
        if n <= 8:
            order(n, "TRAVEL", 0, recent)
        if 17 <= n <= 20:
            order(n, "SAVE", 0, recent)
    for n, amount in ((5, 5000), (1, 3000), (2, 2000), (3, 1000)):
        order(n, "MORT", amount, last_period)
    order(21, "SAVE", 50, now - timedelta(days=300))
    order(22, "SAVE", 0, now - timedelta(days=200))
    # A cancelled order is no holding and no spend.
    session.add(Order(customer_id=ids[12], product_id=pid["MORT"], amount=Decimal(9999), status="cancelled"))
    await session.commit()
    return ids

"""The full run and a customer's recompute on the hand-checked bank (tests/analytics/dataset.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from contactcenter.analytics import service
from contactcenter.analytics.models import ProductAssociation, TierHistory
from contactcenter.db import Database
from contactcenter.integration.models import Order, Product
from tests.analytics.dataset import CONFIG, NOW, build

EXPECTED_TIERS = {
    1: ("platinum", "gold"),
    **{n: ("gold", "gold") for n in (2, 3)},
    4: ("gold", "bronze"),
    5: ("silver", "platinum"),
    **{n: ("silver", "bronze") for n in range(6, 12)},
    **{n: ("bronze", "bronze") for n in range(12, 21)},
    21: ("bronze", "silver"),
    22: ("bronze", "bronze"),
}
EXPECTED_RISK = {5: 0.7, 21: 0.95, 22: 0.7}


async def test_full_run_known_in_advance(db: Database) -> None:
    async with db.session() as s:
        ids = await build(s)
        run = await service.run_all(s, config=CONFIG, now=NOW)
        assert (run.customers, run.order_lines) == (22, 38)
        for n, (tier, previous) in EXPECTED_TIERS.items():
            f = await service.figures(s, customer_id=ids[n])
            assert f is not None
            assert (f.tier, f.previous_tier) == (tier, previous), n
            assert f.attrition_risk == EXPECTED_RISK.get(n, 0.1), n
            assert f.tier_dropped == (n in (5, 21)), n
            assert [(h.period, h.tier) for h in f.history] == [("2026-12", tier)]
        c5, c21, c22 = [await service.figures(s, customer_id=ids[n]) for n in (5, 21, 22)]
        assert c5 is not None and c5.attrition_reason == "tier fell from platinum to silver"
        assert c21 is not None and c21.attrition_reason == "tier fell from silver to bronze; no order for 300 days"
        assert c22 is not None and c22.attrition_reason == "no order for 200 days"
        c1 = await service.figures(s, customer_id=ids[1])
        assert c1 is not None and c1.value == Decimal("2000.00")

        # Associations over holdings; the cancelled mortgage of c12 counts for nothing.
        stored = {(a.antecedent_id, a.consequent_id): a for a in await s.scalars(select(ProductAssociation))}
        pid = {p.sku: p.id for p in await s.scalars(select(Product))}
        every_travel = stored[(pid["EVERY"], pid["TRAVEL"])]
        assert (every_travel.baskets, every_travel.antecedent_baskets) == (8, 16)
        assert every_travel.confidence == pytest.approx(0.5)
        assert every_travel.lift == pytest.approx(1.375)
        assert stored[(pid["EVERY"], pid["SAVE"])].lift == pytest.approx(0.25 / (10 / 22))
        top = await service.top_associations(s, sku="MORT")
        assert [(a.consequent_sku, round(a.lift, 3)) for a in top] == [("TRAVEL", 2.75), ("EVERY", 1.375)]
        assert await service.top_associations(s, sku="NOPE") == []
        # Equal lift (1.375): the lower product id first; SAVE (lift 0.55) is left out.
        assert await service.associated_skus(s, skus=["EVERY"]) == (["TRAVEL", "MORT"], ["TRAVEL", "MORT"])
        # With MORT: TRAVEL 2.75 from MORT itself, EVERY 1.375; newest (SAVE) leads nowhere above lift 1.
        assert await service.associated_skus(s, skus=["SAVE", "MORT"]) == (["TRAVEL", "EVERY"], [])

        # PTC: never what they hold; lift at or below 1 is no reason.
        c9 = await service.figures(s, customer_id=ids[9])
        assert c9 is not None
        assert [(p.sku, p.score) for p in c9.next_products] == [("TRAVEL", 0.5), ("MORT", 0.25)]
        assert c9.next_products[0].reason == (
            "owns the Everyday account; 50 % of its 16 holders took the Travel card, lift 1.4"
        )
        c6 = await service.figures(s, customer_id=ids[6])
        assert c6 is not None and [p.sku for p in c6.next_products] == ["MORT"]
        assert c6.next_products[0].reason == "owns the Travel card; 50 % of its 8 holders took the Mortgage, lift 2.8"
        for n in (1, 13):
            f = await service.figures(s, customer_id=ids[n])
            assert f is not None and f.next_products == []


async def test_recompute_one_customer_uses_the_last_cut(db: Database) -> None:
    async with db.session() as s:
        ids = await build(s)
        assert await service.recompute_customers(s, customer_ids=[ids[9]], config=CONFIG, now=NOW) == []  # no run yet
        await service.run_all(s, config=CONFIG, now=NOW)
        travel = await s.scalar(select(Product.id).where(Product.sku == "TRAVEL"))
        assert travel is not None
        s.add(Order(customer_id=ids[9], product_id=travel, amount=Decimal(2500), placed_at=NOW - timedelta(days=1)))
        await s.commit()
        later = NOW + timedelta(days=31)
        assert await service.recompute_customers(s, customer_ids=[ids[9]], config=CONFIG, now=later) == [ids[9]]
        c9 = await service.figures(s, customer_id=ids[9])
        assert c9 is not None
        # 1200 + 2500 reaches the last run's platinum cut (2000); now holding TRAVEL, MORT is next via TRAVEL.
        assert (c9.tier, c9.value) == ("platinum", Decimal("3700.00"))
        assert [p.sku for p in c9.next_products] == ["MORT"]
        assert [(h.period, h.tier) for h in c9.history] == [("2027-01", "platinum"), ("2026-12", "silver")]
        # Nobody else was touched.
        c10 = await service.figures(s, customer_id=ids[10])
        assert c10 is not None and c10.computed_at == NOW
        assert len(list(await s.scalars(select(TierHistory).where(TierHistory.period == "2027-01")))) == 1
        # A second full run replaces everything, never doubles it.
        await service.run_all(s, config=CONFIG, now=NOW)
        assert len(list(await s.scalars(select(TierHistory).where(TierHistory.period == "2026-12")))) == 22

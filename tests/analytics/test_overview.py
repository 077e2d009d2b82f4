"""The planners' analytics charts read two routes: customers per value tier in each period, and the
strongest associations over the catalogue; only planners (and admins) read them."""

from __future__ import annotations

from decimal import Decimal

import httpx
from fastapi import FastAPI

from contactcenter.analytics import service
from contactcenter.analytics.models import TierHistory
from contactcenter.types import Role
from tests.analytics.dataset import CONFIG, NOW, build
from tests.conftest import UserFactory, login


async def test_tier_distribution_and_strongest_associations(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    async with app.state.db.session() as s:
        ids = await build(s)
        await service.run_all(s, config=CONFIG, now=NOW)
        # An earlier month, as an earlier run left it: three gold customers and two bronze.
        for n, tier in ((1, "gold"), (2, "gold"), (3, "gold"), (4, "bronze"), (5, "bronze")):
            s.add(TierHistory(customer_id=ids[n], period="2026-11", tier=tier, value=Decimal("10.00")))
        await s.commit()

    assert (await client.get("/api/analytics/tiers")).status_code == 401
    assert (await client.get("/api/analytics/associations")).status_code == 401
    for role in (Role.agent, Role.supervisor):
        await login(client, await make_user(role))
        for path in ("/api/analytics/tiers", "/api/analytics/associations"):
            r = await client.get(path)
            assert (r.status_code, r.json()["error"]) == (403, "forbidden"), (role, path)

    await login(client, await make_user(Role.planner))
    d = (await client.get("/api/analytics/tiers")).json()
    assert d["tiers"] == ["bronze", "silver", "gold", "platinum"]
    # dataset.py: platinum c1, gold c2..c4, silver c5..c11, bronze c12..c22 this period.
    assert d["periods"] == [
        {"period": "2026-11", "counts": {"bronze": 2, "silver": 0, "gold": 3, "platinum": 0}, "customers": 5},
        {"period": "2026-12", "counts": {"bronze": 11, "silver": 7, "gold": 3, "platinum": 1}, "customers": 22},
    ]
    latest = (await client.get("/api/analytics/tiers", params={"periods": 1})).json()
    assert [p["period"] for p in latest["periods"]] == ["2026-12"]
    assert (await client.get("/api/analytics/tiers", params={"periods": 0})).status_code == 422

    def pairs(rows: list[dict[str, object]]) -> list[tuple[object, object, float]]:
        return [(a["antecedent_sku"], a["consequent_sku"], round(float(str(a["lift"])), 3)) for a in rows]

    by_lift = (await client.get("/api/analytics/associations", params={"limit": 2})).json()
    # Lift 2.75 both ways; MORT -> TRAVEL (confidence 1) before TRAVEL -> MORT (0.5).
    assert pairs(by_lift) == [("MORT", "TRAVEL", 2.75), ("TRAVEL", "MORT", 2.75)]
    assert by_lift[0]["antecedent_name"] == "Mortgage" and by_lift[0]["baskets"] == 4
    by_conf = (await client.get("/api/analytics/associations", params={"by": "confidence", "limit": 3})).json()
    # Confidence 1: MORT -> TRAVEL (lift 2.75), then lift 1.375 by the antecedent's id: TRAVEL before MORT.
    assert pairs(by_conf) == [("MORT", "TRAVEL", 2.75), ("TRAVEL", "EVERY", 1.375), ("MORT", "EVERY", 1.375)]
    assert all(a["confidence"] == 1.0 for a in by_conf)
    assert (await client.get("/api/analytics/associations", params={"by": "support"})).status_code == 422
    assert (await client.get("/api/analytics/associations", params={"limit": 51})).status_code == 422


async def test_before_any_run_the_charts_have_nothing(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    await login(client, await make_user(Role.admin))
    assert (await client.get("/api/analytics/tiers")).json() == {
        "tiers": ["bronze", "silver", "gold", "platinum"],
        "periods": [],
    }
    assert (await client.get("/api/analytics/associations")).json() == []

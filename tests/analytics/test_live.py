"""In the app: an order recorded through integration's route recomputes that customer's figures (the bus
event, on memory and on Redis), the rules' facts carry them, and the routes check roles."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI

from contactcenter.analytics import service
from contactcenter.db import utcnow
from contactcenter.types import Role
from tests.analytics.dataset import CONFIG, build
from tests.conftest import UserFactory, login


async def test_order_recomputes_the_customer_and_reaches_the_facts(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    async with app.state.db.session() as s:
        ids = await build(s, now=utcnow())
        await service.run_all(s, config=CONFIG)
    # Anonymous callers learn nothing; agents read figures but not the planners' run.
    assert (await client.get(f"/api/customers/{ids[9]}/analytics")).status_code == 401
    await login(client, await make_user(Role.agent))
    assert (await client.get("/api/analytics/runs/latest")).json()["error"] == "forbidden"
    before = (await client.get(f"/api/customers/{ids[9]}/analytics")).json()
    assert (before["tier"], [p["sku"] for p in before["next_products"]]) == ("silver", ["TRAVEL", "MORT"])
    assert (await client.get("/api/customers/999999/analytics")).json()["error"] == "customer_not_found"
    top = (await client.get("/api/products/MORT/associations", params={"limit": 1})).json()
    assert [(a["consequent_sku"], a["baskets"], a["antecedent_baskets"]) for a in top] == [("TRAVEL", 4, 4)]
    assert (await client.get("/api/products/MORT/associations", params={"limit": 0})).status_code == 422
    async with app.state.db.session() as s:
        facts = await app.state.suggestions.facts.gather(s, customer_id=ids[9], conversation_id=None, contact={})
    assert facts["ptc"]["product"] == "TRAVEL"
    assert facts["ptc"]["reason"] == "owns the Everyday account; 50 % of its 16 holders took the Travel card, lift 1.4"
    assert facts["associations"] == {"suggested": ["TRAVEL", "MORT"], "with_newest": ["TRAVEL", "MORT"]}
    assert facts["customer"]["value_tier"] == "silver"

    await login(client, await make_user(Role.admin))
    assert (await client.get("/api/analytics/runs/latest")).json()["customers"] == 22
    r = await client.post("/api/orders", json={"customer_id": ids[9], "sku": "TRAVEL", "amount": "2500.00"})
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 10
    while True:
        after = (await client.get(f"/api/customers/{ids[9]}/analytics")).json()
        if after["tier"] != "silver" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert (after["tier"], after["value"]) == ("platinum", "3700.00")
    assert [p["sku"] for p in after["next_products"]] == ["MORT"]
    # The suggestions runtime heard analytics' event: its cached facts were dropped, the new ones read.
    deadline = time.monotonic() + 10
    while True:
        async with app.state.db.session() as s:
            facts = await app.state.suggestions.facts.gather(s, customer_id=ids[9], conversation_id=None, contact={})
        if facts["customer"]["value_tier"] == "platinum" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert (facts["customer"]["value_tier"], facts["ptc"]["product"], facts["ptc"]["products"]) == (
        "platinum",
        "MORT",
        ["MORT"],
    )
    assert app.state.analytics.recomputed == 1

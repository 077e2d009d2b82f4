"""A running campaign is suggested when a targeted customer makes contact on any channel, held out customers
are recorded (contacted) but shown nothing, and the results count the funnel per group."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from contactcenter.campaigns.targeting import held_out
from contactcenter.integration import service as integration
from contactcenter.integration.schemas import OrderIn
from contactcenter.suggestions.facts import contact_facts
from contactcenter.types import Role
from tests.campaigns.helpers import bank, body, contact, staff
from tests.conftest import UserFactory

TARGET = {"product": "TRAVEL", "product_via": "ptp"}
LISTED = [9, 11, 12, 17, 18, 19, 20]  # see test_targeting


def _split_id(ids: dict[int, int]) -> str:
    """A campaign id whose 50 % hold-out puts 3 of the list or more on the treated side and 2 or more on the
    held-out side (customer ids are known, so the split is)."""
    for i in range(100):
        cid = f"travel-{i}"
        held = sum(held_out(cid, ids[n], 50) for n in LISTED)
        if 2 <= held <= len(LISTED) - 3:
            return cid
    raise AssertionError("no split")


async def _suggestions(agent: httpx.AsyncClient, conv: str) -> list[dict[str, Any]]:
    r = await agent.get(f"/api/conversations/{conv}/suggestions")
    assert r.status_code == 200, r.text
    got: list[dict[str, Any]] = r.json()["suggestions"]
    return [s for s in got if s["rule_id"].startswith("campaign:")]


async def test_suggested_on_every_channel_and_counted(app: FastAPI, make_user: UserFactory) -> None:
    ids = await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    agent, agent_id = await staff(app, make_user, Role.agent)
    cid = _split_id(ids)
    assert (await planner.post("/api/campaigns", json=body(cid, **TARGET) | {"holdout_pct": 50})).status_code == 201
    # A draft is offered to nobody.
    conv = await contact(app, customer_id=ids[9], channel="chat", agent_id=agent_id)
    assert await _suggestions(agent, conv) == []
    assert (await planner.post(f"/api/campaigns/{cid}/start")).status_code == 200
    treated = [n for n in LISTED if not held_out(cid, ids[n], 50)]
    held = [n for n in LISTED if held_out(cid, ids[n], 50)]
    # Treated customers on chat, email and callback; two of the held out; c1 (not listed) on chat.
    channels = ["chat", "email", "callback"]
    convs: dict[int, str] = {}
    for i, n in enumerate(treated[:3]):
        convs[n] = await contact(app, customer_id=ids[n], channel=channels[i % 3], agent_id=agent_id)
        [s] = await _suggestions(agent, convs[n])
        assert s["rule_id"] == f"campaign:{cid}" and s["offer"] == "TRAVEL" and s["status"] == "shown"
        assert s["title"] == f"Travel {cid}" and "Travel Insurance" in s["script_html"]
        # The reason names the campaign; beside it, the customer's PTC reason for the product (analytics').
        assert s["reason"].startswith(f"On the “Travel {cid}” campaign's target list, until ")
        assert "took the Travel card" in s["ptc_reason"]
        assert await _suggestions(agent, convs[n]) == [s]  # one record per conversation, however often asked
    for n in held[:2]:
        convs[n] = await contact(app, customer_id=ids[n], channel="email", agent_id=agent_id)
        assert await _suggestions(agent, convs[n]) == []
    other = await contact(app, customer_id=ids[1], channel="chat", agent_id=agent_id)
    assert await _suggestions(agent, other) == []
    # The first treated customer accepts, the second buys at wrap-up, a held-out one orders the product.
    [first] = await _suggestions(agent, convs[treated[0]])
    [second] = await _suggestions(agent, convs[treated[1]])
    assert (await agent.post(f"/api/suggestions/{first['id']}/accept")).json()["status"] == "accepted"
    r = await agent.post(f"/api/suggestions/{second['id']}/convert", json={"product": "TRAVEL", "amount": 30})
    assert r.json()["status"] == "converted"
    async with app.state.db.session() as s:
        order = OrderIn(customer_id=ids[held[0]], sku="TRAVEL", amount=Decimal("30.00"))
        await integration.record_order(s, app.state.bus, data=order)
    for _ in range(250):  # every process's listener attributes the order; this one's is enough
        res = (await planner.get(f"/api/campaigns/{cid}/results")).json()
        if res["holdout"]["converted"] == 1:
            break
        await asyncio.sleep(0.02)
    t, h = res["treated"], res["holdout"]
    assert (t["targeted"], t["contacted"], t["accepted"], t["converted"]) == (len(treated), 3, 2, 1)
    assert (h["targeted"], h["contacted"], h["accepted"], h["converted"]) == (len(held), 2, 0, 1)
    assert res["targeted"] == len(LISTED) and res["contacted"] == 5
    assert t["conversion_rate"] == 1 / 3 and h["conversion_rate"] == 1 / 2
    assert res["uplift"] == 1 / 3 - 1 / 2
    # Orders since the start by anyone on the list: the held-out one's order (the wrap-up sale is no order).
    assert (t["ordered"], h["ordered"]) == (0, 1) and h["order_rate"] == 1 / len(held)
    # Stopped: offered to no one any more, the figures stay.
    assert (await planner.post(f"/api/campaigns/{cid}/stop")).json()["status"] == "stopped"
    late = await contact(app, customer_id=ids[treated[-1]], channel="chat", agent_id=agent_id)
    assert await _suggestions(agent, late) == []
    assert (await planner.get(f"/api/campaigns/{cid}/results")).json()["treated"] == t
    await planner.aclose()
    await agent.aclose()


async def test_rule_facts_name_the_campaign_for_treated_customers_only(app: FastAPI, make_user: UserFactory) -> None:
    ids = await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    cid = _split_id(ids)
    assert (await planner.post("/api/campaigns", json=body(cid, **TARGET) | {"holdout_pct": 50})).status_code == 201
    rt = app.state.suggestions
    one = next(n for n in LISTED if not held_out(cid, ids[n], 50))
    out = next(n for n in LISTED if held_out(cid, ids[n], 50))
    contact_ = contact_facts(channel="voice", queue="general", topic=None, page=None)

    async def ids_of(n: int) -> Any:
        async with app.state.db.session() as s:
            f = await rt.facts.gather(s, customer_id=ids[n], conversation_id=None, contact=contact_)
        assert f is not None
        return f["campaigns"]["ids"]

    assert await ids_of(one) == []  # cached now
    assert (await planner.post(f"/api/campaigns/{cid}/start")).status_code == 200
    # The start is announced; this process's runtime drops its cached facts on hearing it.
    for _ in range(250):
        if await ids_of(one) == [cid]:
            break
        await asyncio.sleep(0.02)
    assert await ids_of(one) == [cid]
    assert await ids_of(out) == []
    await planner.aclose()

"""Beyond a draft: a running campaign's name, script, end date and priority change, its target does not; a
stopped campaign restarts with its list, groups and figures kept and newly matching customers added; the
planner's priority decides which of a customer's campaigns comes first; every move is in the history."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from contactcenter.campaigns.models import Campaign, CampaignTarget
from contactcenter.campaigns.targeting import held_out
from contactcenter.db import utcnow
from contactcenter.integration import service as integration
from contactcenter.integration.schemas import OrderIn
from contactcenter.suggestions.facts import contact_facts
from contactcenter.types import Role
from tests.campaigns.helpers import bank, body, contact, staff
from tests.conftest import UserFactory

PTP = {"product": "TRAVEL", "product_via": "ptp"}  # c9, c11, c12, c17..c20 (test_targeting)
SILVER = {"product": "TRAVEL", "tiers": ["silver"]}  # c9, c11


async def _campaign_ids(agent: httpx.AsyncClient, conv: str) -> list[str]:
    r = await agent.get(f"/api/conversations/{conv}/suggestions")
    assert r.status_code == 200, r.text
    return [s["rule_id"] for s in r.json()["suggestions"] if s["rule_id"].startswith("campaign:")]


async def _fact_ids(app: FastAPI, customer_id: int) -> Any:
    contact_ = contact_facts(channel="voice", queue="general", topic=None, page=None)
    async with app.state.db.session() as s:
        f = await app.state.suggestions.facts.gather(s, customer_id=customer_id, conversation_id=None, contact=contact_)
    assert f is not None
    return f["campaigns"]["ids"]


async def _actions(planner: httpx.AsyncClient, cid: str) -> list[tuple[str, str, dict[str, Any]]]:
    r = await planner.get(f"/api/campaigns/{cid}/history")
    assert r.status_code == 200, r.text
    return [(e["action"], e["by"], e["detail"]) for e in r.json()["events"]]


async def test_the_higher_priority_campaign_is_offered_first(app: FastAPI, make_user: UserFactory) -> None:
    ids = await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    agent, agent_id = await staff(app, make_user, Role.agent)
    # By id "a-low" would come first; the planner's priority puts "b-high" before it.
    for cid, prio in (("a-low", 10), ("b-high", 90)):
        r = await planner.post("/api/campaigns", json=body(cid, **PTP) | {"priority": prio})
        assert r.status_code == 201 and r.json()["priority"] == prio
        assert (await planner.post(f"/api/campaigns/{cid}/start")).status_code == 200
    conv = await contact(app, customer_id=ids[9], channel="chat", agent_id=agent_id)
    assert await _campaign_ids(agent, conv) == ["campaign:b-high", "campaign:a-low"]
    assert await _fact_ids(app, ids[12]) == ["b-high", "a-low"]  # the rules' campaigns.ids, cached now
    # The list page shows it; a running campaign's priority changes, and the next contact follows it.
    listed = {c["id"]: c["priority"] for c in (await planner.get("/api/campaigns")).json()["campaigns"]}
    assert listed == {"a-low": 10, "b-high": 90}
    r = await planner.put("/api/campaigns/a-low", json=body("a-low", **PTP) | {"priority": 95})
    assert r.status_code == 200 and r.json()["priority"] == 95 and r.json()["status"] == "running"
    conv2 = await contact(app, customer_id=ids[11], channel="email", agent_id=agent_id)
    assert await _campaign_ids(agent, conv2) == ["campaign:a-low", "campaign:b-high"]
    # The edit is announced; this process's runtime drops its cached facts on hearing it.
    for _ in range(250):
        if await _fact_ids(app, ids[12]) == ["a-low", "b-high"]:
            break
        await asyncio.sleep(0.02)
    assert await _fact_ids(app, ids[12]) == ["a-low", "b-high"]
    await planner.aclose()
    await agent.aclose()


async def test_a_running_campaign_edits_what_does_not_move_its_list(app: FastAPI, make_user: UserFactory) -> None:
    await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    ok = body("run", **PTP) | {"starts_on": (utcnow().date() - timedelta(days=10)).isoformat()}
    assert (await planner.post("/api/campaigns", json=ok)).status_code == 201
    assert (await planner.post("/api/campaigns/run/start")).status_code == 200
    later = (utcnow().date() + timedelta(days=90)).isoformat()
    edit = ok | {"name": "Travel, longer", "script_id": "home_insurance", "ends_on": later, "priority": 70}
    r = await planner.put("/api/campaigns/run", json=edit)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["name"], got["script_id"], got["ends_on"], got["priority"]) == (
        "Travel, longer",
        "home_insurance",
        later,
        70,
    )
    assert got["status"] == "running" and got["target_size"] == 7
    # Who it targets needs a stop first, and the error says so.
    r = await planner.put("/api/campaigns/run", json=edit | {"target": SILVER})
    assert (r.status_code, r.json()["error"]) == (409, "campaign_running")
    assert "stop it" in r.json()["detail"]
    # The product, the start and the hold-out are fixed once started, whatever the status.
    for change in ({"product_sku": "MORT"}, {"holdout_pct": 10}, {"starts_on": later}):
        r = await planner.put("/api/campaigns/run", json=edit | change)
        assert (r.status_code, r.json()["error"]) == (409, "campaign_started"), change
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    r = await planner.put("/api/campaigns/run", json=edit | {"ends_on": yesterday})
    assert (r.status_code, r.json()["error"]) == (422, "ends_in_past")
    assert (await planner.put("/api/campaigns/run", json=edit | {"script_id": "nope"})).json()[
        "error"
    ] == "unknown_script"
    now = (await planner.get("/api/campaigns/run")).json()
    assert (now["name"], now["priority"], now["target"]) == ("Travel, longer", 70, got["target"])
    # The same body again changes nothing and writes no history.
    assert (await planner.put("/api/campaigns/run", json=edit)).status_code == 200
    actions = await _actions(planner, "run")
    assert [a for a, _, _ in actions] == ["created", "started", "edited"]
    assert actions[2][2] == {"changed": ["ends_on", "name", "priority", "script_id"]}
    assert actions[1][2] == {"added": 7, "size": 7}
    await planner.aclose()


async def test_a_restart_keeps_the_list_its_groups_and_figures(app: FastAPI, make_user: UserFactory) -> None:
    ids = await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    agent, agent_id = await staff(app, make_user, Role.agent)
    cid = "again"
    assert (await planner.post("/api/campaigns", json=body(cid, **SILVER) | {"holdout_pct": 50})).status_code == 201
    started = (await planner.post(f"/api/campaigns/{cid}/start")).json()
    assert started["target_size"] == 2
    first = {
        t["customer_id"]: t["held_out"] for t in (await planner.get(f"/api/campaigns/{cid}/targets")).json()["targets"]
    }
    assert first == {ids[9]: held_out(cid, ids[9], 50), ids[11]: held_out(cid, ids[11], 50)}
    conv = await contact(app, customer_id=ids[9], channel="chat", agent_id=agent_id)
    await agent.get(f"/api/conversations/{conv}/suggestions")
    before = (await planner.get(f"/api/campaigns/{cid}/results")).json()
    assert before["contacted"] == 1
    assert (await planner.post(f"/api/campaigns/{cid}/stop")).status_code == 200
    assert (await planner.post(f"/api/campaigns/{cid}/start")).json()["error"] == "campaign_stopped"
    # Stopped, its target widens (owners of TRAVEL too); c12 buys TRAVEL before the restart adds it.
    wider = body(cid, **(PTP | {"exclude_owners": False})) | {"holdout_pct": 50}
    r = await planner.put(f"/api/campaigns/{cid}", json=wider)
    assert r.status_code == 200 and r.json()["status"] == "stopped"
    async with app.state.db.session() as s:
        await integration.record_order(
            s, app.state.bus, data=OrderIn(customer_id=ids[12], sku="TRAVEL", amount=Decimal("30"))
        )
    preview = await planner.post("/api/campaigns/preview", json={"target": wider["target"], "product_sku": "TRAVEL"})
    size = preview.json()["size"]
    assert size > 7  # the seven of PTP and owners of TRAVEL with an associated product
    r = await planner.post(f"/api/campaigns/{cid}/restart")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "running" and r.json()["stopped_at"] is None and r.json()["target_size"] == size
    assert r.json()["started_at"] == started["started_at"]  # the first start: results count from it
    listed = {
        t["customer_id"]: t["held_out"] for t in (await planner.get(f"/api/campaigns/{cid}/targets")).json()["targets"]
    }
    assert set(listed) >= {ids[n] for n in (9, 11, 12, 17, 18, 19, 20)} and len(listed) == size
    assert all(listed[c] == held_out(cid, c, 50) for c in listed)  # the same split as a first start makes
    assert {c: listed[c] for c in first} == first
    # c9 again, on a new conversation: still one contacted customer. c12's order came before it joined.
    conv2 = await contact(app, customer_id=ids[9], channel="email", agent_id=agent_id)
    await agent.get(f"/api/conversations/{conv2}/suggestions")
    after = (await planner.get(f"/api/campaigns/{cid}/results")).json()
    assert after["targeted"] == size and after["contacted"] == 1
    assert after["treated"]["ordered"] + after["holdout"]["ordered"] == 0
    async with app.state.db.session() as s:
        await integration.record_order(
            s, app.state.bus, data=OrderIn(customer_id=ids[12], sku="TRAVEL", amount=Decimal("30"))
        )
    after = (await planner.get(f"/api/campaigns/{cid}/results")).json()
    group = "holdout" if listed[ids[12]] else "treated"
    assert after[group]["ordered"] == 1
    actions = await _actions(planner, cid)
    assert [a for a, _, _ in actions] == ["created", "started", "stopped", "edited", "restarted"]
    assert actions[-1][2] == {"added": size - 2, "size": size} and actions[3][2] == {"changed": ["target"]}
    await planner.aclose()
    await agent.aclose()


async def test_two_restarts_at_once_one_wins(app: FastAPI, make_user: UserFactory) -> None:
    await bank(app)
    a, _ = await staff(app, make_user, Role.planner)
    b, _ = await staff(app, make_user, Role.planner)
    assert (await a.post("/api/campaigns", json=body("race", **SILVER))).status_code == 201
    assert (await a.post("/api/campaigns/race/start")).status_code == 200
    assert (await a.post("/api/campaigns/race/stop")).status_code == 200
    assert (await a.put("/api/campaigns/race", json=body("race", **PTP))).status_code == 200
    ra, rb = await asyncio.gather(a.post("/api/campaigns/race/restart"), b.post("/api/campaigns/race/restart"))
    assert sorted([ra.status_code, rb.status_code]) == [200, 409]
    lost = ra if ra.status_code == 409 else rb
    assert lost.json()["error"] == "campaign_running" and "running" in lost.json()["detail"]
    async with app.state.db.session() as s:
        n = await s.scalar(select(func.count()).select_from(CampaignTarget).where(CampaignTarget.campaign_id == "race"))
        c = await s.get(Campaign, "race")
    assert c is not None and n == c.target_size == 7
    actions = await _actions(a, "race")
    assert [x for x, _, _ in actions].count("restarted") == 1
    await a.aclose()
    await b.aclose()


async def test_a_campaign_whose_period_is_over_restarts_once_its_end_moves(
    app: FastAPI, make_user: UserFactory
) -> None:
    await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    ok = body("late", **SILVER)
    assert (await planner.post("/api/campaigns", json=ok)).status_code == 201
    assert (await planner.post("/api/campaigns/late/start")).status_code == 200
    assert (await planner.post("/api/campaigns/late/stop")).status_code == 200
    assert (await planner.post("/api/campaigns/late/restart")).status_code == 200
    assert (await planner.post("/api/campaigns/late/restart")).json()["error"] == "campaign_running"
    assert (await planner.post("/api/campaigns/late/stop")).status_code == 200
    today = utcnow().date()
    async with app.state.db.session() as s:
        await s.execute(update(Campaign).where(Campaign.id == "late").values(ends_on=today - timedelta(days=1)))
        await s.commit()
    r = await planner.post("/api/campaigns/late/restart")
    assert (r.status_code, r.json()["error"]) == (409, "campaign_over")
    assert "end date" in r.json()["detail"]
    r = await planner.put("/api/campaigns/late", json=ok | {"ends_on": (today + timedelta(days=5)).isoformat()})
    assert r.status_code == 200
    r = await planner.post("/api/campaigns/late/restart")
    assert r.status_code == 200 and r.json()["target_size"] == 2  # nobody new matches: nobody added twice
    await planner.aclose()


async def test_a_restart_does_not_add_a_customer_whose_merged_record_is_listed(
    app: FastAPI, make_user: UserFactory
) -> None:
    """c9 is on the list and is merged into c5 while stopped: c5 (silver) matches the wider target, but it is c9,
    the same person, so the restart leaves it out and the figures count them once."""
    ids = await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    supervisor, sup_id = await staff(app, make_user, Role.supervisor)
    assert (await planner.post("/api/campaigns", json=body("merged", **SILVER))).status_code == 201
    assert (await planner.post("/api/campaigns/merged/start")).json()["target_size"] == 2
    assert (await planner.post("/api/campaigns/merged/stop")).status_code == 200
    async with app.state.db.session() as s:
        from contactcenter.ccr import service as ccr

        await ccr.merge_customers(s, app.state.bus, source_id=ids[9], target_id=ids[5], actor_id=sup_id, reason="same")
    wider = {"tiers": ["silver"], "consented_only": False, "exclude_owners": False}
    preview = (await planner.post("/api/campaigns/preview", json={"target": wider, "product_sku": "TRAVEL"})).json()
    matching = {r["customer_id"] for r in preview["sample"]}
    assert ids[5] in matching and ids[9] not in matching and ids[11] in matching
    assert (await planner.put("/api/campaigns/merged", json=body("merged", **wider))).status_code == 200
    r = await planner.post("/api/campaigns/merged/restart")
    assert r.status_code == 200, r.text
    listed = {t["customer_id"] for t in (await planner.get("/api/campaigns/merged/targets")).json()["targets"]}
    assert listed == (matching - {ids[5]}) | {ids[9]}
    assert (
        r.json()["target_size"]
        == len(listed)
        == (await planner.get("/api/campaigns/merged/results")).json()["targeted"]
    )
    await planner.aclose()
    await supervisor.aclose()

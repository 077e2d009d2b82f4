"""Planner API on both deployments: rules imported at start, publish / refuse / rollback, holdout, stats; the
agent side: suggestions for a conversation, accept, dismiss, convert, ownership."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from contactcenter.auth.models import StaffUser
from contactcenter.types import Role
from tests.conftest import UserFactory, login
from tests.suggestions.helpers import conversation, customer, demo_rule, table


async def _user_id(app: FastAPI, username: str) -> int:
    from sqlalchemy import select

    async with app.state.db.session() as s:
        uid = await s.scalar(select(StaffUser.id).where(StaffUser.username == username))
    assert uid is not None
    return int(uid)


async def test_rules_from_the_folder_are_listed_with_figures(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    await login(client, await make_user(Role.planner))
    r = await client.get("/api/rules")
    assert r.status_code == 200
    rules = {x["id"]: x for x in r.json()["rules"]}
    assert set(rules) == {"fund-advisor", "retention", "home-insurance", "mortgage-first", "travel-insurance"}
    fa = rules["fund-advisor"]
    assert fa["version"] == 1 and fa["author"] == "rules/ folder" and fa["stats"]["shown"] == 0
    assert set(fa["stats"]) == {
        "shown", "accepted", "dismissed", "converted", "conversion_rate", "holdout", "holdout_converted", "uplift"
    }  # fmt: skip
    detail = (await client.get("/api/rules/fund-advisor")).json()
    assert detail["content"] == demo_rule("fund-advisor") and detail["versions"][0]["version"] == 1
    facts = (await client.get("/api/facts")).json()["facts"]
    assert {"name": "customer.value_tier"}.items() <= facts[10].items() or any(
        f["name"] == "customer.value_tier" for f in facts
    )
    scripts = (await client.get("/api/scripts")).json()["scripts"]
    assert {"id": "fund_advisor", "title": "Fund adviser introduction"} in scripts
    src = (await client.get("/api/scripts/fund_advisor")).json()["source"]
    assert "Global Equity Fund" in src
    assert (await client.get("/api/scripts/nope")).status_code == 404
    assert (await client.get("/api/rules/nope")).json()["error"] == "rule_not_found"


async def test_publish_refused_keeps_the_version_in_force_then_publish_and_rollback(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    planner = await make_user(Role.planner)
    await login(client, planner)
    bad = demo_rule("fund-advisor")
    bad["nodes"].append({"id": "f", "type": "functionNode", "name": "JS", "content": {"source": "x"}})
    r = await client.post("/api/rules/fund-advisor/publish", json={"content": bad, "comment": "sneaky"})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_rule" and "function" in body["problems"][0]["message"]
    assert set(body["problems"][0]) == {"path", "row", "message"}
    bad = demo_rule("fund-advisor")
    table(bad)["rules"][1]["out_script"] = '"no_such_script"'
    r = await client.post("/api/rules/fund-advisor/publish", json={"content": bad, "comment": "typo"})
    assert r.status_code == 422 and r.json()["problems"][0]["row"] == 2
    assert (await client.get("/api/rules/fund-advisor")).json()["version"] == 1
    assert app.state.suggestions.rules.rules["fund-advisor"].version == 1

    good = demo_rule("fund-advisor")
    table(good)["rules"][0]["out_priority"] = "95"
    r = await client.post("/api/rules/fund-advisor/publish", json={"content": good, "comment": "higher"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["author"] == planner.title() and r.json()["comment"] == "higher"
    assert app.state.suggestions.rules.rules["fund-advisor"].version == 2
    r = await client.post("/api/rules/fund-advisor/rollback", json={"version": 1, "comment": "back"})
    assert r.json()["version"] == 3
    detail = (await client.get("/api/rules/fund-advisor")).json()
    assert detail["content"] == demo_rule("fund-advisor")
    assert [v["version"] for v in detail["versions"]] == [3, 2, 1]
    v2 = (await client.get("/api/rules/fund-advisor/versions/2")).json()
    assert table(v2["content"])["rules"][0]["out_priority"] == "95"
    assert (await client.get("/api/rules/fund-advisor/versions/9")).status_code == 404
    assert (await client.post("/api/rules/fund-advisor/rollback", json={"version": 9})).status_code == 404
    r = await client.put("/api/rules/fund-advisor/holdout", json={"holdout_pct": 20})
    assert r.json() == {"id": "fund-advisor", "holdout_pct": 20}
    assert (await client.put("/api/rules/fund-advisor/holdout", json={"holdout_pct": 80})).status_code == 422
    assert app.state.suggestions.rules.rules["fund-advisor"].holdout_pct == 20
    stats = (await client.get("/api/rules/fund-advisor/stats")).json()["versions"]
    assert [s["version"] for s in stats] == [1, 2, 3] and stats[0]["shown"] == 0


async def test_new_rule_and_bad_json_shapes(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    await login(client, await make_user(Role.planner))
    r = await client.post(
        "/api/rules/new-rule/publish", json={"content": demo_rule("retention"), "comment": "new", "name": "Brand new"}
    )
    assert r.status_code == 200 and r.json()["version"] == 1
    assert (await client.get("/api/rules/new-rule")).json()["name"] == "Brand new"
    for content in ({}, {"nodes": "x"}, {"nodes": [], "edges": []}):
        r = await client.post("/api/rules/new-rule/publish", json={"content": content})
        assert r.status_code == 422 and r.json()["error"] == "invalid_rule", r.text
    assert (await client.post("/api/rules/Bad%20Id/publish", json={"content": {}})).status_code == 422


async def test_draft_test_against_a_customer_and_a_sample(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    async with app.state.db.session() as s:
        gold = await customer(s, name="Grace Gold", value_tier="gold", home_branch="Leeds Briggate")
        await customer(s, name="Sid Silver", value_tier="silver")
    await login(client, await make_user(Role.planner))
    contact = {"channel": "chat", "queue": "general", "topic": None, "page": "https://bank.example/funds/global-equity"}
    body: dict[str, Any] = {"content": demo_rule("fund-advisor"), "customer_id": gold, "contact": contact}
    r = await client.post("/api/rules/fund-advisor/test", json=body)
    assert r.status_code == 200, r.text
    [res] = r.json()["results"]
    assert res["customer_name"] == "Grace Gold" and res["matched"] is True
    assert res["rows"][0]["row_id"] == "fund-advisor-1" and res["rows"][0]["index"] == 1
    assert 'customer.value_tier "gold", "platinum"' in res["rows"][0]["reason"]
    assert res["rows"][0]["outputs"]["offer"] == "HB-FD-GLOBAL" and "Grace" in res["script"]
    r = await client.post("/api/rules/fund-advisor/test", json={**body, "customer_id": None, "sample": 10})
    got = {x["customer_name"]: x["matched"] for x in r.json()["results"]}
    assert got == {"Grace Gold": True, "Sid Silver": False}
    r = await client.post("/api/rules/fund-advisor/test", json={**body, "customer_id": 999_999})
    assert r.status_code == 404
    bad = demo_rule("fund-advisor")
    table(bad)["inputs"][0]["field"] = "customer.nope"
    r = await client.post("/api/rules/fund-advisor/test", json={**body, "content": bad})
    assert r.status_code == 422 and "customer.nope" in r.json()["problems"][0]["message"]


async def test_agent_sees_accepts_and_converts_and_the_planner_sees_the_counts(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    agent = await make_user(Role.agent)
    other = await make_user(Role.agent)
    planner = await make_user(Role.planner)
    async with app.state.db.session() as s:
        cid = await customer(s, name="Grace Gold", value_tier="gold", previous_tier="platinum")
        conv = await conversation(
            s, customer_id=cid, agent_id=await _user_id(app, agent), page="https://bank.example/funds/global-equity"
        )
    await login(client, agent)
    r = await client.get(f"/api/conversations/{conv}/suggestions")
    assert r.status_code == 200, r.text
    sugg = r.json()["suggestions"]
    assert [(x["rule_id"], x["script_id"]) for x in sugg] == [
        ("retention", "retention"),
        ("fund-advisor", "fund_advisor"),
    ]
    fund = sugg[1]
    assert fund["offer"] == "HB-FD-GLOBAL" and fund["status"] == "shown" and fund["version"] == 1
    assert "Grace" in fund["script_html"] and "<strong>Global Equity Fund</strong>" in fund["script_html"]
    assert fund["reason"] == "Gold or platinum customer reading about funds right now"
    again = (await client.get(f"/api/conversations/{conv}/suggestions")).json()["suggestions"]
    assert [x["id"] for x in again] == [x["id"] for x in sugg]  # recorded once
    assert (await client.post(f"/api/suggestions/{fund['id']}/accept")).json()["status"] == "accepted"
    r = await client.post(f"/api/suggestions/{fund['id']}/convert", json={"product": "HB-FD-GLOBAL", "amount": 5000})
    assert r.json()["status"] == "converted"
    r = await client.post(f"/api/suggestions/{fund['id']}/convert", json={"product": "HB-FD-GLOBAL", "amount": 1})
    assert r.status_code == 409
    r = await client.post(f"/api/suggestions/{sugg[0]['id']}/dismiss", json={"reason": "Customer in a hurry"})
    assert r.json()["status"] == "dismissed"
    assert (await client.post(f"/api/suggestions/{sugg[0]['id']}/dismiss", json={"reason": ""})).status_code == 422

    await login(client, other)  # not their conversation
    assert (await client.get(f"/api/conversations/{conv}/suggestions")).status_code == 404
    assert (await client.post(f"/api/suggestions/{fund['id']}/accept")).json()["error"] == "suggestion_not_found"

    await login(client, planner)
    rules = {x["id"]: x["stats"] for x in (await client.get("/api/rules")).json()["rules"]}
    assert rules["fund-advisor"] | {} == {
        "shown": 1, "accepted": 1, "dismissed": 0, "converted": 1, "conversion_rate": 1.0,
        "holdout": 0, "holdout_converted": 0, "uplift": None,
    }  # fmt: skip
    assert rules["retention"]["dismissed"] == 1 and rules["retention"]["converted"] == 0
    assert (await client.get(f"/api/conversations/{conv}/suggestions")).status_code == 403

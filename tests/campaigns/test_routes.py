"""Campaign routes: planners write, agents and supervisors cannot, nobody without a session; bad input is
refused with a code a page can explain; two starts at once write the list once."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from contactcenter.campaigns.models import Campaign, CampaignTarget
from contactcenter.types import Role
from tests.campaigns.helpers import bank, body, staff
from tests.conftest import UserFactory

TARGET = {"product": "TRAVEL", "product_via": "ptp"}
ROUTES = [
    ("GET", "/api/campaigns"),
    ("POST", "/api/campaigns"),
    ("POST", "/api/campaigns/preview"),
    ("GET", "/api/campaigns/c1"),
    ("PUT", "/api/campaigns/c1"),
    ("POST", "/api/campaigns/c1/start"),
    ("POST", "/api/campaigns/c1/stop"),
    ("POST", "/api/campaigns/c1/restart"),
    ("GET", "/api/campaigns/c1/history"),
    ("GET", "/api/campaigns/c1/results"),
    ("GET", "/api/campaigns/c1/targets"),
]


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
async def test_only_planners_and_admins(app: FastAPI, make_user: UserFactory, role: Role) -> None:
    await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    assert (await planner.post("/api/campaigns", json=body("c1", **TARGET))).status_code == 201
    other, _ = await staff(app, make_user, role)
    for method, path in ROUTES:
        r = await other.request(method, path, json=body("c1", **TARGET) if method != "GET" else None)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", (method, path, r.text)
    anon = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    for method, path in ROUTES:
        r = await anon.request(method, path, json=body("c1", **TARGET) if method != "GET" else None)
        assert r.status_code == 401, (method, path)
    # Nothing moved: still a draft with no list.
    assert (await planner.get("/api/campaigns/c1")).json()["status"] == "draft"
    admin, _ = await staff(app, make_user, Role.admin)
    assert (
        await admin.post("/api/campaigns/preview", json={"target": TARGET, "product_sku": "TRAVEL"})
    ).status_code == 200
    for c in (planner, other, anon, admin):
        await c.aclose()


async def test_a_forged_session_and_a_missing_csrf_token_are_refused(app: FastAPI, make_user: UserFactory) -> None:
    await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    token = planner.headers.pop("X-CSRF-Token")
    r = await planner.post("/api/campaigns", json=body("c1", **TARGET))
    assert (r.status_code, r.json()["error"]) == (403, "csrf_failed")
    planner.headers["X-CSRF-Token"] = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    r = await planner.post("/api/campaigns", json=body("c1", **TARGET))
    assert (r.status_code, r.json()["error"]) == (403, "csrf_failed")
    forged = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    forged.cookies.set("cc_session", "forged-" + "x" * 40)
    assert (await forged.get("/api/campaigns")).status_code == 401
    planner.headers["X-CSRF-Token"] = token
    assert (await planner.get("/api/campaigns")).json() == {"campaigns": []}
    await planner.aclose()
    await forged.aclose()


async def test_bad_input_is_refused_plainly(app: FastAPI, make_user: UserFactory) -> None:
    await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    ok = body("c1", **TARGET)
    bad = [
        ok | {"id": "../etc"},
        ok | {"id": "x" * 49},
        ok | {"holdout_pct": 80},
        ok | {"ends_on": "2020-01-01"},
        ok | {"script_id": "../../etc/passwd"},
        ok | {"target": {"tiers": ["diamond"]}},
        ok | {"target": {"min_attrition_risk": 2}},
        ok | {"target": {"sql": "DROP TABLE customers"}},
        ok | {"name": ""},
        ok | {"name": "n" * 121},
        ok | {"priority": -1},
        ok | {"priority": 101},
        ok | {"priority": 1.5},
        ok | {"priority": "high"},
    ]
    for b in bad:
        r = await planner.post("/api/campaigns", json=b)
        assert r.status_code == 422 and set(r.json()) >= {"error", "detail"}, (b, r.text)
    r = await planner.post("/api/campaigns", json=ok | {"script_id": "no_such_script"})
    assert (r.status_code, r.json()["error"]) == (422, "unknown_script")
    r = await planner.post("/api/campaigns", json=ok | {"product_sku": "NOPE"})
    assert (r.status_code, r.json()["error"]) == (422, "unknown_product")
    r = await planner.post("/api/campaigns", content=b'{"id": "' + b"x" * 3_000_000 + b'"}')
    assert r.status_code == 413
    assert (await planner.post("/api/campaigns", json=ok)).status_code == 201
    r = await planner.post("/api/campaigns", json=ok)
    assert (r.status_code, r.json()["error"]) == (409, "campaign_exists")
    r = await planner.put("/api/campaigns/c1", json=ok | {"id": "c2"})
    assert (r.status_code, r.json()["error"]) == (422, "id_mismatch")
    r = await planner.post("/api/campaigns/c1/stop")
    assert (r.status_code, r.json()["error"]) == (409, "campaign_draft")
    assert (await planner.get("/api/campaigns/nope")).json()["error"] == "campaign_not_found"
    assert (await planner.get("/api/campaigns/c1/results")).json()["targeted"] == 0  # a draft has no list
    # A draft changes (its priority too: 50 unless given); a started one less (test_lifecycle).
    assert (await planner.get("/api/campaigns/c1")).json()["priority"] == 50
    r = await planner.put("/api/campaigns/c1", json=ok | {"name": "Renamed", "holdout_pct": 20, "priority": 0})
    assert r.status_code == 200 and (r.json()["name"], r.json()["holdout_pct"], r.json()["priority"]) == (
        "Renamed",
        20,
        0,
    )
    r = await planner.put("/api/campaigns/c1", json=ok | {"priority": 101})
    assert r.status_code == 422
    assert (await planner.post("/api/campaigns/c1/restart")).json()["error"] == "campaign_draft"
    assert (await planner.post("/api/campaigns/c1/start")).status_code == 200
    r = await planner.put("/api/campaigns/c1", json=ok | {"holdout_pct": 30})
    assert (r.status_code, r.json()["error"]) == (409, "campaign_started")
    r = await planner.post("/api/campaigns/c1/start")
    assert (r.status_code, r.json()["error"]) == (409, "campaign_running")
    await planner.aclose()


async def test_two_starts_at_once_write_the_list_once(app: FastAPI, make_user: UserFactory) -> None:
    await bank(app)
    a, _ = await staff(app, make_user, Role.planner)
    b, _ = await staff(app, make_user, Role.planner)
    assert (await a.post("/api/campaigns", json=body("race", **TARGET))).status_code == 201
    ra, rb = await asyncio.gather(a.post("/api/campaigns/race/start"), b.post("/api/campaigns/race/start"))
    assert sorted([ra.status_code, rb.status_code]) == [200, 409]
    async with app.state.db.session() as s:
        n = await s.scalar(select(func.count()).select_from(CampaignTarget).where(CampaignTarget.campaign_id == "race"))
        c = await s.get(Campaign, "race")
    assert c is not None and n == c.target_size == 7
    await a.aclose()
    await b.aclose()

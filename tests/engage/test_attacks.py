"""Attacks on the invitation routes, each performed: a forged or foreign visitor token, no browsing consent,
a flood of checks (429, nothing recorded past the cap), an enormous address (422), answering another
visitor's invitation, a non-planner writing the rules, and many checks at once still invite once."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from contactcenter.engage.models import Invitation
from tests.engage.conftest import PRICING, People, visitor


async def _count(app: FastAPI) -> int:
    async with app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Invitation)) or 0)


async def test_forged_token_and_no_consent_are_refused_and_record_nothing(app: FastAPI) -> None:
    body = {"url": PRICING, "seconds": 500}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        assert (await c.post("/api/engage/check", json=body)).status_code == 401
        forged = {"Authorization": "Bearer v1.eyJjIjoxfQ.forged"}
        r = await c.post("/api/engage/check", json=body, headers=forged)
        assert r.status_code == 401 and r.json()["error"] == "not_authenticated"
    for browsing in (None, False):  # never asked; said "No thanks"
        v = await visitor(app, browsing=browsing)
        r = await v.check(seconds=500)
        assert r.status_code == 403 and r.json()["error"] == "consent_required"
    # Consent to an older policy no longer counts.
    v = await visitor(app)
    app.state.settings.consent_policy_version = "2"
    assert (await v.check(seconds=500)).status_code == 403
    assert await _count(app) == 0


async def test_enormous_addresses_and_junk_are_422(app: FastAPI) -> None:
    v = await visitor(app)
    r = await v.check(url="https://bank.example/" + "p" * 5000, seconds=500)
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    assert (await v.check(seconds=-1)).status_code == 422
    assert (await v.check(seconds=10**9)).status_code == 422
    r = await v.c.post("/api/engage/check", json={"url": PRICING, "seconds": 1, "extra": "x"})
    assert r.status_code == 422
    r = await v.c.post("/api/engage/invitations/1/answer", json={"answer": "bought"})
    assert r.status_code == 422
    assert await _count(app) == 0


async def test_a_flood_of_checks_is_429(app: FastAPI) -> None:
    v = await visitor(app)
    limit = app.state.settings.engage_checks_per_minute
    codes = [(await v.check(seconds=0)).status_code for _ in range(limit + 3)]
    assert codes[:limit] == [200] * limit and codes[limit:] == [429] * 3
    r = await v.check(seconds=0)
    assert r.json()["error"] == "too_many_checks" and int(r.headers["Retry-After"]) >= 1
    other = await visitor(app)  # per visitor: another is not held back
    assert (await other.check(seconds=0)).status_code == 200


async def test_many_checks_at_once_invite_once(app: FastAPI) -> None:
    v = await visitor(app)
    replies = await asyncio.gather(*(v.check(seconds=100) for _ in range(10)))
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    invited = [r.json()["invitation"] for r in replies if r.json()["invitation"]]
    assert len(invited) == 1 and await _count(app) == 1


async def test_the_cap_allows_three_a_day_and_none_within_the_gap(app: FastAPI) -> None:
    app.state.settings.engage_gap_minutes = 0.0
    v = await visitor(app)
    got = [(await v.check(seconds=100)).json()["invitation"] is not None for _ in range(5)]
    assert got == [True, True, True, False, False]


async def test_someone_elses_invitation_and_the_rules_are_out_of_reach(app: FastAPI, people: People) -> None:
    a, b = await visitor(app), await visitor(app)
    got = (await a.check(seconds=100)).json()["invitation"]
    r = await b.c.post(f"/api/engage/invitations/{got['id']}/answer", json={"answer": "accepted"})
    assert r.status_code == 404 and r.json()["error"] == "invitation_not_found"
    staff = await people("a1", "sup")
    rules = {"rules": [{"id": "all", "name": "Everyone", "topic": "x"}]}
    for who in ("a1", "sup"):
        assert (await staff[who].c.put("/api/engage/rules", json=rules)).status_code == 403
        assert (await staff[who].c.get("/api/engage/rules")).status_code == 403
    assert (await a.c.put("/api/engage/rules", json=rules)).status_code in (401, 403)

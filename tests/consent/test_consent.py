"""Consent on both backends: the policy's version, a visitor's answers recorded per purpose with version and
time, asked again when the version changes, and the attacks: no token, a forged one, an old version, a
flood of the same answer, junk bodies."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from contactcenter.consent.models import VisitorConsent
from contactcenter.settings import Settings


async def _visitor(client: httpx.AsyncClient) -> dict[str, str]:
    r = await client.post("/api/visitors")
    assert r.status_code == 201, r.text
    return {"Authorization": "Bearer " + r.json()["token"]}


async def _rows(app: FastAPI) -> int:
    async with app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(VisitorConsent)) or 0)


async def test_answers_are_recorded_per_purpose_and_asked_again_when_the_policy_changes(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    settings.consent_policy_version = "2026-01"
    policy = (await client.get("/api/consent/policy")).json()
    assert policy == {"version": "2026-01", "purposes": ["storage", "browsing"], "url": None}
    me = await _visitor(client)
    before = (await client.get("/api/consent", headers=me)).json()
    assert before == {"version": "2026-01", "current": False, "answers": []}

    r = await client.post("/api/consent", json={"version": "2026-01", "storage": True, "browsing": False}, headers=me)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["current"] is True
    assert {(a["purpose"], a["granted"], a["version"]) for a in out["answers"]} == {
        ("storage", True, "2026-01"),
        ("browsing", False, "2026-01"),
    }
    assert all(a["at"] for a in out["answers"])

    # A new policy text: the earlier answers stand as history but no longer count.
    settings.consent_policy_version = "2026-06"
    again = (await client.get("/api/consent", headers=me)).json()
    assert again["current"] is False and {a["version"] for a in again["answers"]} == {"2026-01"}
    stale = await client.post(
        "/api/consent", json={"version": "2026-01", "storage": True, "browsing": True}, headers=me
    )
    assert stale.status_code == 409 and stale.json()["error"] == "policy_changed"
    fresh = await client.post(
        "/api/consent", json={"version": "2026-06", "storage": False, "browsing": False}, headers=me
    )
    assert fresh.json()["current"] is True
    async with app.state.db.session() as s:
        history = [(r.purpose, r.version, r.granted) for r in await s.scalars(select(VisitorConsent).order_by("id"))]
    assert history == [
        ("storage", "2026-01", True),
        ("browsing", "2026-01", False),
        ("storage", "2026-06", False),
        ("browsing", "2026-06", False),
    ]


async def test_attacks_get_clear_errors_and_a_flood_stores_one_answer(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    settings.visitor_tokens_per_minute = 1000
    body = {"version": settings.consent_policy_version, "storage": True, "browsing": True}
    assert (await client.post("/api/consent", json=body)).status_code == 401
    forged = {"Authorization": "Bearer not-a-token"}
    assert (await client.post("/api/consent", json=body, headers=forged)).status_code == 401
    assert (await client.get("/api/consent", headers=forged)).status_code == 401
    me = await _visitor(client)
    junks: list[object] = [
        {"version": "1", "storage": "yes please", "browsing": True},
        {"version": "x" * 41, "storage": True, "browsing": True},
        {"version": "1", "storage": True},
        {**body, "marketing": True},
        [],
    ]
    for junk in junks:
        r = await client.post("/api/consent", json=junk, headers=me)
        assert r.status_code == 422 and set(r.json()) == {"error", "detail"}, junk
    answers = await asyncio.gather(*(client.post("/api/consent", json=body, headers=me) for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    assert await _rows(app) == 2  # one row per purpose, however many arrive at once
    for _ in range(20):
        assert (await client.post("/api/consent", json=body, headers=me)).status_code == 200
    assert await _rows(app) == 2

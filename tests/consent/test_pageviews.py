"""Page-view beacons on both backends: only with "browsing" consent to the current policy, batched into web
touches (one per page per beacon) that the customer's timeline shows; forged tokens, enormous addresses,
junk, floods and too-big beacons get clear errors and store nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from contactcenter.ccr.models import Touch
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.conftest import UserFactory, login

PLAIN = {"Content-Type": "text/plain;charset=UTF-8"}  # what navigator.sendBeacon sends for a string


async def _visitor(client: httpx.AsyncClient) -> tuple[str, int]:
    r = await client.post("/api/visitors")
    assert r.status_code == 201, r.text
    return r.json()["token"], r.json()["customer_id"]


async def _consent(client: httpx.AsyncClient, token: str, version: str, browsing: bool) -> None:
    r = await client.post(
        "/api/consent",
        json={"version": version, "storage": True, "browsing": browsing},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text


def _view(url: str, seconds: int = 5, title: str = "") -> dict[str, Any]:
    return {"url": url, "title": title, "at": datetime.now(UTC).isoformat(), "seconds": seconds}


async def _beacon(client: httpx.AsyncClient, body: object) -> httpx.Response:
    raw = body if isinstance(body, str) else json.dumps(body)
    return await client.post("/api/consent/pageviews", content=raw, headers=PLAIN)


async def _web_touches(app: FastAPI) -> int:
    async with app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Touch).where(Touch.channel == "web")) or 0)


async def test_beacons_with_consent_become_web_touches_on_the_timeline(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    token, customer_id = await _visitor(client)
    views = [
        _view("https://bank.example/pricing", 40, "Pricing"),
        _view("https://bank.example/pricing#fees", 50, "Pricing"),
        _view("https://bank.example/mortgages?utm=1", 7, "Mortgages"),
    ]
    # No answer yet, then "No thanks" to browsing: refused, nothing stored.
    assert (await _beacon(client, {"token": token, "views": views})).json()["error"] == "consent_required"
    await _consent(client, token, settings.consent_policy_version, browsing=False)
    assert (await _beacon(client, {"token": token, "views": views})).status_code == 403
    await _consent(client, token, settings.consent_policy_version, browsing=True)
    r = await _beacon(client, {"token": token, "views": views})
    assert r.status_code == 202 and r.json() == {"stored": 2}  # the pricing page twice is one touch, 90 s

    await login(client, await make_user(Role.agent))
    page = (await client.get(f"/api/customers/{customer_id}/timeline")).json()
    web = {t["summary"]: t["payload"] for t in page["items"] if t["channel"] == "web"}
    assert web["Viewed Pricing"]["seconds"] == 90 and web["Viewed Pricing"]["path"] == "/pricing"
    assert web["Viewed Mortgages"]["url"] == "https://bank.example/mortgages?utm=1"
    client.cookies.clear()

    # A new policy version: the old "yes" no longer counts.
    settings.consent_policy_version = "2"
    assert (await _beacon(client, {"token": token, "views": views})).status_code == 403
    assert await _web_touches(app) == 2


async def test_bad_beacons_get_clear_errors_and_store_nothing(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    settings.pageviews_per_minute = 5
    token, _ = await _visitor(client)
    await _consent(client, token, settings.consent_policy_version, browsing=True)
    ok = _view("https://bank.example/")
    cases: list[tuple[object, int, str]] = [
        ({"token": "forged", "views": [ok]}, 401, "not_authenticated"),
        ({"token": token, "views": [_view("https://bank.example/" + "a" * 2000)]}, 422, "invalid_request"),
        ({"token": token, "views": [_view("javascript:alert(1)")]}, 422, "invalid_request"),
        ({"token": token, "views": [ok] * 21}, 422, "invalid_request"),
        ({"token": token, "views": []}, 422, "invalid_request"),
        ({"token": token, "views": [{**ok, "seconds": -1}]}, 422, "invalid_request"),
        ("not json at all", 422, "invalid_request"),
        ("x" * 70_000, 413, "body_too_large"),
    ]
    for body, status, code in cases:
        r = await _beacon(client, body)
        assert (r.status_code, r.json()["error"]) == (status, code), (str(body)[:80], r.text[:200])
    assert await _web_touches(app) == 0
    # A flood: counted per view, refused past the limit with Retry-After.
    assert (
        await _beacon(client, {"token": token, "views": [_view(f"https://bank.example/{i}") for i in range(5)]})
    ).status_code == 202
    flood = await _beacon(client, {"token": token, "views": [ok]})
    assert flood.status_code == 429 and flood.json()["error"] == "too_many_page_views"
    assert 1 <= int(flood.headers["Retry-After"]) <= 60
    assert await _web_touches(app) == 5

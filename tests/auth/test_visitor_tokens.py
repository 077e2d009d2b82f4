"""Visitor tokens live CC_VISITOR_TOKEN_HOURS (24 h), not a year; the widget renews one for the same customer,
until the grace after expiry has passed (issue 11, item 3)."""

from __future__ import annotations

import time

import httpx
from fastapi import FastAPI

from contactcenter.auth.service import sign_visitor

HOUR = 3600


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def aged(app: FastAPI, issued: dict[str, object], hours: float) -> str:
    """The visitor's token as if issued `hours` ago."""
    secret = app.state.settings.secret_key.get_secret_value()
    vid, cid = issued["visitor_id"], issued["customer_id"]
    assert isinstance(vid, str) and isinstance(cid, int)
    return sign_visitor(secret, visitor_id=vid, customer_id=cid, issued_at=int(time.time() - hours * HOUR))


async def test_a_token_expires_after_a_day_not_a_year(client: httpx.AsyncClient, app: FastAPI) -> None:
    issued = (await client.post("/api/visitors")).json()
    assert issued["expires_in"] == 24 * HOUR
    assert (await client.get("/api/visitors/me", headers=bearer(aged(app, issued, 23)))).status_code == 200
    r = await client.get("/api/visitors/me", headers=bearer(aged(app, issued, 25)))
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated"
    # A month-old token (valid for a year before) opens nothing.
    assert (await client.get("/api/visitors/me", headers=bearer(aged(app, issued, 24 * 30)))).status_code == 401


async def test_renewal_keeps_the_same_visitor_and_customer(client: httpx.AsyncClient, app: FastAPI) -> None:
    issued = (await client.post("/api/visitors")).json()
    for old in (issued["token"], aged(app, issued, 30)):  # still valid, and expired within the grace
        r = await client.post("/api/visitors/renew", headers=bearer(old))
        assert r.status_code == 200, r.text
        fresh = r.json()
        assert (fresh["visitor_id"], fresh["customer_id"]) == (issued["visitor_id"], issued["customer_id"])
        me = await client.get("/api/visitors/me", headers=bearer(fresh["token"]))
        assert me.json() == {"visitor_id": issued["visitor_id"], "customer_id": issued["customer_id"]}


async def test_renewal_refuses_a_token_past_the_grace_and_a_forgery(client: httpx.AsyncClient, app: FastAPI) -> None:
    issued = (await client.post("/api/visitors")).json()
    too_old = aged(app, issued, 24 + 24 * 7 + 1)
    r = await client.post("/api/visitors/renew", headers=bearer(too_old))
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated"
    forged = sign_visitor("another-secret-" + "z" * 30, visitor_id=issued["visitor_id"], customer_id=1)
    assert (await client.post("/api/visitors/renew", headers=bearer(forged))).status_code == 401
    assert (await client.post("/api/visitors/renew")).status_code == 401


async def test_renewal_is_rate_limited(client: httpx.AsyncClient) -> None:
    token = (await client.post("/api/visitors")).json()["token"]
    codes = [(await client.post("/api/visitors/renew", headers=bearer(token))).status_code for _ in range(21)]
    assert codes == [200] * 20 + [429]
    r = await client.post("/api/visitors/renew", headers=bearer(token))
    assert r.json()["error"] == "too_many_renewals" and int(r.headers["Retry-After"]) >= 1

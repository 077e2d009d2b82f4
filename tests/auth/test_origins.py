"""Embedding the widget on another site: CORS on the visitor routes for the listed origins only, refused
cross-site requests that store nothing, no CORS on staff routes, and the Origin check of customer sockets."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets
from fastapi import FastAPI
from sqlalchemy import func, select

from contactcenter.auth.origins import parse_origins
from contactcenter.ccr.models import Customer
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import serve
from tests.conftest import UserFactory, login

SITE = "https://www.bank.example"
STRANGER = "https://evil.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.widget_origins = f"{SITE}, https://shop.bank.example/"
    return settings


async def customers(app: FastAPI) -> int:
    async with app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Customer)) or 0)


async def test_an_allowed_site_gets_cors_on_every_visitor_route(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/visitors", headers={"Origin": SITE})
    assert r.status_code == 201 and r.headers["access-control-allow-origin"] == SITE
    assert "Origin" in r.headers["vary"] and "access-control-allow-credentials" not in r.headers
    token = r.json()["token"]
    auth = {"Origin": SITE, "Authorization": f"Bearer {token}"}
    r = await client.get("/api/visitors/me", headers=auth)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == SITE
    # Errors keep our JSON shape and carry the header too, so the widget can read them.
    r = await client.get("/api/chat/conversations/nope/messages", headers=auth)
    assert (r.status_code, r.json()["error"]) == (404, "conversation_not_found")
    assert r.headers["access-control-allow-origin"] == SITE
    # The bearer header makes the browser ask first.
    r = await client.options(
        "/api/chat/attachments",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == SITE
    assert "authorization" in r.headers["access-control-allow-headers"]


async def test_a_site_not_listed_is_refused_and_nothing_is_stored(app: FastAPI, client: httpx.AsyncClient) -> None:
    before = await customers(app)
    r = await client.post("/api/visitors", headers={"Origin": STRANGER})
    assert (r.status_code, r.json()["error"]) == (403, "origin_not_allowed")
    assert "access-control-allow-origin" not in r.headers
    assert await customers(app) == before
    r = await client.options("/api/visitors", headers={"Origin": STRANGER, "Access-Control-Request-Method": "POST"})
    assert r.status_code == 403 and "access-control-allow-origin" not in r.headers


async def test_a_preflight_for_another_method_or_header_is_refused(client: httpx.AsyncClient) -> None:
    for method, header in (("DELETE", ""), ("POST", "x-csrf-token"), ("PUT", "authorization")):
        asked = {"Access-Control-Request-Headers": header} if header else {}
        r = await client.options(
            "/api/visitors", headers={"Origin": SITE, "Access-Control-Request-Method": method, **asked}
        )
        assert (r.status_code, r.json()["error"]) == (403, "preflight_refused"), (method, header)
        assert "access-control-allow-origin" not in r.headers


async def test_staff_routes_never_answer_another_site(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    await login(client, await make_user(Role.supervisor))
    for origin in (SITE, STRANGER):
        r = await client.get("/api/conversations", headers={"Origin": origin})
        assert "access-control-allow-origin" not in r.headers
        # A forged Origin on a state-changing staff route: no CORS, and the same-site checks still apply.
        r = await client.post("/api/session", json={"username": "x", "password": "y"}, headers={"Origin": origin})
        assert r.status_code == 403 and "access-control-allow-origin" not in r.headers


def test_origins_are_exact_and_never_a_wildcard() -> None:
    assert parse_origins(" https://A.example ,http://127.0.0.1:8099/ ") == {
        "https://a.example",
        "http://127.0.0.1:8099",
    }
    for bad in ("*", "https://*.example", "www.example.com", "https://a.example/path", "ftp://a.example"):
        with pytest.raises(ValueError):
            parse_origins(bad)


async def test_a_customer_socket_from_a_site_not_listed_is_refused_before_its_token(settings: Settings) -> None:
    async with serve(settings) as live:
        async with httpx.AsyncClient(base_url=live.base) as h:
            token = (await h.post("/api/visitors")).json()["token"]
        async with websockets.connect(live.ws_url, origin=STRANGER) as ws:  # type: ignore[arg-type]
            frame = json.loads(await ws.recv())  # refused before any hello is even sent
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert frame["code"] == "origin_not_allowed" and closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403
        async with websockets.connect(live.ws_url, origin=SITE) as ws:  # type: ignore[arg-type]
            await ws.send(json.dumps({"type": "hello", "v": 1, "token": token, "resume": {}}))
            assert json.loads(await ws.recv())["type"] == "welcome"

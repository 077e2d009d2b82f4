"""A staff socket ends with its session (logout, deactivation, expiry) on every process, and one address
cannot hold more than CC_MAX_SOCKETS_PER_ADDRESS sockets open."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import websockets
from sqlalchemy import update

from contactcenter.auth.models import StaffSession
from contactcenter.db import Database, utcnow
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import Live, serve
from tests.chat.multiproc import app_processes, fresh_deployment, make_staff, read_until_closed, staff_login
from tests.conftest import PASSWORD
from tests.services import PostgresServer, RedisServer


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with serve(settings) as running:
        yield running


@contextlib.asynccontextmanager
async def _signed_in(base: str, username: str, password: str = PASSWORD) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base) as h:
        r = await h.post("/api/session", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        h.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        yield h


async def _open_staff_socket(ws_url: str, cookie: str) -> websockets.ClientConnection:
    ws = await websockets.connect(ws_url, additional_headers={"Cookie": f"cc_session={cookie}"})
    await ws.send(json.dumps({"type": "hello", "v": 1, "resume": {}}))
    async with asyncio.timeout(10):
        while json.loads(await ws.recv())["type"] != "welcome":
            pass
    return ws


async def _assert_revoked(ws: websockets.ClientConnection, timeout: float) -> None:
    frames, code = await read_until_closed(ws, timeout)
    errors = [f["code"] for f in frames if f["type"] == "error"]
    assert (code, errors[-1:]) == (4401, ["not_authenticated"]), (code, frames)


async def test_logout_closes_the_staff_socket_at_once(live: Live) -> None:
    agent = await make_staff(live.app, Role.agent)
    async with _signed_in(live.base, agent) as h:
        ws = await _open_staff_socket(live.ws_url, h.cookies["cc_session"])
        assert (await h.post("/logout")).status_code == 303
        await _assert_revoked(ws, timeout=5)


async def test_deactivating_a_user_closes_their_sockets(live: Live) -> None:
    agent = await make_staff(live.app, Role.agent)
    admin = await make_staff(live.app, Role.admin)
    async with _signed_in(live.base, agent) as ah, _signed_in(live.base, admin) as admin_h:
        ws = await _open_staff_socket(live.ws_url, ah.cookies["cc_session"])
        me = (await ah.get("/api/me")).json()["user"]
        r = await admin_h.patch(f"/api/users/{me['id']}", json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False
        await _assert_revoked(ws, timeout=5)
        assert (await ah.get("/api/me")).status_code == 401
        # The agent cannot undo it: the session is gone (and only admins may; the role matrix checks that).
        assert (await ah.patch(f"/api/users/{me['id']}", json={"active": True})).status_code == 401


async def test_an_expired_session_is_closed_within_a_heartbeat(live: Live) -> None:
    agent = await make_staff(live.app, Role.agent)
    async with _signed_in(live.base, agent) as h:
        ws = await _open_staff_socket(live.ws_url, h.cookies["cc_session"])
        db: Database = live.app.state.db
        async with db.session() as s:  # the session runs out while the socket is open (no event is published)
            await s.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
            await s.commit()
        # The re-check runs once per staff heartbeat (2 s here): well within three of them.
        await _assert_revoked(ws, timeout=3 * live.app.state.settings.heartbeat_s)


async def test_logout_on_one_process_closes_the_socket_on_another(
    pg_server: PostgresServer, redis_server: RedisServer
) -> None:
    dep = fresh_deployment(pg_server, redis_server, "revocation-secret-" + "r" * 32)
    # A long heartbeat: only the bus event can close the socket within the wait below.
    with app_processes({**dep.env, "CC_HEARTBEAT_S": "30"}, 2) as (a, b):
        cookie, csrf = await staff_login(a.base, dep.agent, dep.agent_password)
        ws = await _open_staff_socket(a.ws_url, cookie)
        async with httpx.AsyncClient(base_url=b.base, cookies={"cc_session": cookie}) as hb:
            assert (await hb.post("/logout", headers={"X-CSRF-Token": csrf})).status_code == 303
        await _assert_revoked(ws, timeout=10)


@pytest.mark.parametrize("settings", ["sqlite+memory"], indirect=True)
async def test_one_address_cannot_open_more_than_the_cap(settings: Settings) -> None:
    settings.max_sockets_per_address = 3
    async with serve(settings) as live:
        held = [await websockets.connect(live.ws_url) for _ in range(3)]
        extra = await websockets.connect(live.ws_url)
        frames, code = await read_until_closed(extra)
        assert (code, [f["code"] for f in frames]) == (4429, ["too_many_sockets"])
        await held.pop().close()
        cap = live.app.state.socket_cap
        async with asyncio.timeout(5):  # the server notices the close and gives the place back
            while cap.open.get("127.0.0.1", 0) > 2:  # noqa: ASYNC110 - polling server state
                await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=live.base) as h:
            token = (await h.post("/api/visitors")).json()["token"]
        again = await websockets.connect(live.ws_url)
        await again.send(json.dumps({"type": "hello", "v": 1, "token": token, "resume": {}}))
        assert json.loads(await again.recv())["type"] == "welcome"
        for ws in [*held, again]:
            await ws.close()

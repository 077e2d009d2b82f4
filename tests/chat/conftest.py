"""A live server (uvicorn in the test's loop, real sockets on loopback) and a small protocol client."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from contactcenter.app import create_app
from contactcenter.capabilities import Capability
from contactcenter.settings import Settings
from tests.conftest import PASSWORD
from tests.services import free_port

_ids = itertools.count()


class Live:
    def __init__(self, app: FastAPI, base: str) -> None:
        self.app, self.base = app, base
        self.ws_url = base.replace("http", "ws") + "/ws"


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with serve(settings) as running:
        yield running


@pytest.fixture
def roomy_limits(settings: Settings) -> Settings:
    """Lift the per-address visitor limits (every test visitor comes from 127.0.0.1) for a test that makes
    visitors by the hundred about something else. Request it before `live`."""
    settings.visitor_tokens_per_minute = 100_000
    settings.chat_open_per_address = 100_000
    settings.chat_new_per_address_per_hour = 100_000
    settings.chat_new_per_visitor_per_hour = 100_000
    settings.chat_new_per_queue_per_minute = 100_000
    return settings


@contextlib.asynccontextmanager
async def serve(settings: Settings, extra: Sequence[Capability] = ()) -> AsyncIterator[Live]:
    """The app (with `extra` capabilities) under uvicorn on a free loopback port, in this loop."""
    settings.heartbeat_s = 2.0
    settings.customer_heartbeat_s = 2.0
    app = create_app(settings, extra=extra)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, ws="websockets-sansio", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            raise RuntimeError(f"server failed to start: {task.exception()!r}")
        await asyncio.sleep(0.02)
    yield Live(app, f"http://127.0.0.1:{port}")
    server.should_exit = True
    done, _ = await asyncio.wait({task}, timeout=10)
    if not done:  # a connection or a lifespan step that will not end: stop without waiting for it
        server.force_exit = True
        done, _ = await asyncio.wait({task}, timeout=10)
    if not done:  # say what is stuck (a plain wait_for would cancel and could wait on it for ever)
        stuck = sorted(t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task())
        raise RuntimeError(f"the server did not stop within 20 s; tasks still running: {stuck}")
    task.result()


class Client:
    """Speaks protocol v1; keeps every frame it received, in order."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def next(self, type_: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                f = json.loads(await self.ws.recv())
                self.frames.append(f)
                if f["type"] == type_ and all(f.get(k) == v for k, v in match.items()):
                    return f

    async def say(self, conversation_id: str, body: str, **extra: Any) -> dict[str, Any]:
        cid = f"c{next(_ids)}"
        await self.send({"type": "send", "conversation_id": conversation_id, "client_id": cid, "body": body, **extra})
        return await self.next("sent", client_id=cid)

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        return [
            f["message"]
            for f in self.frames
            if f["type"] == "message" and f["message"]["conversation_id"] == conversation_id
        ]


@contextlib.asynccontextmanager
async def customer(
    live: Live, token: str | None = None, resume: dict[str, int] | None = None
) -> AsyncIterator[tuple[Client, str]]:
    if token is None:
        async with httpx.AsyncClient(base_url=live.base) as h:
            token = (await h.post("/api/visitors")).json()["token"]
    async with websockets.connect(live.ws_url) as ws:
        c = Client(ws)
        await c.send({"type": "hello", "v": 1, "token": token, "resume": resume or {}})
        await c.next("welcome")
        yield c, token


@contextlib.asynccontextmanager
async def staff(live: Live, username: str, resume: dict[str, int] | None = None) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(base_url=live.base) as h:
        r = await h.post("/api/session", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        cookie = h.cookies.get("cc_session")
    async with websockets.connect(live.ws_url, additional_headers={"Cookie": f"cc_session={cookie}"}) as ws:
        c = Client(ws)
        await c.send({"type": "hello", "v": 1, "resume": resume or {}})
        await c.next("welcome")
        yield c

"""The agent console's test rig: the real server started from the CLI (heartbeat 1 s), staff users made with
`contactcenter user add`, and a website customer speaking protocol v1 from a thread with its own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import websockets
from playwright.sync_api import Page, WebSocketRoute

from contactcenter.cli import migrate
from contactcenter.db import Database
from contactcenter.integration.models import Product
from tests.procs import ROOMY_VISITOR_LIMITS, app_process

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
AGENT, AGENT_NAME = "priya", "Priya Shah"
SUPERVISOR, SUPERVISOR_NAME = "dana", "Dana Whitfield"
ADMIN = "root"
T = TypeVar("T")
Frame = dict[str, Any]


@dataclass
class ConsoleServer:
    base_url: str
    log: Path

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws"

    def staff_client(self, username: str) -> tuple[httpx.Client, str]:
        """An HTTP client signed in as `username`, and its CSRF token."""
        client = httpx.Client(base_url=self.base_url, timeout=10)
        r = client.post("/api/session", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        return client, r.json()["csrf_token"]


async def _products(url: str) -> None:
    db = Database(url)
    async with db.session() as s:
        s.add_all(
            [
                Product(sku="FBR-500", name="Fibre broadband 500", category="broadband", price=Decimal("39.00")),
                Product(sku="RTR-AX6", name="Wi-Fi 6 router", category="hardware", price=Decimal("129.00")),
            ]
        )
        await s.commit()
    await db.dispose()


def _prepare(url: str) -> None:
    migrate(url)
    asyncio.run(_products(url))


@contextlib.contextmanager
def console_server(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[ConsoleServer]:
    url = f"sqlite+aiosqlite:///{tmp / 'console.db'}"
    # A thread of its own: Playwright's sync API keeps an event loop running in the main thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_prepare, url).result()
    env = {
        **os.environ,
        "CC_DATABASE_URL": url,
        "CC_SECRET_KEY": "console-e2e-" + "k" * 40,
        "CC_HEARTBEAT_S": "1",
        "CC_CUSTOMER_HEARTBEAT_S": "1",
        "CC_LOG_JSON": "false",
        **ROOMY_VISITOR_LIMITS,
        **(extra_env or {}),
    }
    cli = [sys.executable, "-m", "contactcenter"]
    for username, role, name in [
        (AGENT, "agent", AGENT_NAME),
        (SUPERVISOR, "supervisor", SUPERVISOR_NAME),
        (ADMIN, "admin", "Root Admin"),
    ]:
        subprocess.run(
            [*cli, "user", "add", username, "--role", role, "--name", name, "--password", PASSWORD],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    log = tmp / "server.log"
    with app_process(env, log) as base:
        yield ConsoleServer(base_url=base, log=log)


class Customer:
    """A website visitor, as the widget would be: visitor token, hello, start, send, ack, typing, close."""

    def __init__(self, server: ConsoleServer) -> None:
        self.server = server
        self.frames: list[Frame] = []
        self.cond = threading.Condition()
        self.ids = itertools.count(1)
        visitor = httpx.post(f"{server.base_url}/api/visitors", timeout=10).json()
        self.token: str = visitor["token"]
        self.customer_id: int = visitor["customer_id"]
        self.conversation_id = ""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="customer-ws", daemon=True)
        self.thread.start()
        self.tasks: list[asyncio.Task[None]] = []
        self._call(self._connect())
        self.wait_for("welcome")

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _connect(self) -> None:
        self.ws = await websockets.connect(self.server.ws_url)
        await self.ws.send(json.dumps({"type": "hello", "v": 1, "token": self.token, "resume": {}}))
        self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._ping())]

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                with self.cond:
                    self.frames.append(json.loads(raw))
                    self.cond.notify_all()

    async def _ping(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.sleep(0.5)
                await self.ws.send(json.dumps({"type": "ping", "t": time.time()}))

    def send(self, frame: Frame) -> None:
        self._call(self.ws.send(json.dumps(frame)))

    def wait_for(self, type_: str, pred: Callable[[Frame], bool] = lambda f: True, timeout: float = 10) -> Frame:
        def found() -> Frame | None:
            return next((f for f in self.frames if f["type"] == type_ and pred(f)), None)

        with self.cond:
            frame = self.cond.wait_for(found, timeout)
        if frame is None:
            raise AssertionError(f"no matching {type_!r} frame; got {[f['type'] for f in self.frames]}")
        return frame

    def start(self, name: str, topic: str, **extra: str) -> str:
        self.send({"type": "start", "name": name, "topic": topic, **extra})
        self.conversation_id = self.wait_for("conversation")["conversation"]["id"]
        return self.conversation_id

    def say(self, body: str, attachments: list[str] | None = None) -> Frame:
        cid = f"w-{next(self.ids)}"
        frame = {"type": "send", "conversation_id": self.conversation_id, "client_id": cid, "body": body}
        self.send({**frame, "attachments": attachments or []})
        return self.wait_for("sent", lambda f: f["client_id"] == cid)

    def typing(self, state: bool) -> None:
        self.send({"type": "typing", "conversation_id": self.conversation_id, "state": state})

    def ack(self, seq: int) -> None:
        self.send({"type": "ack", "conversation_id": self.conversation_id, "seq": seq})

    def messages(self) -> list[Frame]:
        with self.cond:
            return [f["message"] for f in self.frames if f["type"] == "message"]

    def message(self, body: str) -> Frame:
        return self.wait_for("message", lambda f: f["message"]["body"] == body)["message"]

    def upload(self, name: str, data: bytes) -> str:
        r = httpx.post(
            f"{self.server.base_url}/api/chat/attachments",
            headers={"Authorization": f"Bearer {self.token}"},
            data={"conversation_id": self.conversation_id},
            files={"file": (name, data)},
            timeout=10,
        )
        r.raise_for_status()
        return str(r.json()["id"])

    def shutdown(self) -> None:
        """Close the chat (so the agent's capacity frees up for the next test), then the socket."""
        with contextlib.suppress(Exception):
            if self.conversation_id:
                self.send({"type": "close", "conversation_id": self.conversation_id})
                closed = self.conversation_id
                self.wait_for(
                    "conversation",
                    lambda f: f["conversation"]["id"] == closed and f["conversation"]["status"] == "closed",
                    5,
                )

        async def stop() -> None:
            for t in self.tasks:
                t.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await self.ws.close()

        with contextlib.suppress(Exception):
            self._call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class SocketProxy:
    """Routes the page's /ws through Playwright: records frames both ways and can lose some on the way down."""

    def __init__(self, lose: Callable[[Frame], bool]) -> None:
        self.lose, self.lossy = lose, True
        self.up: list[Frame] = []  # page -> server, every connection
        self.down: list[list[Frame]] = []  # server -> page, one list per connection
        self.routes: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    def install(self, page: Page) -> None:
        page.route_web_socket(re.compile(r"/ws$"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        frames: list[Frame] = []
        self.routes.append((ws, server))
        self.down.append(frames)

        def to_server(raw: str | bytes) -> None:
            self.up.append(json.loads(raw))
            server.send(raw)

        def to_page(raw: str | bytes) -> None:
            frame = json.loads(raw)
            frames.append(frame)
            if not (self.lossy and self.lose(frame)):
                ws.send(raw)

        ws.on_message(to_server)
        server.on_message(to_page)

    def drop(self) -> None:
        """The network goes: both ends of the current connection close."""
        ws, server = self.routes[-1]
        ws.close(code=4000, reason="connection lost")
        server.close()


def png(width: int = 160, height: int = 100) -> bytes:
    """A small real PNG (a blue-green gradient), for attachment thumbnails."""
    rows = b"".join(b"\x00" + b"".join(bytes((40 + x // 2, 110 + y, 200)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

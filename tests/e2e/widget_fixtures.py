"""Fixtures for the chat widget tests: the real server in a subprocess, an SMTP sink, an agent on a websocket."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import websockets
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, BrowserContext, Page

from contactcenter.cli import migrate
from tests.e2e.conftest import ROOT, Watch
from tests.procs import ROOMY_VISITOR_LIMITS, app_process
from tests.services import free_port

AGENT, AGENT_NAME, AGENT_PASSWORD = "alice", "Alice Moreau", "alice-long-pass"
SUPERVISOR, SUPERVISOR_NAME = "dana", "Dana Whitfield"  # made by run_server(supervisor=True), same password
T = TypeVar("T")


def eventually(fn: Callable[[], T | None], timeout: float = 10.0, what: str = "condition") -> T:
    """Poll `fn` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ---------- SMTP sink ----------
class SmtpSink:
    """Collects every mail delivered to it (aiosmtpd in its own thread)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@contextlib.contextmanager
def smtp_sink() -> Iterator[tuple[SmtpSink, int]]:
    sink, port = SmtpSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


# ---------- the server ----------
@dataclass
class WidgetServer:
    base_url: str
    log: Path
    sink: SmtpSink | None = None

    def agent_cookie(self, username: str = AGENT) -> str:
        r = httpx.post(f"{self.base_url}/api/session", json={"username": username, "password": AGENT_PASSWORD})
        r.raise_for_status()
        return r.cookies["cc_session"]


@contextlib.contextmanager
def run_server(
    tmp: Path, smtp_url: str | None = None, *, supervisor: bool = False, **extra_env: str
) -> Iterator[WidgetServer]:
    url = f"sqlite+aiosqlite:///{tmp / 'cc.db'}"
    with ThreadPoolExecutor(1) as pool:  # Playwright keeps an event loop in this thread: migrate elsewhere
        pool.submit(migrate, url).result()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_")}
    env |= {
        "CC_DATABASE_URL": url,
        "CC_SECRET_KEY": "widget-e2e-secret-" + "y" * 40,
        "CC_HEARTBEAT_S": "1",
        "CC_CUSTOMER_HEARTBEAT_S": "1",
        "CC_CHAT_CAPACITY": "20",
        "CC_LOG_JSON": "false",
        **ROOMY_VISITOR_LIMITS,
    }
    if smtp_url:
        env["CC_SMTP_URL"] = smtp_url
    env |= extra_env
    cli = [sys.executable, "-m", "contactcenter"]
    users = [(AGENT, "agent", AGENT_NAME)] + ([(SUPERVISOR, "supervisor", SUPERVISOR_NAME)] if supervisor else [])
    for username, role, name in users:
        subprocess.run(
            [*cli, "user", "add", username, "--role", role, "--name", name, "--password", AGENT_PASSWORD],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    log_path = tmp / "server.log"
    with app_process(env, log_path) as base:
        yield WidgetServer(base_url=base, log=log_path)


# ---------- the agent ----------
class Agent:
    """An agent's websocket in a thread of its own (its own asyncio loop); keeps every frame it got."""

    def __init__(self, server: WidgetServer) -> None:
        self.url = server.base_url.replace("http", "ws", 1) + "/ws"
        self.cookie = server.agent_cookie()
        self.frames: list[dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.ids = itertools.count(1)
        self.ws: websockets.ClientConnection | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def _call(self, coro: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> Agent:
        self.thread.start()
        self._call(self._connect())
        eventually(lambda: self.of_type("welcome"), what="welcome")
        return self

    async def _connect(self) -> None:
        self.ws = await websockets.connect(self.url, additional_headers={"Cookie": f"cc_session={self.cookie}"})
        await self.ws.send(json.dumps({"type": "hello", "v": 1, "resume": {}}))
        self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._ping())]

    async def _read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                self.frames.append(json.loads(raw))

    async def _ping(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.sleep(0.4)
                await self.ws.send(json.dumps({"type": "ping", "t": time.time()}))

    def send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        self._call(self.ws.send(json.dumps(frame)))

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [f for f in list(self.frames) if f["type"] == type_]

    def conversation(self, customer_name: str, timeout: float = 10) -> dict[str, Any]:
        """The conversation of that customer, once it is assigned to this agent."""

        def found() -> dict[str, Any] | None:
            for f in reversed(self.of_type("conversation")):
                c = f["conversation"]
                if c["customer_name"] == customer_name and c["status"] == "assigned":
                    return c
            return None

        return eventually(found, timeout, f"a conversation with {customer_name!r}")

    def status(self, conversation_id: str) -> str | None:
        states = [f["conversation"]["status"] for f in self.of_type("conversation")]
        ids = [f["conversation"]["id"] for f in self.of_type("conversation")]
        return next((s for s, i in zip(reversed(states), reversed(ids), strict=True) if i == conversation_id), None)

    def messages(self, conversation_id: str, sender: str = "customer") -> list[dict[str, Any]]:
        return [
            f["message"]
            for f in self.of_type("message")
            if f["message"]["conversation_id"] == conversation_id and f["message"]["sender"] == sender
        ]

    def bodies(self, conversation_id: str, sender: str = "customer") -> list[str]:
        return [m["body"] for m in self.messages(conversation_id, sender)]

    def wait_bodies(self, conversation_id: str, n: int, timeout: float = 10) -> list[str]:
        eventually(lambda: len(self.messages(conversation_id)) >= n, timeout, f"{n} customer messages")
        return self.bodies(conversation_id)

    def say(self, conversation_id: str, body: str) -> int:
        cid = f"a-{next(self.ids)}"
        self.send({"type": "send", "conversation_id": conversation_id, "client_id": cid, "body": body})
        sent = eventually(lambda: [f for f in self.of_type("sent") if f["client_id"] == cid], what=f"sent {cid}")
        return int(sent[0]["seq"])

    def typing(self, conversation_id: str, state: bool) -> None:
        self.send({"type": "typing", "conversation_id": conversation_id, "state": state})

    def close_conversation(self, conversation_id: str) -> None:
        self.send({"type": "close", "conversation_id": conversation_id})
        eventually(lambda: self.status(conversation_id) == "closed", what="the conversation to close")

    def stop(self) -> None:
        async def _stop() -> None:
            for t in self.tasks:
                t.cancel()
            if self.ws is not None:
                await self.ws.close()

        if self.thread.is_alive():
            with contextlib.suppress(Exception):
                open_ids = {f["conversation"]["id"] for f in self.of_type("conversation")}
                for cid in open_ids:
                    if self.status(cid) != "closed":
                        self.send({"type": "close", "conversation_id": cid})
                self._call(_stop())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
        self.loop.close()


# ---------- pytest fixtures ----------
@pytest.fixture(scope="module")
def widget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WidgetServer]:
    """The server with transcripts by email going to an SMTP sink."""
    with smtp_sink() as (sink, port), run_server(tmp_path_factory.mktemp("widget"), f"smtp://127.0.0.1:{port}") as s:
        s.sink = sink
        yield s


@pytest.fixture(scope="module")
def server_without_mail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WidgetServer]:
    with run_server(tmp_path_factory.mktemp("widget-nomail")) as s:
        yield s


@pytest.fixture
def agent(widget_server: WidgetServer) -> Iterator[Callable[[], Agent]]:
    """Connects the agent when called (so a test can first see a chat wait in the queue)."""
    agents: list[Agent] = []

    def connect() -> Agent:
        agents.append(Agent(widget_server).start())
        return agents[-1]

    yield connect
    for a in agents:
        a.stop()


@dataclass
class Customers:
    browser: Browser
    watch: Watch = field(default_factory=Watch)
    contexts: list[BrowserContext] = field(default_factory=list)

    def page(self, server: WidgetServer, **options: Any) -> Page:
        """A fresh browser profile (a new visitor) on the server; every request and page error is recorded."""
        options.setdefault("viewport", {"width": 1280, "height": 860})
        options.setdefault("locale", "en-GB")
        context = self.browser.new_context(base_url=server.base_url, **options)
        self.contexts.append(context)
        page = context.new_page()
        page.on("request", lambda req: self.watch.requests.append(req.url))
        page.on("websocket", lambda ws: self.watch.requests.append(ws.url))
        page.on("pageerror", lambda exc: self.watch.errors.append(str(exc)))
        page.set_default_timeout(10_000)
        return page


@pytest.fixture
def customers(browser: Browser) -> Iterator[Customers]:
    c = Customers(browser)
    yield c
    for context in c.contexts:
        context.close()
    assert not c.watch.errors, f"page errors: {c.watch.errors}"
    assert not c.watch.foreign(), f"requests to other hosts: {c.watch.foreign()}"

"""Helpers for the chat tests: killable app processes, a reconnecting protocol client, frame checks."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import websockets
from fastapi import FastAPI
from pydantic import Field, TypeAdapter

from contactcenter.auth.service import create_user
from contactcenter.channels.chat.schemas import MessageFrame, ReadFrame, Sent, TypingFrame
from contactcenter.channels.email.schemas import EmailDue
from contactcenter.csat.schemas import CsatAsk
from contactcenter.realtime.schemas import ConversationFrame, ErrorFrame, Pong, RoutingFrame, Welcome
from contactcenter.suggestions.events import SuggestionsFrame
from contactcenter.types import Role
from tests.conftest import PASSWORD, psql
from tests.procs import ROOT, cli
from tests.services import PostgresServer, RedisServer, free_port

_names = itertools.count()

# --- What docs/protocol.md promises about server frames and close codes ---------------------------------

ServerFrame = Annotated[
    Welcome
    | Pong
    | ConversationFrame
    | MessageFrame
    | Sent
    | TypingFrame
    | ReadFrame
    | SuggestionsFrame
    | RoutingFrame
    | CsatAsk  # when a chat closes, its customer is asked to rate it
    | EmailDue
    | ErrorFrame,
    Field(discriminator="type"),
]
server_frame: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)

PER_FRAME_ERRORS = frozenset(
    {
        "invalid_frame",
        "empty_message",
        "rate_limited",
        "conversation_not_found",
        "conversation_closed",
        "unknown_attachment",
        "forbidden",
        "bad_ack",
        "offer_withdrawn",
        "offer_not_yours",
        "agent_not_found",
        "too_many_chats",
        "busy",
    }
)
# close code -> the error codes documented for it
CLOSE_ERRORS: dict[int, frozenset[str]] = {
    4400: frozenset({"hello_expected", "out_of_order", "bad_frame"}),
    4401: frozenset({"not_authenticated"}),
    4403: frozenset({"forbidden", "origin_not_allowed"}),
    4408: frozenset({"heartbeat_timeout"}),
    4409: frozenset(),
    4429: frozenset({"rate_limited", "too_many_sockets"}),
    1009: frozenset({"frame_too_big"}),
}
DOCUMENTED_ERRORS = PER_FRAME_ERRORS | frozenset().union(*CLOSE_ERRORS.values())


def check_server_frame(raw: str | bytes) -> dict[str, Any]:
    """A server frame is one JSON text object of a documented type and shape; returns it parsed."""
    assert isinstance(raw, str), f"server sent a binary frame: {raw!r:.200}"
    data = json.loads(raw)
    assert isinstance(data, dict), raw[:200]
    server_frame.validate_python(data)
    if data["type"] == "error":
        assert data["code"] in DOCUMENTED_ERRORS, f"undocumented error code {data['code']!r}"
    return data


async def read_until_closed(ws: websockets.ClientConnection, timeout: float = 5.0) -> tuple[list[dict[str, Any]], int]:
    """Every frame until the server closes; returns (frames, close code)."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        try:
            while True:
                frames.append(check_server_frame(await ws.recv()))
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else 1006
    return frames, code


async def send_and_read_close(
    ws: websockets.ClientConnection, *frames: str | bytes, timeout: float = 5.0
) -> tuple[list[dict[str, Any]], int | None]:
    """Send frames then a ping; returns (frames received, close code), or close code None when the socket answered
    the ping instead of closing (so a test expecting a close fails at once instead of timing out)."""
    marker = -12345.0
    with contextlib.suppress(websockets.ConnectionClosed):
        for f in frames:
            await ws.send(f)
        await ws.send(json.dumps({"type": "ping", "t": marker}))
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        try:
            while True:
                f = check_server_frame(await ws.recv())
                got.append(f)
                if f["type"] == "pong" and f["t"] == marker:
                    return got, None
        except websockets.ConnectionClosed as exc:
            return got, exc.rcvd.code if exc.rcvd is not None else 1006


# --- Users and tokens --------------------------------------------------------------------------------------


async def make_staff(app: FastAPI, role: Role = Role.agent) -> str:
    """A staff user in the app's database; returns the username (password is PASSWORD)."""
    name = f"{role.value}x{next(_names)}"
    async with app.state.db.session() as s:
        await create_user(s, username=name, display_name=name.title(), role=role, password=PASSWORD)
    return name


async def visitor_token(base: str) -> str:
    async with httpx.AsyncClient(base_url=base) as h:
        r = await h.post("/api/visitors")
        assert r.status_code == 201, r.text
        token: str = r.json()["token"]
        return token


async def staff_login(base: str, username: str, password: str = PASSWORD) -> tuple[str, str]:
    """Sign in over HTTP; returns (session cookie, CSRF token)."""
    async with httpx.AsyncClient(base_url=base) as h:
        r = await h.post("/api/session", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return h.cookies.get("cc_session") or "", r.json()["csrf_token"]


# --- Killable app processes ---------------------------------------------------------------------------------


@dataclass
class AppProc:
    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def ws_url(self) -> str:
        return self.base.replace("http", "ws", 1) + "/ws"

    def sigkill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)

    def alive(self) -> bool:
        return self.proc.poll() is None


def _spawn(env: dict[str, str]) -> AppProc:
    port = free_port()
    (ROOT / "var").mkdir(exist_ok=True)
    log = ROOT / "var" / f"proc-{port}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "contactcenter", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, "CC_LOG_JSON": "true", **env},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return AppProc(f"http://127.0.0.1:{port}", proc, log)


def _wait_ready(p: AppProc, deadline: float) -> None:
    while True:
        if p.proc.poll() is not None:
            raise RuntimeError(f"server exited with {p.proc.returncode}; see {p.log}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{p.base}/readyz", timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"server did not become ready; see {p.log}")
        time.sleep(0.05)


@contextlib.contextmanager
def app_processes(env: dict[str, str], n: int = 2) -> Iterator[list[AppProc]]:
    """Start n `contactcenter serve` processes at once; yields them (with their Popen, so a test can SIGKILL one)."""
    procs: list[AppProc] = []
    try:
        for _ in range(n):
            procs.append(_spawn(env))
        deadline = time.monotonic() + 30
        for p in procs:
            _wait_ready(p, deadline)
        yield procs
    finally:
        for p in procs:
            if p.proc.poll() is None:
                p.proc.terminate()
        for p in procs:
            try:
                p.proc.wait(10)
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait(5)


@dataclass
class Deployment:
    env: dict[str, str]
    database_url: str
    agent: str
    agent_password: str


def fresh_deployment(pg: PostgresServer, redis: RedisServer, secret: str) -> Deployment:
    """A new, migrated PostgreSQL database sharing the given redis-server, with one agent made by the CLI."""
    name = f"mp{os.getpid()}_{next(_names)}"
    psql(pg, f"CREATE DATABASE {name}")
    subprocess.run(["redis-cli", "-p", str(redis.port), "flushall"], check=True, capture_output=True)
    env = {
        "CC_DATABASE_URL": pg.url(name),
        "CC_REDIS_URL": redis.url,
        "CC_SECRET_KEY": secret,
        "CC_HEARTBEAT_S": "1",
        "CC_CUSTOMER_HEARTBEAT_S": "1",
        "CC_LOG_LEVEL": "INFO",
    }
    done = cli(env, "migrate")
    assert done.returncode == 0, done.stderr
    agent, password = "alice", "alice-long-pass"
    made = cli(env, "user", "add", agent, "--role", "agent", "--name", "Alice", "--password", password)
    assert made.returncode == 0, made.stderr
    return Deployment(env, pg.url(name), agent, password)


# --- A client that survives a dead server ---------------------------------------------------------------------


@dataclass
class Resilient:
    """Protocol v1 client as the widget/console behave: on a dead socket it moves to the next URL, says hello with
    `resume` = the last seq it processed per conversation, and resends every message not yet confirmed by `sent`
    (same client_id). It records every message frame exactly as received, so a test can look for duplicates."""

    urls: list[str]
    token: str | None = None
    cookie: str | None = None
    prefix: str = "c"
    ping_s: float = 0.4
    last: dict[str, int] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    confirmed: dict[str, int] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)  # client_ids a resend found already stored
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    connects: list[tuple[float, str]] = field(default_factory=list)
    url_index: int = 0

    def __post_init__(self) -> None:
        self.ws: websockets.ClientConnection | None = None
        self.ready = asyncio.Event()
        self.stopping = False
        self.task: asyncio.Task[None] | None = None
        self.seen = asyncio.Condition()
        self._ids = itertools.count(1)
        self._later: set[asyncio.Task[None]] = set()
        # While set, `sent` frames are dropped, as if lost in transit with a dying server.
        self.lose_sent = False

    async def __aenter__(self) -> Resilient:
        self.task = asyncio.create_task(self._run())
        async with asyncio.timeout(10):
            await self.ready.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stopping = True
        for t in [*self._later, self.task]:
            if t is not None:
                t.cancel()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task

    @property
    def url(self) -> str:
        return self.urls[self.url_index % len(self.urls)]

    async def _run(self) -> None:
        while not self.stopping:
            url = self.url
            headers = {"Cookie": f"cc_session={self.cookie}"} if self.cookie else None
            try:
                async with websockets.connect(url, additional_headers=headers, open_timeout=2) as ws:
                    hello: dict[str, Any] = {"type": "hello", "v": 1, "resume": dict(self.last)}
                    if self.token:
                        hello["token"] = self.token
                    await ws.send(json.dumps(hello))
                    welcome = check_server_frame(await asyncio.wait_for(ws.recv(), 5))
                    assert welcome["type"] == "welcome", welcome
                    self.connects.append((time.monotonic(), url))
                    self.ws = ws
                    for frame in list(self.pending.values()):
                        await ws.send(json.dumps(frame))
                    self.ready.set()
                    pinger = asyncio.create_task(self._pinger(ws))
                    try:
                        async for raw in ws:
                            await self._on_frame(check_server_frame(raw))
                    finally:
                        pinger.cancel()
            except (OSError, TimeoutError, websockets.WebSocketException):
                pass
            self.ws = None
            self.ready.clear()
            if self.stopping:
                return
            self.url_index += 1  # the other process
            await asyncio.sleep(0.05)

    async def _pinger(self, ws: websockets.ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await ws.send(json.dumps({"type": "ping", "t": time.time()}))
                await asyncio.sleep(self.ping_s)

    async def _on_frame(self, f: dict[str, Any]) -> None:
        kind = f["type"]
        if kind == "message":
            m = f["message"]
            self.received.append(m)
            self.last[m["conversation_id"]] = max(self.last.get(m["conversation_id"], 0), m["seq"])
        elif kind == "sent" and not self.lose_sent:
            self.pending.pop(f["client_id"], None)
            self.confirmed[f["client_id"]] = f["seq"]
            if f["duplicate"]:
                self.duplicates.append(f["client_id"])
        elif kind == "conversation":
            conv = f["conversation"]
            self.conversations[conv["id"]] = conv
        elif kind == "error":
            self.errors.append(f)
            if f["code"] == "rate_limited" and f.get("ref") in self.pending:
                # "wait a moment and resend"
                self._resend_later(f["ref"])
        async with self.seen:
            self.seen.notify_all()

    def _resend_later(self, client_id: str) -> None:
        async def later() -> None:
            await asyncio.sleep(1.0)
            frame, ws = self.pending.get(client_id), self.ws
            if frame is not None and ws is not None:
                with contextlib.suppress(websockets.ConnectionClosed):
                    await ws.send(json.dumps(frame))

        task = asyncio.create_task(later())
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        """Send a frame if connected (no retry): for start, typing, ack."""
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await ws.send(json.dumps(frame))

    async def say(self, conversation_id: str, body: str) -> str:
        """Queue a message: kept until a `sent` confirms it, sent now if connected; returns its client_id."""
        client_id = f"{self.prefix}-{next(self._ids)}"
        frame = {"type": "send", "conversation_id": conversation_id, "client_id": client_id, "body": body}
        self.pending[client_id] = frame
        await self.send_frame(frame)
        return client_id

    async def wait_for(self, predicate: Any, timeout: float) -> None:
        async with asyncio.timeout(timeout), self.seen:
            await self.seen.wait_for(predicate)

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["conversation_id"] == conversation_id]

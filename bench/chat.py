"""Chat benchmark: the real server under 2,000 customer + 200 agent websockets at 500 msg/s, against a bare relay.

Prints one JSON line on stdout (progress goes to stderr), exits non-zero when it could not measure:

    {"bench": "chat", "customers": 2000, "agents": 200, "msg_per_s": 500, "messages": ..., "lost": 0,
     "p50_ms": ..., "p99_ms": ..., "rss_per_conn_kib": ...,
     "baseline": {"p50_ms": ..., "p99_ms": ..., "rss_per_conn_kib": ...}, "ratio": ..., ...}

The server is `python -m contactcenter serve` (uvicorn, one process, in-process bus, a fresh SQLite file);
the baseline is bench/chat_baseline.py (a bare Starlette relay on the same uvicorn websocket stack). Both get
the same load from the same driver processes in the same run. See bench/README.md for exactly what is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CUSTOMERS, AGENTS, MSG_PER_S, CAPACITY = 2000, 200, 500, 10
TARGET_P99_MS, TARGET_RATIO, TARGET_RSS_KIB = 50.0, 4.0, 32.0
TARGET_ASSIGN_NOTIFY_MS = 1000.0  # assignment to the frame, both sides, during the start burst
# The product's defaults (CC_HEARTBEAT_S, CC_CUSTOMER_HEARTBEAT_S); both servers announce them in welcome and
# every client pings at the period its welcome gave, as widget and console do.
HEARTBEAT_S, CUSTOMER_HEARTBEAT_S = 5.0, 15.0
BASELINE_OVERHEAD_S = 45.0  # relay start, 2,200 connects, chats, drain and teardown
PASSWORD = "bench-agent-password"
SECRET = "bench-secret-" + "x" * 40


def log(msg: str) -> None:
    print(f"[bench chat {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def mono_ns() -> int:
    # CLOCK_MONOTONIC is system-wide on Linux: stamps taken in one driver process are read in the other.
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def pct(sorted_values: list[float] | list[int], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(p * len(sorted_values)) - 1)]


# ---------------------------------------------------------------------------------------------------------
# Load driver (runs in its own process; several of them share the clients)
# ---------------------------------------------------------------------------------------------------------


class Client:
    __slots__ = (
        "conv_event",
        "conv_id",
        "convs",
        "cred",
        "dropped_ns",
        "hb",
        "home",
        "kind",
        "last_seen",
        "reader",
        "started",
        "status",
        "unconfirmed",
        "welcome",
        "ws",
    )

    def __init__(self, kind: str, cred: str) -> None:
        self.kind, self.cred = kind, cred
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.welcome = asyncio.Event()
        self.hb = HEARTBEAT_S  # ping period, from welcome
        self.conv_event = asyncio.Event()
        self.conv_id: str | None = None  # a customer's conversation
        self.status: str | None = None
        self.started = False
        self.convs: set[str] = set()  # an agent's conversations
        self.last_seen: dict[str, int] = {}  # highest seq this client processed, for hello.resume
        self.unconfirmed: dict[str, dict[str, Any]] = {}  # send frames without `sent` yet, resent on reconnect
        self.home = 0  # index of the server process it connects to (several with --processes)
        self.dropped_ns = 0  # when its socket last dropped, until its first message or `sent` after that


class Driver:
    def __init__(self, idx: int, pipe: Connection, cfg: dict[str, Any]) -> None:
        self.idx, self.pipe, self.cfg = idx, pipe, cfg
        self.agents = [Client("agent", c) for c in cfg["cookies"]]
        self.customers = [Client("customer", t) for t in cfg["tokens"]]
        for i, c in enumerate(self.agents + self.customers):  # spread over the processes
            c.home = i
        self.closing = False
        self.tasks: set[asyncio.Task[Any]] = set()
        # Agent side: what arrived, per conversation.
        self.assigned: set[str] = set()
        # Seconds from the server's assignment (assigned_at) to the first frame saying so, per side.
        self.assign_notify_s: dict[str, list[float]] = {"customer": [], "agent": []}
        self.notified: set[tuple[str, str]] = set()
        self.recv: dict[str, set[int]] = {}
        self.last_seq: dict[str, int] = {}
        self.lat_ns: list[int] = []
        self.lat_sent_ns: list[int] = []  # when each of those messages was sent (lat_ns's order)
        self.reopened: list[tuple[int, int]] = []  # (socket dropped, new socket's handshake done)
        self.resumes: list[tuple[int, int]] = []  # (socket dropped, first message or `sent` after it)
        self.duplicates = self.out_of_order = self.gaps = 0
        # Customer side: what the server confirmed with `sent`.
        self.confirmed: dict[str, list[int]] = {}
        self.confirmed_at: dict[tuple[str, int], int] = {}
        self.pending: dict[str, int] = {}
        self.sent_lat_ns: list[int] = []
        self.messages = 0
        self.lag_ns: list[int] = []
        self.errors: Counter[str] = Counter()
        self.closes: Counter[str] = Counter()
        self.reconnects = 0
        self.acks = 0
        self.ack_at: dict[str, float] = {}
        self.ack_pending: dict[str, tuple[Client, int]] = {}
        self.ack_timer: dict[str, asyncio.TimerHandle] = {}
        self.usage0: resource.struct_rusage | None = None
        self.wall0 = 0.0

    # -- plumbing ------------------------------------------------------------------------------------------

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def send(self, c: Client, frame: dict[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            await c.ws.send(json.dumps(frame))

    async def read(self, c: Client) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in c.ws:
                self.on_frame(c, json.loads(raw))
        except ConnectionClosed:
            pass
        except Exception as exc:  # a bug in the driver must show, not hang the run
            self.errors[f"driver:{exc!r}"[:80]] += 1
        finally:
            if not self.closing:
                self.closes[f"{c.kind}:{c.ws.close_code}"] += 1
                c.dropped_ns = c.dropped_ns or mono_ns()
                # The load balancer sends it to another process (the one it was on may be gone), spread over
                # them as round-robin or least-connections would.
                c.home += random.randint(1, max(1, len(self.cfg["uris"]) - 1))
                self.spawn(self.reconnect(c))

    async def reconnect(self, c: Client) -> None:
        """What widget and console do: reconnect with hello.resume, restart the chat, resend unconfirmed sends."""
        c.welcome.clear()
        for attempt in range(20):
            # As widget and console do: doubling from 0.5 s, 50-100 % of it (no thundering herd).
            await asyncio.sleep(min(0.5 * 2**attempt, 5.0) * (0.5 + random.random() / 2))
            if self.closing:
                return
            try:
                await self.connect(c)
                break
            except Exception as exc:
                log(f"driver {self.idx}: reconnect failed: {exc!r}")
                c.home += 1  # a load balancer would send the next attempt to another process
        else:
            return
        self.reconnects += 1
        if c.kind == "customer":
            if c.started and c.conv_id is None:
                await self.send(c, self.start_frame(c))
            for frame in list(c.unconfirmed.values()):
                await self.send(c, frame)

    def on_frame(self, c: Client, f: dict[str, Any]) -> None:
        kind = f.get("type")
        # Back in service after its socket dropped: an agent when messages reach it again; a customer once the
        # new socket is welcomed with nothing to resend, or its first resend is confirmed.
        if c.dropped_ns and (
            (c.kind == "agent" and kind == "message")
            or (c.kind == "customer" and (kind == "sent" or (kind == "welcome" and not c.unconfirmed)))
        ):
            self.resumes.append((c.dropped_ns, mono_ns()))
            c.dropped_ns = 0
        if kind == "message":
            m = f["message"]
            conv, seq = m["conversation_id"], m["seq"]
            c.last_seen[conv] = max(seq, c.last_seen.get(conv, 0))
            if c.kind != "agent" or m["sender"] != "customer":
                return  # customers get their own echo; nothing to measure there
            now = mono_ns()
            got = self.recv.setdefault(conv, set())
            last = self.last_seq.get(conv, 0)
            if seq in got:
                self.duplicates += 1
                return
            if seq < last:
                self.out_of_order += 1
            elif seq > last + 1:
                self.gaps += 1  # customers are the only senders here: seqs are contiguous
            got.add(seq)
            self.last_seq[conv] = max(last, seq)
            stamp = int(m["body"].rsplit("#", 1)[1])
            self.lat_ns.append(now - stamp)
            self.lat_sent_ns.append(stamp)
            self.ack(c, conv, seq)
        elif kind == "sent":
            self.confirmed.setdefault(f["conversation_id"], []).append(f["seq"])
            self.confirmed_at[(f["conversation_id"], f["seq"])] = mono_ns()
            c.unconfirmed.pop(f["client_id"], None)
            t = self.pending.pop(f["client_id"], None)
            if t is not None:
                self.sent_lat_ns.append(mono_ns() - t)
        elif kind == "conversation":
            conv = f["conversation"]
            if conv["status"] == "assigned" and conv.get("assigned_at") and (c.kind, conv["id"]) not in self.notified:
                self.notified.add((c.kind, conv["id"]))
                at = datetime.fromisoformat(str(conv["assigned_at"]).replace("Z", "+00:00"))
                self.assign_notify_s[c.kind].append(time.time() - at.timestamp())
            if c.kind == "agent":
                if conv["status"] == "assigned" and conv["agent_id"] is not None:
                    self.assigned.add(conv["id"])
                    c.convs.add(conv["id"])
            elif conv["status"] != "closed":
                c.conv_id, c.status = conv["id"], conv["status"]
                c.conv_event.set()
        elif kind == "welcome":
            c.hb = float(f["heartbeat_s"])
            if c.kind == "customer" and f["conversations"]:
                c.conv_id = f["conversations"][-1]["id"]
            c.welcome.set()
        elif kind == "error":
            self.errors[str(f.get("code"))] += 1
            if sum(self.errors.values()) <= 5:
                log(f"driver {self.idx}: {c.kind} got error {f}")

    def ack(self, c: Client, conv: str, seq: int) -> None:
        """Like a console showing the message: ack the newest seq, at most once per interval per conversation."""
        self.ack_pending[conv] = (c, seq)
        if conv in self.ack_timer:
            return
        wait = self.ack_at.get(conv, -1e9) + self.cfg["ack_interval"] - time.monotonic()
        if wait <= 0:
            self._ack_now(conv)
        else:
            self.ack_timer[conv] = asyncio.get_running_loop().call_later(wait, self._ack_now, conv)

    def _ack_now(self, conv: str) -> None:
        self.ack_timer.pop(conv, None)
        c, seq = self.ack_pending.pop(conv)
        self.ack_at[conv] = time.monotonic()
        self.acks += 1
        self.spawn(self.send(c, {"type": "ack", "conversation_id": conv, "seq": seq}))

    async def heartbeats(self, clients: list[Client]) -> None:
        """Every client pings every heartbeat_s its welcome gave, spread evenly over the period (as widget and
        console do); `clients` are of one kind, so they share the period."""
        slots = 50
        i = 0
        while True:
            await asyncio.sleep((clients[0].hb if clients else HEARTBEAT_S) / slots)
            for c in clients[i::slots]:
                if c.ws is not None and c.welcome.is_set():
                    self.spawn(self.send(c, {"type": "ping", "t": time.time()}))
            i = (i + 1) % slots

    async def connect(self, c: Client) -> None:
        from websockets.asyncio.client import connect

        headers = {"Cookie": f"cc_session={c.cred}"} if c.kind == "agent" else None
        uris = self.cfg["uris"]
        uri = uris[c.home % len(uris)]
        c.ws = await connect(
            uri,
            additional_headers=headers,
            origin=uri.replace("ws://", "http://", 1).removesuffix("/ws"),
            ping_interval=None,  # browsers send no protocol pings; the app-level ping is ours
            open_timeout=60,
            max_size=1 << 20,
            compression=None if self.cfg["compression"] == "none" else "deflate",
        )
        c.reader = asyncio.create_task(self.read(c))
        if c.dropped_ns:  # back on another process: its handshake is done (hello and welcome still to come)
            self.reopened.append((c.dropped_ns, mono_ns()))
        mine = c.convs if c.kind == "agent" else {c.conv_id} if c.conv_id else set()
        resume = {conv: c.last_seen[conv] for conv in mine if conv in c.last_seen}
        hello: dict[str, Any] = {"type": "hello", "v": 1, "resume": resume}
        if c.kind == "customer":
            hello["token"] = c.cred
        await c.ws.send(json.dumps(hello))
        await asyncio.wait_for(c.welcome.wait(), 60)

    async def connect_all(self, clients: list[Client]) -> int:
        sem = asyncio.Semaphore(25)

        async def one(c: Client) -> None:
            async with sem:
                await self.connect(c)

        await asyncio.gather(*(one(c) for c in clients))
        return len(clients)

    # -- commands from the parent ----------------------------------------------------------------------------

    async def cmd_agents(self) -> dict[str, Any]:
        self.spawn(self.heartbeats(self.agents))
        self.spawn(self.heartbeats(self.customers))
        return {"connected": await self.connect_all(self.agents)}

    async def cmd_customers(self) -> dict[str, Any]:
        return {"connected": await self.connect_all(self.customers)}

    @staticmethod
    def start_frame(c: Client) -> dict[str, Any]:
        return {"type": "start", "name": "Visitor", "topic": "Cards", "page_url": "/demo/cards.html"}

    async def cmd_start(self) -> dict[str, Any]:
        """Customers open their chats, `start_concurrency` at a time (each waits for its conversation frame)."""
        sem = asyncio.Semaphore(self.cfg["start_concurrency"])

        async def one(c: Client) -> None:
            async with sem:
                c.started = True
                await self.send(c, self.start_frame(c))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(c.conv_event.wait(), 30)

        async def all_() -> None:
            await asyncio.gather(*(one(c) for c in self.customers))

        self.spawn(all_())
        return self.status()

    def status(self) -> dict[str, Any]:
        return {
            "assigned": len(self.assigned),
            "started": sum(1 for c in self.customers if c.started),
            "with_conv": sum(1 for c in self.customers if c.conv_id),
            "errors": dict(self.errors),
            "closes": dict(self.closes),
            "reconnects": self.reconnects,
        }

    async def cmd_status(self) -> dict[str, Any]:
        return self.status()

    async def cmd_load(self, t0_ns: int, duration_s: float, rate: float) -> dict[str, Any]:
        """Poisson arrivals at `rate` msg/s from random customers of this driver, from t0 for duration_s."""
        rnd = random.Random(1000 + self.idx)
        ready = [c for c in self.customers if c.conv_id and c.status == "assigned"]
        self.usage0, self.wall0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        t, end = t0_ns, t0_ns + int(duration_s * 1e9)
        while True:
            t += int(rnd.expovariate(rate) * 1e9)
            if t >= end:
                break
            delay = (t - mono_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            c = rnd.choice(ready)
            self.messages += 1
            client_id = f"d{self.idx}-{self.messages}"
            stamp = mono_ns()
            self.lag_ns.append(stamp - t)
            self.pending[client_id] = stamp
            body = f"Hello, I have a question about a payment on my card, message {self.messages} #{stamp}"
            frame = {"type": "send", "conversation_id": c.conv_id, "client_id": client_id, "body": body}
            c.unconfirmed[client_id] = frame
            self.spawn(self.send(c, frame))
        return {"messages": self.messages}

    async def cmd_report(self) -> dict[str, Any]:
        u1, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - self.wall0
        u0 = self.usage0 or u1
        cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
        lag = sorted(self.lag_ns)
        return {
            "lat_ns": self.lat_ns,
            "lat_sent_ns": self.lat_sent_ns,
            "resumes": self.resumes,
            "reopened": self.reopened,
            "assign_notify_s": self.assign_notify_s,
            "sent_lat_ns": self.sent_lat_ns,
            "confirmed": self.confirmed,
            "confirmed_at": self.confirmed_at,
            # Conversations whose agent socket is down right now (closed by the server, reconnecting).
            "agent_down": [conv for c in self.agents if not c.welcome.is_set() for conv in c.convs],
            "now_ns": mono_ns(),
            "recv": {k: sorted(v) for k, v in self.recv.items()},
            "messages": self.messages,
            "unconfirmed": len(self.pending),
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "gaps": self.gaps,
            "acks": self.acks,
            "errors": dict(self.errors),
            "closes": dict(self.closes),
            "reconnects": self.reconnects,
            "cpu_pct": round(100 * cpu / wall, 1) if wall > 0 else None,
            "lag_p99_ms": round(pct(lag, 0.99) / 1e6, 2) if lag else None,
            "lag_max_ms": round(lag[-1] / 1e6, 2) if lag else None,
        }

    async def cmd_close(self) -> dict[str, Any]:
        self.closing = True
        socks = [c.ws for c in self.agents + self.customers if c.ws is not None]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in socks), return_exceptions=True), 10)
        return {"closed": len(socks)}

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            cmd, *cargs = await loop.run_in_executor(None, self.pipe.recv)
            try:
                result = await getattr(self, f"cmd_{cmd}")(*cargs)
            except Exception:
                result = {"error": traceback.format_exc()}
            self.pipe.send(result)
            if cmd == "close":
                return


def driver_main(idx: int, pipe: Connection, cfg: dict[str, Any]) -> None:
    asyncio.run(Driver(idx, pipe, cfg).serve())


class Drivers:
    """The parent's handle on the driver processes."""

    def __init__(self, n: int, cfg: dict[str, Any], cookies: list[str], tokens: list[str]) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for i in range(n):
            parent, child = ctx.Pipe()
            part = {**cfg, "cookies": cookies[i::n], "tokens": tokens[i::n]}
            proc = ctx.Process(target=driver_main, args=(i, child, part), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def call(self, *cmd: Any, timeout: float = 120) -> list[dict[str, Any]]:
        for p in self.pipes:
            p.send(cmd)
        out = []
        deadline = time.monotonic() + timeout
        for p in self.pipes:
            if not p.poll(max(0.0, deadline - time.monotonic())):
                raise RuntimeError(f"driver did not answer {cmd[0]!r} within {timeout:.0f}s")
            res = p.recv()
            if "error" in res:
                raise RuntimeError(f"driver failed {cmd[0]!r}:\n{res['error']}")
            out.append(res)
        return out

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call("close", timeout=20)
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)


# ---------------------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    vals = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")


def settled_rss(pid: int, wait_s: float = 2.0) -> int:
    time.sleep(wait_s)
    return rss_kib(pid)


async def prepare_db(url: str, customers: int, agents: int) -> list[str]:
    """Agents and customers straight into the database (see README): returns the visitor tokens."""
    from argon2 import PasswordHasher

    from contactcenter.auth.models import StaffUser
    from contactcenter.auth.service import sign_visitor
    from contactcenter.ccr.identity import normalize_identity
    from contactcenter.ccr.models import Customer, CustomerIdentity
    from contactcenter.ccr.schemas import IdentityKind
    from contactcenter.ccr.service import resolve_customer
    from contactcenter.db import Database

    db = Database(url)
    # A cheap argon2 hash (its parameters live in the hash, so verify is cheap too): 200 logins through
    # POST /api/session then take ~1 s instead of ~50 s of default-cost argon2 in the server's event loop.
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    try:
        async with db.session() as s:
            s.add_all(
                StaffUser(username=f"bench{i:03d}", display_name=f"Agent {i}", role="agent", password_hash=cheap)
                for i in range(agents)
            )
            await s.commit()
        # The rows POST /api/visitors (ccr.resolve_customer) creates, in one transaction instead of 2,000.
        vids = [secrets.token_urlsafe(16) for _ in range(customers)]
        rows = [Customer(display_name="Website visitor", profile={}) for _ in vids]
        async with db.session() as s:
            s.add_all(rows)
            await s.flush()
            s.add_all(
                CustomerIdentity(
                    customer_id=c.id, kind="visitor", value=normalize_identity(IdentityKind.visitor, v, region="GB")
                )
                for c, v in zip(rows, vids, strict=True)
            )
            await s.commit()
            # Same answer as the visitor endpoint would give for these visitor ids.
            cid, created = await resolve_customer(
                s, kind=IdentityKind.visitor, value=vids[0], display_name="Website visitor", region="GB"
            )
            assert (cid, created) == (rows[0].id, False)
        return [sign_visitor(SECRET, visitor_id=v, customer_id=c.id) for c, v in zip(rows, vids, strict=True)]
    finally:
        await db.dispose()


def login_agents(base: str, agents: int) -> list[str]:
    import httpx

    cookies = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for i in range(agents):
            r = client.post("/api/session", json={"username": f"bench{i:03d}", "password": PASSWORD})
            r.raise_for_status()
            cookies.append(r.cookies["cc_session"])
            client.cookies.clear()
    return cookies


def wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError("server did not start listening")


def warm_up(uri: str, origin: str, token: str, compression: str) -> None:
    """One customer socket through hello/welcome/ping/pong, so lazy imports do not count as per-socket memory."""
    from websockets.sync.client import connect
    from websockets.typing import Origin

    deflate = None if compression == "none" else "deflate"
    with connect(uri, origin=Origin(origin), open_timeout=30, compression=deflate) as ws:
        ws.send(json.dumps({"type": "hello", "v": 1, "token": token}))
        assert json.loads(ws.recv(30))["type"] == "welcome"
        ws.send(json.dumps({"type": "ping", "t": 1.0}))
        while json.loads(ws.recv(30))["type"] != "pong":
            pass


def merge_status(st: list[dict[str, Any]]) -> str:
    errors: Counter[str] = Counter()
    closes: Counter[str] = Counter()
    for s in st:
        errors.update(s["errors"])
        closes.update(s["closes"])
    bits = [f"{sum(s['started'] for s in st)} started", f"{sum(s['with_conv'] for s in st)} with a conversation"]
    if errors:
        bits.append(f"errors {dict(errors)}")
    if closes:
        bits.append(f"closes {dict(closes)}, {sum(s['reconnects'] for s in st)} reconnects")
    return ", ".join(bits)


def run_target(
    name: str, args: argparse.Namespace, work: Path, tokens: list[str] | None, duration: float
) -> dict[str, Any]:
    """Start the server (or the relay), drive the load through it for `duration` seconds, return the
    measurements. With --processes N the server is N processes sharing the database and Redis, the clients
    spread over them; with --kill-one the last one gets SIGKILL halfway through the load."""
    n_procs = args.processes if name == "server" else 1
    ports = [free_port() for _ in range(n_procs)]
    port = ports[0]
    py = sys.executable
    env = {**os.environ}
    if name == "server":
        env.update(
            CC_DATABASE_URL=args.url,
            CC_SECRET_KEY=SECRET,
            CC_LOG_LEVEL="WARNING",
            CC_CHAT_CAPACITY=str(args.capacity),
            CC_HEARTBEAT_S=str(HEARTBEAT_S),
            CC_CUSTOMER_HEARTBEAT_S=str(CUSTOMER_HEARTBEAT_S),
            # Thousands of visitors from one address: the flood limits would refuse the load itself.
            CC_CHAT_OPEN_PER_ADDRESS="0",  # off: every benchmark client shares one address
            CC_CHAT_NEW_PER_ADDRESS_PER_HOUR="1000000",
            CC_CHAT_NEW_PER_QUEUE_PER_MINUTE="1000000",
            CC_CHAT_NEW_PER_VISITOR_PER_HOUR="1000000",
            # Every simulated client connects from loopback: lift the per-address socket cap.
            CC_MAX_SOCKETS_PER_ADDRESS="1000000",
        )
        if args.redis_url:
            env["CC_REDIS_URL"] = args.redis_url
        if args.ws == "websockets-sansio":
            cmd = [py, "-m", "contactcenter", "serve", "--host", "127.0.0.1", "--port", "{port}"]
        else:  # the same app and settings, another websocket implementation (no server code changes)
            cmd = [py, "-m", "uvicorn", "contactcenter.app:create_app", "--factory", "--host", "127.0.0.1"]
            cmd += ["--port", "{port}", "--ws", args.ws, "--ws-max-size", "65536", "--log-level", "warning"]
            cmd += ["--proxy-headers"]
    else:
        cmd = [py, str(ROOT / "bench" / "chat_baseline.py"), "--port", "{port}", "--ws", args.ws]
        cmd += ["--capacity", str(args.capacity), "--heartbeat", str(HEARTBEAT_S)]
        cmd += ["--customer-heartbeat", str(CUSTOMER_HEARTBEAT_S)]
    srv_log = (work / f"{name}.log").open("wb")
    procs = [
        subprocess.Popen(
            [str(p) if a == "{port}" else a for a in cmd],
            cwd=ROOT,
            env=env,
            stdout=srv_log,
            stderr=subprocess.STDOUT,
        )
        for p in ports
    ]
    proc = procs[0]
    drivers: Drivers | None = None
    base, uri, origin = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}"
    killed_ns = 0
    try:
        for p, prt in zip(procs, ports, strict=True):
            wait_ready(p, prt)
        n_agents, n_customers = args.agents, args.customers
        if name == "server":
            assert tokens is not None
            t = time.monotonic()
            cookies = login_agents(base, n_agents)
            log(f"{name}: {n_agents} agents logged in through POST /api/session in {time.monotonic() - t:.1f}s")
            warm_token, tokens = tokens[-1], tokens[:-1]
        else:
            cookies = [f"agent-{i}" for i in range(n_agents)]
            tokens = [f"visitor-{i}" for i in range(n_customers)]
            warm_token = "visitor-warm-up"
        warm_up(uri, origin, warm_token, args.compression)
        rss0 = settled_rss(proc.pid, 1.0)
        cfg = {
            "uris": [f"ws://127.0.0.1:{p}/ws" for p in ports],
            "compression": args.compression,
            "ack_interval": args.ack_interval,
            "start_concurrency": args.start_concurrency,
        }
        drivers = Drivers(args.drivers, cfg, cookies, tokens)
        t = time.monotonic()
        drivers.call("agents")
        rss_agents = settled_rss(proc.pid)
        log(f"{name}: {n_agents} agents connected in {time.monotonic() - t:.1f}s; RSS {rss0} -> {rss_agents} KiB")
        t = time.monotonic()
        drivers.call("customers")
        rss_customers = settled_rss(proc.pid)
        per_conn = (rss_customers - rss_agents) / n_customers
        log(
            f"{name}: {n_customers} customers connected in {time.monotonic() - t:.1f}s; RSS {rss_customers} KiB, "
            f"{per_conn:.1f} KiB per idle customer socket"
        )
        if args.rss_only:
            rss = {"rss0": rss0, "agents": rss_agents, "customers": rss_customers}
            return {"rss_per_conn_kib": round(per_conn, 1), "rss_kib": rss}
        t = time.monotonic()
        st = drivers.call("start")
        progress_at, last_assigned, last_log = time.monotonic(), 0, time.monotonic()
        while (assigned := sum(s["assigned"] for s in st)) < n_customers:
            now = time.monotonic()
            if assigned > last_assigned:
                progress_at, last_assigned = now, assigned
            elif now - progress_at > 15 or now - t > 150:
                break
            if now - last_log > 5:
                last_log = now
                log(f"{name}: {assigned} chats assigned after {now - t:.0f}s ({merge_status(st)})")
            time.sleep(0.5)
            st = drivers.call("status")
        log(f"{name}: {assigned}/{n_customers} chats assigned in {time.monotonic() - t:.1f}s")
        unassigned = n_customers - assigned
        if unassigned > n_customers // 100:
            raise RuntimeError(f"only {assigned} of {n_customers} conversations were assigned: {merge_status(st)}")
        if unassigned:
            log(f"{name}: WARNING {unassigned} conversation(s) stayed queued; their customers send nothing")
        rss_chats = rss_kib(proc.pid)
        t0 = mono_ns() + 1_000_000_000
        cpu0, busy0, w0 = sum(cpu_s(p.pid) for p in procs), machine_busy_s(), time.monotonic()
        killed_cpu = 0.0
        log(f"{name}: {args.rate} msg/s for {duration:.0f}s, then a {args.drain:.0f}s drain")
        spy: subprocess.Popen[bytes] | None = None
        if args.profile and name == "server" and not (args.kill_one and n_procs > 1):
            # Sample the server during the load (collapsed stacks: one line per stack with its sample count).
            spy_cmd = [str(Path(py).parent / "py-spy"), "record", "--pid", str(proc.pid), "--rate", "200", "--gil"]
            spy_cmd += ["--duration", str(int(duration)), "--format", "raw", "--output", str(args.profile)]
            spy = subprocess.Popen(spy_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        killer = None
        if args.kill_one and n_procs > 1:

            def kill() -> None:
                nonlocal killed_ns, killed_cpu, spy
                killed_cpu = cpu_s(procs[-1].pid)  # what it used until now counts as the server's
                killed_ns = mono_ns()
                os.kill(procs[-1].pid, signal.SIGKILL)
                log(f"{name}: SIGKILL to process {len(procs)} (port {ports[-1]}) after {duration / 2:.0f}s of load")
                if args.profile:
                    # Only the survivor's first seconds after the kill: the resume storm is what is slow.
                    spy_args = ["record", "--pid", str(proc.pid), "--rate", "200", "--gil", "--duration", "8"]
                    spy = subprocess.Popen(
                        [str(Path(py).parent / "py-spy"), *spy_args, "--format", "raw", "--output", str(args.profile)],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )

            killer = threading.Timer(max(0.0, (t0 - mono_ns()) / 1e9) + duration / 2, kill)
            killer.start()
        drivers.call("load", t0, duration, args.rate / args.drivers, timeout=duration + 60)
        if killer is not None:
            killer.join()
        time.sleep(args.drain)
        wall = time.monotonic() - w0
        alive = procs if not killed_ns else procs[:-1]
        server_cpu = 100 * (sum(cpu_s(p.pid) for p in alive) + killed_cpu - cpu0) / wall  # every process
        machine_cpu = 100 * (machine_busy_s() - busy0) / wall
        rss_end = rss_kib(proc.pid)
        reports = drivers.call("report")
        if spy is not None:
            spy.wait(30)
        for p in procs if not killed_ns else procs[:-1]:
            if p.poll() is not None:
                raise RuntimeError(f"server died with {p.returncode}")
    except BaseException:
        srv_log.flush()
        tail = (work / f"{name}.log").read_text(errors="replace")[-3000:]
        log(f"{name} log tail:\n{tail}")
        raise
    finally:
        if drivers is not None:
            drivers.stop()
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        srv_log.close()
    # Lines the server logged at error level (its log is JSON lines at CC_LOG_LEVEL=WARNING).
    errors = (work / f"{name}.log").read_text(errors="replace").count('"level": "error"')
    rss = {"rss0": rss0, "agents": rss_agents, "customers": rss_customers, "chats": rss_chats, "end": rss_end}
    out = summarise(name, reports, per_conn, server_cpu, rss, errors, args.drain, killed_ns)
    if n_procs > 1:
        out["processes"] = n_procs
        if killed_ns:
            out["killed_at_s"] = round(duration / 2, 1)
    # What else ran on the machine during the load (other people's tests skew latency): % of one core.
    out["other_cpu_pct"] = round(machine_cpu - server_cpu - sum(r["cpu_pct"] or 0 for r in reports), 1)
    out["unassigned"] = unassigned
    out["duration_s"] = duration
    log(f"{name}: other processes used {out['other_cpu_pct']}% of a core during the load")
    if out["other_cpu_pct"] > 30:
        log(f"{name}: WARNING the machine was busy with other work: latencies are skewed upwards")
    return out


def summarise(
    name: str,
    reports: list[dict[str, Any]],
    per_conn: float,
    server_cpu: float,
    rss: dict[str, int],
    server_errors: int,
    drain: float,
    killed_ns: int = 0,
) -> dict[str, Any]:
    pairs = [(sent, x) for r in reports for sent, x in zip(r["lat_sent_ns"], r["lat_ns"], strict=True)]
    around: list[float] = []
    kill_out: dict[str, Any] = {}
    if killed_ns:
        # From the kill to each affected client's first message (or `sent`) after its socket dropped.
        resumes = sorted(
            (first - killed_ns) / 1e6 for r in reports for dropped, first in r["resumes"] if dropped >= killed_ns
        )
        settled = killed_ns + int(1e6 * (resumes[-1] if resumes else 0))
        # Messages sent from 1 s before the kill until the last affected client resumed were in flight at it.
        near = [(s, x) for s, x in pairs if killed_ns - 1_000_000_000 <= s <= settled]
        around = sorted(x / 1e6 for _, x in near)
        pairs = [(s, x) for s, x in pairs if not killed_ns - 1_000_000_000 <= s <= settled]
        reopens = sorted((b - killed_ns) / 1e6 for r in reports for a, b in r["reopened"] if a >= killed_ns)
        kill_out = {
            "resume_p50_ms": round(pct(resumes, 0.50), 1) if resumes else None,
            "resume_p99_ms": round(pct(resumes, 0.99), 1) if resumes else None,
            "resume_max_ms": round(resumes[-1], 1) if resumes else None,
            "resumed_clients": len(resumes),
            # From the kill to the new socket's handshake (the part of the resume before hello and welcome).
            "reopen_p50_ms": round(pct(reopens, 0.50), 1) if reopens else None,
            "reopen_p99_ms": round(pct(reopens, 0.99), 1) if reopens else None,
            "p99_ms_around_kill": round(pct(around, 0.99), 2) if around else None,
            "messages_around_kill": len(around),
        }
    lat = sorted(x / 1e6 for _, x in pairs)
    sent_lat = sorted(x / 1e6 for r in reports for x in r["sent_lat_ns"])
    confirmed: dict[str, set[int]] = {}
    received: dict[str, set[int]] = {}
    for r in reports:
        for conv, seqs in r["confirmed"].items():
            confirmed.setdefault(conv, set()).update(seqs)
        for conv, seqs in r["recv"].items():
            received.setdefault(conv, set()).update(seqs)
    missing = [(conv, seq) for conv, seqs in confirmed.items() for seq in sorted(seqs - received.get(conv, set()))]
    # Lost: confirmed with `sent` at least `drain` seconds before the end and still not at the agent. An overloaded
    # server is still confirming sends during the drain: those got less than the drain to arrive ("in flight").
    at = {k: v for r in reports for k, v in r["confirmed_at"].items()}
    end_ns = max(r["now_ns"] for r in reports)
    age = {m: (end_ns - at[m]) / 1e9 for m in missing if m in at}
    lost_keys = [m for m in missing if age.get(m, drain) >= drain]
    in_flight = len(missing) - len(lost_keys)
    # Whether a lost message's agent was offline at the end (socket closed by the server, reconnect pending).
    down = {conv for r in reports for conv in r["agent_down"]}
    errors: Counter[str] = Counter()
    closes: Counter[str] = Counter()
    for r in reports:
        errors.update(r["errors"])
        closes.update(r["closes"])
    notify = {
        side: sorted(1000 * x for r in reports for x in r.get("assign_notify_s", {}).get(side, []))
        for side in ("customer", "agent")
    }
    both = sorted(notify["customer"] + notify["agent"])
    out = {
        # From each assignment (the server's assigned_at) to the customer's and the agent's frame, during
        # the start burst.
        "assign_notify_p50_ms": round(pct(both, 0.50), 1) if both else None,
        "assign_notify_p99_ms": round(pct(both, 0.99), 1) if both else None,
        "assign_notify_max_ms": round(both[-1], 1) if both else None,
        "assign_notify_customer_p99_ms": round(pct(notify["customer"], 0.99), 1) if notify["customer"] else None,
        "assign_notify_agent_p99_ms": round(pct(notify["agent"], 0.99), 1) if notify["agent"] else None,
        "assign_notified": {side: len(v) for side, v in notify.items()},
        "messages": sum(r["messages"] for r in reports),
        "confirmed": sum(len(s) for s in confirmed.values()),
        "delivered": len(lat) + len(around),
        "unconfirmed": sum(r["unconfirmed"] for r in reports),
        "lost": len(lost_keys),
        "lost_agent_offline": sum(1 for conv, _ in lost_keys if conv in down),
        "lost_sample": [f"{conv}#{seq}" for conv, seq in lost_keys[:3]],
        "in_flight": in_flight,
        "duplicates": sum(r["duplicates"] for r in reports),
        "out_of_order": sum(r["out_of_order"] for r in reports),
        "gaps": sum(r["gaps"] for r in reports),
        "acks": sum(r["acks"] for r in reports),
        "p50_ms": round(pct(lat, 0.50), 2),
        "p99_ms": round(pct(lat, 0.99), 2),
        "p999_ms": round(pct(lat, 0.999), 2),
        "max_ms": round(lat[-1], 2) if lat else None,
        "sent_p50_ms": round(pct(sent_lat, 0.50), 2),
        "sent_p99_ms": round(pct(sent_lat, 0.99), 2),
        "rss_per_conn_kib": round(per_conn, 1),
        "rss_kib": rss,
        "server_cpu_pct": round(server_cpu, 1),
        "driver_cpu_pct": [r["cpu_pct"] for r in reports],
        "driver_lag_p99_ms": max((r["lag_p99_ms"] or 0) for r in reports),
        "errors": dict(errors),
        "unexpected_closes": dict(closes),
        "reconnects": sum(r["reconnects"] for r in reports),
        "server_errors": server_errors,
        **kill_out,
    }
    log(f"{name}: {json.dumps(out)}")
    if not lat:
        raise RuntimeError(f"{name}: no message reached an agent")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="chat websocket benchmark against a bare relay")
    parser.add_argument("--customers", type=int, default=CUSTOMERS, help="customer sockets (one chat each)")
    parser.add_argument("--agents", type=int, default=AGENTS, help="agent sockets")
    parser.add_argument("--rate", type=float, default=MSG_PER_S, help="aggregate customer messages per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--drain", type=float, default=5.0, help="seconds to wait for deliveries after the load")
    parser.add_argument("--capacity", type=int, default=CAPACITY, help="CC_CHAT_CAPACITY")
    parser.add_argument("--drivers", type=int, default=2, help="load driver processes")
    parser.add_argument("--ack-interval", type=float, default=1.0, help="agent ack period per chat, s (0: each)")
    parser.add_argument("--start-concurrency", type=int, default=10, help="start frames in flight per driver")
    parser.add_argument(
        "--compression", choices=["deflate", "none"], default="deflate", help="what clients offer (browsers: deflate)"
    )
    parser.add_argument("--ws", default="websockets-sansio", help="uvicorn websocket implementation for both")
    parser.add_argument("--only", choices=["server", "baseline"], help="measure one side only")
    parser.add_argument("--profile", type=Path, help="py-spy the server during the load into this file")
    parser.add_argument("--rss-only", action="store_true", help="stop after the idle-socket memory measurement")
    parser.add_argument("--budget", type=float, default=285.0, help="seconds the whole run should take at most")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (database, server logs)")
    parser.add_argument("--processes", type=int, default=1, help="server processes (more than 1: on Redis)")
    parser.add_argument("--kill-one", action="store_true", help="SIGKILL the last server process halfway")
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="the server's database: the embedded default, or a PostgreSQL cluster started here with its defaults",
    )
    args = parser.parse_args()
    if args.customers > args.agents * args.capacity:
        parser.error("agents x capacity must hold every customer")
    if args.kill_one and args.processes < 2:
        parser.error("--kill-one needs --processes 2 or more")
    if args.processes > 1 and args.database != "postgres":
        parser.error("several processes share PostgreSQL (--database postgres)")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="cc-bench-chat-"))
    pg = redis = None
    args.redis_url = None
    try:
        server = baseline = None
        if args.only != "baseline":
            from contactcenter.cli import migrate

            args.url = f"sqlite+aiosqlite:///{work / 'cc.db'}"
            if args.database == "postgres":
                from tests.services import PostgresServer

                pg = PostgresServer(settings="")  # fsync and synchronous_commit on, as an operator's would be
                pg.start()
                args.url = pg.url("postgres")
            if args.processes > 1:
                from tests.services import RedisServer

                redis = RedisServer()
                redis.start()
                args.redis_url = redis.url
            t = time.monotonic()
            migrate(args.url)
            tokens = asyncio.run(prepare_db(args.url, args.customers + 1, args.agents))
            log(f"database ready ({args.agents} agents, {args.customers} customers) in {time.monotonic() - t:.1f}s")
            server = run_target("server", args, work, tokens, args.duration)
        if args.only != "server":
            # The relay's latency does not drift over a run: shorten its load if the server phase ate the budget.
            left = args.budget - (time.monotonic() - started) - BASELINE_OVERHEAD_S
            duration = min(args.duration, max(10.0, left))
            if duration < args.duration:
                log(f"baseline: {duration:.0f}s of load instead of {args.duration:.0f}s to stay within the time budget")
            baseline = run_target("baseline", args, work, None, duration)
    except Exception as exc:
        log(f"could not measure: {exc!r}")
        traceback.print_exc(file=sys.stderr)
        return 1
    finally:
        if pg is not None:
            pg.stop()
        if redis is not None:
            redis.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    rate = int(args.rate) if float(args.rate).is_integer() else args.rate
    result: dict[str, Any] = {"bench": "chat", "customers": args.customers, "agents": args.agents, "msg_per_s": rate}
    head = ("messages", "lost", "p50_ms", "p99_ms", "rss_per_conn_kib", "assign_notify_p99_ms")
    server = server or {}
    result.update({k: server[k] for k in head if k in server})
    if baseline is not None:
        keys: tuple[str, ...] = ("p50_ms", "p99_ms", "rss_per_conn_kib", "lost", "messages", "duration_s")
        keys += ("assign_notify_p99_ms",)
        keys += ("sent_p99_ms", "server_cpu_pct", "driver_cpu_pct", "driver_lag_p99_ms", "other_cpu_pct", "rss_kib")
        result["baseline"] = {k: baseline[k] for k in keys if k in baseline}
    if server and baseline is not None and not args.rss_only:
        result["ratio"] = round(server["p99_ms"] / baseline["p99_ms"], 2) if baseline["p99_ms"] else None
    result.update({k: v for k, v in server.items() if k not in head})
    result.update(ws=args.ws, compression=args.compression, ack_interval_s=args.ack_interval, database=args.database)
    result["processes"] = args.processes
    if "ratio" in result:
        checks = {
            "lost": (server["lost"], server["lost"] == 0, "0"),
            "p99_ms": (server["p99_ms"], server["p99_ms"] <= TARGET_P99_MS, f"<= {TARGET_P99_MS}"),
            "ratio": (result["ratio"], (result["ratio"] or 0) <= TARGET_RATIO, f"<= {TARGET_RATIO}"),
            "assign_notify_p99_ms": (
                server["assign_notify_p99_ms"],
                (server["assign_notify_p99_ms"] or 0) <= TARGET_ASSIGN_NOTIFY_MS,
                f"<= {TARGET_ASSIGN_NOTIFY_MS}",
            ),
            "rss_per_conn_kib": (
                server["rss_per_conn_kib"],
                server["rss_per_conn_kib"] <= TARGET_RSS_KIB,
                f"<= {TARGET_RSS_KIB}",
            ),
        }
        for key, (value, ok, target) in checks.items():
            log(f"target {key} {target}: {value} {'met' if ok else 'MISSED'}")
        result["targets_met"] = all(ok for _, ok, _ in checks.values())
    result["run_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

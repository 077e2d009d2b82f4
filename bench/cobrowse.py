"""Co-browse benchmark: 50 concurrent sessions through the real server, each a ~300 KiB snapshot then
10 events/s, against a bare websocket relay carrying the same frames, in the same run.

Prints one JSON line on stdout (progress on stderr), exits non-zero when it could not measure:

    {"bench": "cobrowse", "sessions": 50, "events_per_s": 500, "snapshot_kib": ..., "p99_ms": ..., "lost": 0,
     "baseline": {"p99_ms": ...}, "ratio": ...}

p99: from a customer's event sent to the agent's socket receiving it through the server (the consent check,
the masking scan, the bus and the hub included). The server is `python -m contactcenter serve` (one process,
SQLite, in-process bus); the baseline is this file run with --relay (Starlette under uvicorn, frames passed
on verbatim). One agent answers all 50 conversations (CC_CHAT_CAPACITY=50).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SESSIONS, EVENTS_PER_S, SECONDS, ROWS = 50, 10, 20.0, 300
PASSWORD = "bench-agent-password"
SECRET = "bench-secret-" + "x" * 40


def log(msg: str) -> None:
    print(f"[bench cobrowse {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def now_us() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def pct(values: list[float], p: float) -> float:
    return values[max(0, math.ceil(p * len(values)) - 1)] if values else math.nan


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def snapshot() -> list[dict[str, Any]]:
    """A 300-row page as rrweb records it (meta + full snapshot), about 300 KiB of JSON."""
    ids = iter(range(10, 10**7))
    rows = [
        {"type": 2, "tagName": "tr", "id": next(ids), "attributes": {"class": "row", "data-i": str(i)}, "childNodes": [
            {"type": 2, "tagName": "td", "id": next(ids), "attributes": {"class": f"c{j} cell"}, "childNodes": [
                {"type": 3, "id": next(ids), "textContent": f"Fund {i}-{j}: 4.{i % 97:02d}% AER, from £{i * 10 + j}"}]}
            for j in range(6)]}
        for i in range(ROWS)
    ]  # fmt: skip
    body = {"type": 2, "tagName": "table", "id": 3, "attributes": {"class": "funds"}, "childNodes": rows}
    node = {
        "type": 0,
        "id": 1,
        "childNodes": [{"type": 2, "tagName": "html", "id": 2, "attributes": {}, "childNodes": [body]}],
    }
    return [
        {"type": 4, "data": {"href": "http://127.0.0.1/demo/funds.html", "width": 1280, "height": 800}, "timestamp": 1},
        {"type": 2, "data": {"node": node, "initialOffset": {"top": 0, "left": 0}}, "timestamp": 2},
    ]


def event(conv: str, seq: int) -> dict[str, Any]:
    """An incremental event (a text mutation or a mouse move), stamped with its send time."""
    if seq % 3:
        data = {"source": 1, "positions": [{"x": seq % 1280, "y": seq % 800, "id": 11, "timeOffset": -20}]}
    else:
        data = {"source": 0, "texts": [{"id": 12, "value": f"Balance updated at 10:{seq % 60:02d}, ref {seq}"}],
                "attributes": [], "removes": [], "adds": []}  # fmt: skip
    data["seq"] = seq
    return {"type": 3, "data": data, "timestamp": now_us()}


# ---------------------------------------------------------------------------------------------------------
# The baseline: a bare relay (customers' cobrowse frames to the one agent socket, verbatim)
# ---------------------------------------------------------------------------------------------------------


def relay_app() -> Any:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    agents: list[WebSocket] = []

    async def ws(sock: WebSocket) -> None:
        await sock.accept()
        hello = json.loads(await sock.receive_text())
        is_agent = hello.get("token") is None
        if is_agent:
            agents.append(sock)
        await sock.send_text(json.dumps({"type": "welcome", "conversations": []}))
        try:
            while True:
                raw = await sock.receive_text()
                if not is_agent and agents and '"cobrowse_events"' in raw[:40]:
                    await agents[0].send_text(raw)
                elif '"ping"' in raw[:20]:
                    await sock.send_text('{"type": "pong"}')
        except WebSocketDisconnect:
            pass

    return Starlette(routes=[WebSocketRoute("/ws", ws)])


# ---------------------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------------------


async def expect(ws: Any, want: Any, what: str) -> dict[str, Any]:
    """The next frame `want` accepts, within 30 s; a bench that waits for ever measures nothing."""
    seen: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not want(f := json.loads(await ws.recv())):
                seen.append(f.get("type", "?") + (f":{f['code']}" if "code" in f else ""))
            return f  # type: ignore[no-any-return]
    except TimeoutError:
        raise RuntimeError(f"no {what} within 30 s; frames seen: {seen[-10:]}") from None


async def drive(port: int, real: bool, seconds: float) -> dict[str, Any]:
    import httpx
    import websockets
    from websockets.typing import Origin

    base, uri = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    latencies: list[float] = []
    received: set[tuple[str, int]] = set()
    got_snapshot: set[str] = set()
    states: dict[str, asyncio.Queue[dict[str, Any]]] = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as h:
        headers = {}
        if real:
            r = await h.post("/api/session", json={"username": "bench-agent", "password": PASSWORD})
            r.raise_for_status()
            headers = {"Cookie": f"cc_session={r.cookies['cc_session']}"}
        origin = Origin(base)
        agent = await websockets.connect(
            uri, additional_headers=headers, origin=origin, max_size=None, ping_interval=None
        )
        await agent.send(json.dumps({"type": "hello", "v": 1, "resume": {}}))
        assigned: asyncio.Queue[str] = asyncio.Queue()

        async def agent_reader() -> None:
            async for raw in agent:
                t = now_us()
                f = json.loads(raw)
                kind = f.get("type")
                if kind == "cobrowse_events":
                    cid = f["conversation_id"]
                    for e in f["events"]:
                        if e["type"] == 2:
                            got_snapshot.add(cid)
                        elif e["type"] == 3 and "seq" in e["data"]:
                            received.add((cid, e["data"]["seq"]))
                            latencies.append((t - e["timestamp"]) / 1000)
                elif kind == "error":
                    log(f"agent got an error: {f}")
                elif kind == "conversation" and f["conversation"]["status"] == "assigned":
                    assigned.put_nowait(f["conversation"]["id"])

        reader = asyncio.create_task(agent_reader())
        customers: list[tuple[Any, str]] = []

        async def pinger() -> None:  # the server closes sockets silent for three heartbeats
            while True:
                await asyncio.sleep(2.0)
                for sock in [agent, *(c for c, _ in customers)]:
                    with contextlib.suppress(Exception):
                        await sock.send('{"type": "ping"}')

        pings = asyncio.create_task(pinger())
        for i in range(SESSIONS):
            token = (await h.post("/api/visitors")).json()["token"] if real else f"v{i}"
            ws = await websockets.connect(uri, max_size=None, ping_interval=None)
            await ws.send(json.dumps({"type": "hello", "v": 1, "token": token, "resume": {}}))
            json.loads(await ws.recv())
            if real:
                await ws.send(json.dumps({"type": "start", "topic": f"bench {i}"}))
                f = await expect(ws, lambda f: f["type"] == "conversation", "conversation")
                cid = f["conversation"]["id"]
            else:
                cid = f"c{i}"
            customers.append((ws, cid))
            states[cid] = asyncio.Queue()
            states[cid].put_nowait({"token": token})
        if real:  # consent: the agent asks, every customer accepts
            for _ in range(SESSIONS):
                await asyncio.wait_for(assigned.get(), 60)
            for _ws, cid in customers:
                await agent.send(json.dumps({"type": "cobrowse_request", "conversation_id": cid}))
                await asyncio.sleep(1 / 15)  # under the socket's 20 frames/s: an agent asks one at a time
            for ws, cid in customers:
                f = await expect(ws, lambda f: f["type"] == "cobrowse_state", "co-browse request")
                await ws.send(
                    json.dumps({"type": "cobrowse_accept", "conversation_id": cid, "session_id": f["session_id"]})
                )
                await expect(ws, lambda f: f["type"] == "cobrowse_state" and f["state"] == "on", "co-browse on")
        snap = snapshot()
        snap_bytes = len(json.dumps(snap))
        log(f"{'server' if real else 'relay'}: {SESSIONS} sessions on; snapshots of {snap_bytes // 1024} KiB")
        for ws, cid in customers:  # the snapshots: over HTTP to the server (too big for a frame), ws to the relay
            if real:
                token = (await states[cid].get())["token"]
                r = await h.post("/api/cobrowse/events", json={"conversation_id": cid, "events": snap},
                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
                r.raise_for_status()
            else:
                await ws.send(json.dumps({"type": "cobrowse_events", "conversation_id": cid, "events": snap}))
        deadline = time.monotonic() + 30
        while len(got_snapshot) < SESSIONS and time.monotonic() < deadline:  # noqa: ASYNC110 - a deadline
            await asyncio.sleep(0.05)

        async def customer(ws: Any, cid: str, offset: float) -> int:
            async def drain() -> None:
                async for _ in ws:  # pongs and anything else
                    pass

            d = asyncio.create_task(drain())
            await asyncio.sleep(offset)
            start, sent = time.monotonic(), 0
            while (elapsed := time.monotonic() - start) < seconds:
                frame = {"type": "cobrowse_events", "conversation_id": cid, "events": [event(cid, sent)]}
                await ws.send(json.dumps(frame))
                sent += 1
                await asyncio.sleep(max(0.0, sent / EVENTS_PER_S - elapsed - 0.0))
            d.cancel()
            return sent

        # The driver's own full collections (~100 ms each, once a second while the snapshots it parsed are
        # alive) would be measured as the server's latency: none while measuring, in both runs alike.
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            counts = await asyncio.gather(
                *(customer(ws, cid, i / SESSIONS / EVENTS_PER_S) for i, (ws, cid) in enumerate(customers))
            )
            sent = sum(counts)
            deadline = time.monotonic() + 10
            while len(received) < sent and time.monotonic() < deadline:  # noqa: ASYNC110 - a deadline
                await asyncio.sleep(0.05)
        finally:
            gc.enable()
            gc.unfreeze()
        reader.cancel()
        pings.cancel()
        for ws, _ in customers:
            await ws.close()
        await agent.close()
    lat = sorted(latencies)
    return {"sent": sent, "lost": sent - len(received), "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99),
            "snapshot_kib": round(snap_bytes / 1024), "snapshots": len(got_snapshot), "seconds": seconds}  # fmt: skip


def start(cmd: list[str], env: dict[str, str], port: int, logfile: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logfile.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[2]} exited: {logfile.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return proc
        time.sleep(0.1)
    raise RuntimeError("did not start listening")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--relay", action="store_true", help="run the baseline relay (internal)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    if args.relay:
        import uvicorn

        uvicorn.run(relay_app(), host="127.0.0.1", port=args.port, ws="websockets-sansio", log_level="warning")
        return 0
    from contactcenter.cli import migrate

    work = Path(tempfile.mkdtemp(prefix="bench-cobrowse-"))
    url = f"sqlite+aiosqlite:///{work / 'cc.db'}"
    migrate(url)
    env = {**os.environ, "CC_DATABASE_URL": url, "CC_SECRET_KEY": SECRET, "CC_LOG_LEVEL": "WARNING",
           "CC_CHAT_CAPACITY": str(SESSIONS), "CC_VISITOR_TOKENS_PER_MINUTE": "100000",
           "CC_CHAT_OPEN_PER_ADDRESS": "0", "CC_CHAT_NEW_PER_ADDRESS_PER_HOUR": "1000000",
           "CC_CHAT_NEW_PER_QUEUE_PER_MINUTE": "1000000", "CC_CHAT_NEW_PER_VISITOR_PER_HOUR": "1000000",
           "CC_MAX_SOCKETS_PER_ADDRESS": "1000000"}  # fmt: skip
    cli = [sys.executable, "-m", "contactcenter"]
    add = [*cli, "user", "add", "bench-agent", "--role", "agent", "--name", "Bench", "--password", PASSWORD]
    subprocess.run(add, cwd=ROOT, env=env, check=True, capture_output=True)
    results: dict[str, dict[str, Any]] = {}
    try:
        for name in ("relay", "server"):
            port = free_port()
            cmd = (
                [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)]
                if name == "server"
                else [sys.executable, str(Path(__file__)), "--relay", "--port", str(port)]
            )
            proc = start(cmd, env, port, work / f"{name}.log")
            try:
                results[name] = asyncio.run(drive(port, name == "server", args.seconds))
            finally:
                stop(proc)
            log(f"{name}: {results[name]}")
    except Exception as exc:
        log(f"could not measure: {exc!r}")
        return 1
    server, base = results["server"], results["relay"]
    line = {
        "bench": "cobrowse", "sessions": SESSIONS, "events_per_s": SESSIONS * EVENTS_PER_S,
        "snapshot_kib": server["snapshot_kib"], "events": server["sent"], "p50_ms": round(server["p50_ms"], 2),
        "p99_ms": round(server["p99_ms"], 2), "lost": server["lost"], "snapshots": server["snapshots"],
        "baseline": {"p50_ms": round(base["p50_ms"], 2), "p99_ms": round(base["p99_ms"], 2), "lost": base["lost"]},
        "ratio": round(server["p99_ms"] / base["p99_ms"], 2) if base["p99_ms"] else None,
        "cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2),
    }  # fmt: skip
    print(json.dumps(line))
    return 0 if server["snapshots"] == SESSIONS and not math.isnan(server["p99_ms"]) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Document push benchmark: pushes through the real server to 30 customers at 10 pushes/s (the agent
socket's frame budget is 20/s), each customer fetching its document at once, against a bare websocket
relay doing the same in the same run.

Prints one JSON line on stdout (progress on stderr), exits non-zero when it could not measure:

    {"bench": "documents", "conversations": 30, "pushes": ..., "push_p50_ms": ..., "push_p99_ms": ...,
     "fetch_p99_ms": ..., "lost": 0, "baseline": {"push_p99_ms": ..., "fetch_p99_ms": ...}, "ratio": ...}

push: from the agent's `document_push` sent to the customer's socket receiving `document` (the
conversation check, the push and its CCR touch committed, the bus and the hub included). fetch: the
customer's GET of the signed link with its visitor token, a ~120 KiB PDF of 400 pages, to the last byte. The server is
`python -m contactcenter serve` (one process, SQLite, in-process bus); the baseline is this file run with
--relay (Starlette under uvicorn: frames passed on, the same bytes served from memory, no checks).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on the path, and bench/email.py would hide the standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cobrowse import PASSWORD, SECRET, free_port, now_us, pct, start, stop  # noqa: E402

CONVERSATIONS, PUSHES_PER_S, SECONDS = 30, 10, 20.0


def log(msg: str) -> None:
    print(f"[bench documents {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def document() -> bytes:
    from tests.documents.samples import pdf

    return pdf(400, "Fund chart")  # ~120 KiB, 400 pages


def relay_app(data: bytes) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    customers: dict[str, WebSocket] = {}

    async def ws(sock: WebSocket) -> None:
        await sock.accept()
        hello = json.loads(await sock.receive_text())
        token = hello.get("token")
        if token:
            customers["c" + token[1:]] = sock
        await sock.send_text(json.dumps({"type": "welcome", "conversations": []}))
        try:
            while True:
                f = json.loads(await sock.receive_text())
                if f.get("type") == "document_push" and f["conversation_id"] in customers:
                    out = {"type": "document", "conversation_id": f["conversation_id"], "url": "/doc"}
                    await customers[f["conversation_id"]].send_text(json.dumps(out))
                elif f.get("type") == "ping":
                    await sock.send_text('{"type": "pong"}')
        except WebSocketDisconnect:
            pass

    async def doc(_: Any) -> Response:
        return Response(data, media_type="application/pdf")

    return Starlette(routes=[WebSocketRoute("/ws", ws), Route("/doc", doc)])


async def drive(port: int, real: bool, seconds: float, data: bytes) -> dict[str, Any]:
    import httpx
    import websockets
    from websockets.typing import Origin

    base, uri = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    pushed_at: dict[str, int] = {}
    push_ms: list[float] = []
    fetch_ms: list[float] = []
    bad: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as h:
        headers, doc_id = {}, "0" * 36
        if real:
            r = await h.post("/api/session", json={"username": "bench-agent", "password": PASSWORD})
            r.raise_for_status()
            headers = {"Cookie": f"cc_session={r.cookies['cc_session']}"}
            r = await h.post("/api/documents", files={"file": ("fund.pdf", data)}, data={"title": "Fund chart"},
                             headers={"X-CSRF-Token": r.json()["csrf_token"]})  # fmt: skip
            r.raise_for_status()
            doc_id = r.json()["id"]
        agent = await websockets.connect(uri, additional_headers=headers, origin=Origin(base), ping_interval=None)
        await agent.send(json.dumps({"type": "hello", "v": 1, "resume": {}}))
        assigned: asyncio.Queue[str] = asyncio.Queue()

        async def agent_reader() -> None:
            async for raw in agent:
                f = json.loads(raw)
                if f.get("type") == "conversation" and f["conversation"]["status"] == "assigned":
                    assigned.put_nowait(f["conversation"]["id"])
                elif f.get("type") == "error":
                    bad.append(f["code"])

        reader = asyncio.create_task(agent_reader())
        customers: list[tuple[Any, str, str]] = []
        for i in range(CONVERSATIONS):
            token = (await h.post("/api/visitors")).json()["token"] if real else f"v{i}"
            ws = await websockets.connect(uri, max_size=None, ping_interval=None)
            await ws.send(json.dumps({"type": "hello", "v": 1, "token": token, "resume": {}}))
            json.loads(await ws.recv())
            cid = f"c{i}"
            if real:
                await ws.send(json.dumps({"type": "start", "topic": f"bench {i}"}))
                while (f := json.loads(await ws.recv()))["type"] != "conversation":
                    pass
                cid = f["conversation"]["id"]
            customers.append((ws, cid, token))
        if real:
            for _ in range(CONVERSATIONS):
                await asyncio.wait_for(assigned.get(), 60)
        log(f"{'server' if real else 'relay'}: {CONVERSATIONS} conversations; a {len(data) // 1024} KiB PDF")

        async def customer(ws: Any, cid: str, token: str) -> None:
            async for raw in ws:
                t = now_us()
                f = json.loads(raw)
                if f.get("type") != "document" or f["conversation_id"] not in pushed_at:
                    continue
                push_ms.append((t - pushed_at.pop(f["conversation_id"])) / 1000)
                t0 = now_us()
                r = await h.get(f["url"], headers={"Authorization": f"Bearer {token}"})
                if r.status_code != 200 or len(r.content) != len(data):
                    bad.append(f"fetch {r.status_code}")
                fetch_ms.append((now_us() - t0) / 1000)

        async def pinger() -> None:  # the server closes sockets silent for three heartbeats
            while True:
                await asyncio.sleep(2.0)
                for sock in [agent, *(c for c, _, _ in customers)]:
                    with contextlib.suppress(Exception):
                        await sock.send('{"type": "ping"}')

        tasks = [asyncio.create_task(customer(*c)) for c in customers] + [asyncio.create_task(pinger())]
        sent, begin = 0, time.monotonic()
        while (elapsed := time.monotonic() - begin) < seconds:
            _, cid, _ = customers[sent % CONVERSATIONS]
            if cid not in pushed_at:  # one push at a time per conversation
                pushed_at[cid] = now_us()
                await agent.send(json.dumps({"type": "document_push", "conversation_id": cid, "document_id": doc_id}))
                sent += 1
            await asyncio.sleep(max(0.0, sent / PUSHES_PER_S - elapsed))
        deadline = time.monotonic() + 10
        while (pushed_at or len(fetch_ms) < len(push_ms)) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        for t in [reader, *tasks]:
            t.cancel()
        for ws, _, _ in customers:
            await ws.close()
        await agent.close()
    push, fetch = sorted(push_ms), sorted(fetch_ms)
    return {"pushes": sent, "lost": len(pushed_at), "errors": bad[:5], "push_p50_ms": pct(push, 0.5),
            "push_p99_ms": pct(push, 0.99), "fetch_p50_ms": pct(fetch, 0.5),
            "fetch_p99_ms": pct(fetch, 0.99)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--relay", action="store_true", help="run the baseline relay (internal)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    data = document()
    if args.relay:
        import uvicorn

        uvicorn.run(relay_app(data), host="127.0.0.1", port=args.port, ws="websockets-sansio", log_level="warning")
        return 0
    from contactcenter.cli import migrate

    work = Path(tempfile.mkdtemp(prefix="bench-documents-"))
    url = f"sqlite+aiosqlite:///{work / 'cc.db'}"
    migrate(url)
    env = {**os.environ, "CC_DATABASE_URL": url, "CC_SECRET_KEY": SECRET, "CC_LOG_LEVEL": "WARNING",
           "CC_CHAT_CAPACITY": str(CONVERSATIONS), "CC_VISITOR_TOKENS_PER_MINUTE": "100000",
           "CC_CHAT_OPEN_PER_ADDRESS": "0", "CC_CHAT_NEW_PER_ADDRESS_PER_HOUR": "1000000",
           "CC_CHAT_NEW_PER_QUEUE_PER_MINUTE": "1000000", "CC_CHAT_NEW_PER_VISITOR_PER_HOUR": "1000000",
           "CC_MAX_SOCKETS_PER_ADDRESS": "1000000"}  # fmt: skip
    cli = [sys.executable, "-m", "contactcenter"]
    add = [*cli, "user", "add", "bench-agent", "--role", "agent", "--name", "Bench", "--password", PASSWORD]
    import subprocess

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
                results[name] = asyncio.run(drive(port, name == "server", args.seconds, data))
            finally:
                stop(proc)
            log(f"{name}: {results[name]}")
    except Exception as exc:
        log(f"could not measure: {exc!r}")
        return 1
    server, base = results["server"], results["relay"]

    def r2(v: float) -> float:
        return round(v, 2)

    line = {
        "bench": "documents", "conversations": CONVERSATIONS, "pushes_per_s": PUSHES_PER_S,
        "pushes": server["pushes"], "document_kib": len(data) // 1024, "push_p50_ms": r2(server["push_p50_ms"]),
        "push_p99_ms": r2(server["push_p99_ms"]), "fetch_p50_ms": r2(server["fetch_p50_ms"]),
        "fetch_p99_ms": r2(server["fetch_p99_ms"]), "lost": server["lost"], "errors": server["errors"],
        "baseline": {"push_p50_ms": r2(base["push_p50_ms"]), "push_p99_ms": r2(base["push_p99_ms"]),
                     "fetch_p99_ms": r2(base["fetch_p99_ms"]), "lost": base["lost"]},
        "ratio": r2(server["push_p99_ms"] / base["push_p99_ms"]) if base["push_p99_ms"] else None,
        # On a busy machine both p99s are mostly scheduling noise; the p50s say what the server adds.
        "ratio_p50": r2(server["push_p50_ms"] / base["push_p50_ms"]) if base["push_p50_ms"] else None,
        "machine": "shared, busy (other agents' work running)",
    }  # fmt: skip
    print(json.dumps(line))
    ok = not server["errors"] and not math.isnan(server["push_p99_ms"]) and server["lost"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

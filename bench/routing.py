"""Routing benchmark: decision latency of the in-process core at contact-center scale, and assignments per
second through the Redis backend with two worker processes on a redis-server this script starts itself.

Prints one JSON line on stdout (progress goes to stderr):

    {"bench": "routing", "agents": 10000, "queues": 50, "contacts": 100000, "decision_p99_ms": ...,
     "redis_assign_per_s": ..., "inversions": 0, "double_assignments": 0, "baseline": {...}, "ratio": ...}

The baseline is a naive linear-scan chooser (every agent for an arriving contact, every waiting contact for
a freed agent) timed on the same states in the same run. See bench/README.md for what is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from contactcenter.bus.redis import RedisBus  # noqa: E402
from contactcenter.routing.backend import make_backend  # noqa: E402
from contactcenter.routing.core import Router  # noqa: E402
from contactcenter.routing.model import EPS, AgentSpec, Channel, ContactSpec, Offer, QueueSpec, qualifies  # noqa: E402
from contactcenter.routing.redis import RedisRouting  # noqa: E402

TARGETS = {"decision_p99_ms": 1.0, "redis_assign_per_s": 2000}
SKILLS = [f"s{i}" for i in range(20)]
FINISH_RATIO = 0.8
MIX = [(Channel.chat, 50), (Channel.voice, 25), (Channel.email, 15), (Channel.callback, 10)]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def model(
    agents: int, queues: int, contacts: int, seed: int
) -> tuple[list[QueueSpec], list[AgentSpec], list[ContactSpec]]:
    rng = random.Random(seed)
    qs = []
    for i in range(queues):
        req = {SKILLS[i % len(SKILLS)]: rng.randint(1, 2)}
        if i % 2:
            req[SKILLS[(i * 7 + 3) % len(SKILLS)]] = 1
        qs.append(QueueSpec(f"q{i:02}", req))
    ags = []
    for aid in range(1, agents + 1):
        skills = {s: rng.randint(1, 3) for s in rng.sample(SKILLS, rng.randint(3, 6))}
        weights = {"chat": 0.2} if aid % 4 == 0 else {}
        # Half the agents auto-accept (as chat agents do with CC_ROUTING_AUTO_ACCEPT); the rest answer offers.
        ags.append(AgentSpec(aid, skills, 1.0, weights, auto_accept=aid % 2 == 0))
    qw = [1 / (r + 1) for r in range(queues)]
    chans, cw = zip(*MIX, strict=True)
    cs = []
    for i in range(contacts):
        q = rng.choices(qs, qw)[0]
        prio = rng.choices([0, 1, 2], [80, 15, 5])[0]
        cs.append(ContactSpec(f"c{i}", q.id, rng.choices(chans, cw)[0], prio))
    return qs, ags, cs


def naive_agent(r: Router, c: ContactSpec) -> int | None:
    """Baseline: scan every agent for the longest-idle eligible one with room."""
    q = r.queues[c.queue]
    best: tuple[float, int] | None = None
    for a in r.agents.values():
        if r.routable(a) and a.load + a.spec.weight(c.channel) <= a.spec.capacity + EPS:
            if qualifies(a.spec.skills, q.skills) and (best is None or (a.idle_since, a.spec.id) < best):
                best = (a.idle_since, a.spec.id)
    return None if best is None else best[1]


def naive_contact(r: Router, agent_id: int) -> str | None:
    """Baseline: scan every waiting contact for the best one the freed agent can take."""
    a = r.agents[agent_id]
    best: tuple[int, int, str] | None = None
    for c in r.contacts.values():
        if c.status != "queued" or a.load + a.spec.weight(c.spec.channel) > a.spec.capacity + EPS:
            continue
        if qualifies(a.spec.skills, r.queues[c.spec.queue].skills) and (best is None or c.key < best):
            best = c.key
    return None if best is None else best[2]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def in_process(
    qs: list[QueueSpec], ags: list[AgentSpec], cs: list[ContactSpec], seed: int, every: int
) -> dict[str, Any]:
    rng = random.Random(seed + 1)
    r = Router(offer_s=1e9)
    for q in qs:
        r.add_queue(q)
    for a in ags:
        r.add_agent(a, now=0)
        r.heartbeat(a.id, now=0, ttl_s=1e12)
    gc.freeze()  # the model and the loaded router are long-lived: keep the cyclic GC from rescanning them
    held: list[str] = []
    holder: dict[str, int] = {}
    served: dict[tuple[str, str, int], int] = {}
    inversions = doubles = disagreements = 0
    times: list[float] = []
    base: list[float] = []
    arrive_ms: list[float] = []
    freed_ms: list[float] = []

    def took(offers: list[Offer]) -> None:
        nonlocal inversions, doubles
        for o in offers:
            c = r.contacts[o.contact_id]
            if o.contact_id in holder:
                doubles += 1
            holder[o.contact_id] = o.agent_id
            group = (c.spec.queue, c.spec.channel.value, c.spec.priority)
            if served.get(group, 0) > c.seq:
                inversions += 1
            served[group] = max(served.get(group, 0), c.seq)
            if not o.accepted:
                r.accept(o.agent_id, o.contact_id, now=now)
            held.append(o.contact_id)

    now = 0.0
    for i, spec in enumerate(cs):
        now = i * 0.01
        if i % every == 0:
            t0 = time.perf_counter()
            want = naive_agent(r, spec)
            base.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        offers = r.enqueue(spec, now=now)
        dt = (time.perf_counter() - t0) * 1000
        times.append(dt)
        arrive_ms.append(dt)
        if i % every == 0 and (offers[0].agent_id if offers else None) != want:
            disagreements += 1
        took(offers)
        # Finish fewer contacts than arrive: agents fill up, a backlog builds and freed agents choose from it.
        if held and rng.random() < FINISH_RATIO:
            cid = held.pop(rng.randrange(len(held)))
            del holder[cid]
            if i % every == 0:
                t0 = time.perf_counter()
                agent = r.contacts[cid].agent
                assert agent is not None
                r.agents[agent].load -= r.agents[agent].held[cid]  # the room the finishing contact frees
                want_c = naive_contact(r, agent)
                r.agents[agent].load += r.agents[agent].held[cid]
                base.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            _, offers = r.finish(cid, now=now)
            dt = (time.perf_counter() - t0) * 1000
            times.append(dt)
            freed_ms.append(dt)
            if i % every == 0 and (offers[0].contact_id if offers else None) != want_c:
                disagreements += 1
            took(offers)
        if i % 20000 == 0:
            log(f"in-process: {i} contacts, {len(held)} held, waiting {sum(len(w) for w in r.waiting.values())}")
    over = sum(1 for a in r.agents.values() if a.load > a.spec.capacity + EPS)
    return {
        "decision_p50_ms": round(pct(times, 50), 4),
        "decision_p99_ms": round(pct(times, 99), 4),
        "arrival_p99_ms": round(pct(arrive_ms, 99), 4),
        "freed_agent_p99_ms": round(pct(freed_ms, 99), 4),
        "decisions": len(times),
        "inversions": inversions,
        "double_assignments": doubles,
        "capacity_exceeded": over,
        "waiting_at_end": sum(len(w) for w in r.waiting.values()),
        "baseline": {
            "chooser": "naive linear scan over all agents / all waiting contacts, same states",
            "decision_p50_ms": round(pct(base, 50), 3),
            "decision_p99_ms": round(pct(base, 99), 3),
            "samples": len(base),
            "disagreements": disagreements,
        },
    }


async def worker(url: str, name: str, ids: list[str], specs: dict[str, Any]) -> list[tuple[str, int]]:
    bus = RedisBus(url)
    backend = make_backend(bus, offer_s=1e9)
    rng = random.Random(name)
    held: list[str] = []
    got: list[tuple[str, int]] = []
    todo = list(ids)
    await bus.client.ping()
    # Start together: the parent times from "go" (process start-up and loading are not assignments).
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)

    async def took(offers: list[Offer]) -> None:
        for o in offers:
            got.append((o.contact_id, o.agent_id))
            if not o.accepted:
                await backend.accept(o.agent_id, o.contact_id, now=time.time())
            held.append(o.contact_id)

    async def lane() -> None:
        while todo:
            c = specs[todo.pop()]
            await took(await backend.enqueue(ContactSpec(c["id"], c["q"], Channel(c["ch"]), c["pr"]), now=time.time()))
            if held and rng.random() < FINISH_RATIO:
                _, offers = await backend.finish(held.pop(rng.randrange(len(held))), now=time.time())
                await took(offers)
        while held:
            _, offers = await backend.finish(held.pop(), now=time.time())
            await took(offers)

    await asyncio.gather(*(lane() for _ in range(8)))
    # The other worker may still free agents that pick up contacts waiting here: those offers are its own.
    await bus.close()
    return got


def event_loop(name: str) -> Any:
    """The workers run on the loop the app's processes get: uvicorn's default ("auto") is uvloop when installed."""
    if name == "auto":
        try:
            import uvloop

            return uvloop.run
        except ImportError:
            pass
    return asyncio.run


def loop_name(name: str) -> str:
    return "uvloop" if event_loop(name) is not asyncio.run else "asyncio"


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"]
    proc = subprocess.Popen([exe, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


async def _load(url: str, qs: list[QueueSpec], ags: list[AgentSpec]) -> None:
    bus = RedisBus(url)
    backend = RedisRouting(bus.client, offer_s=1e9)
    for q in qs:
        await backend.add_queue(q)
    now = time.time()
    for a in ags:
        await backend.add_agent(a, now=now, queues=qs)
        await backend.heartbeat(a.id, now=now, ttl_s=1e9)
    await bus.close()


async def _final(url: str) -> tuple[int, float]:
    bus = RedisBus(url)
    backend = RedisRouting(bus.client, offer_s=1e9)
    waiting = sum([v.waiting for v in await backend.queue_views()])
    loads = [v.load for v in await backend.agents()]
    await bus.close()
    return waiting, max(loads)


def redis_phase(
    url: str, qs: list[QueueSpec], ags: list[AgentSpec], cs: list[ContactSpec], tmp: Path, loop: str = "auto"
) -> dict[str, Any]:
    asyncio.run(_load(url, qs, ags))
    specs = tmp / "specs.json"
    specs.write_text(json.dumps([{"id": c.id, "q": c.queue, "ch": c.channel.value, "pr": c.priority} for c in cs]))
    halves = [[c.id for c in cs[i::2]] for i in range(2)]
    for i, ids in enumerate(halves):
        (tmp / f"ids{i}.json").write_text(json.dumps(ids))
    log("redis: agents loaded; two workers start")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                url,
                f"w{i}",
                str(tmp / f"ids{i}.json"),
                str(specs),
                str(tmp / f"out{i}.json"),
                loop,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for i in range(2)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
    t0 = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        p.stdin.flush()
    codes = [p.wait() for p in procs]
    elapsed = time.perf_counter() - t0
    if codes != [0, 0]:
        raise RuntimeError(f"workers exited {codes}")
    got = [tuple(x) for i in range(2) for x in json.loads((tmp / f"out{i}.json").read_text())]
    offered = Counter(c for c, _ in got)
    waiting, max_load = asyncio.run(_final(url))
    return {
        "redis_assign_per_s": round(len(got) / elapsed, 1),
        "redis_assignments": len(got),
        "redis_elapsed_s": round(elapsed, 2),
        "redis_double_assignments": sum(n - 1 for n in offered.values() if n > 1),
        "redis_lost": len(cs) - len(offered) - waiting,
        "redis_waiting_at_end": waiting,
        "redis_max_load": round(max_load, 6),
        "redis_worker_loop": loop_name(loop),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--queues", type=int, default=50)
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--baseline-every", type=int, default=500, help="time the naive chooser on every Nth decision")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--loop",
        choices=["auto", "asyncio"],
        default="auto",
        help="workers' event loop: auto = uvloop when installed, as uvicorn's default picks for the app",
    )
    ap.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        url, name, ids_path, specs_path, out, loop = args.worker
        ids = json.loads(Path(ids_path).read_text())
        mine = set(ids)
        specs = {c["id"]: c for c in json.loads(Path(specs_path).read_text()) if c["id"] in mine}
        Path(out).write_text(json.dumps(event_loop(loop)(worker(url, name, ids, specs))))
        return 0
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    try:
        qs, ags, cs = model(args.agents, args.queues, args.contacts, args.seed)
        log("in-process core ...")
        core = in_process(qs, ags, cs, args.seed, args.baseline_every)
        proc, url = start_redis()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                red = redis_phase(url, qs, ags, cs, Path(tmp), args.loop)
        finally:
            proc.kill()
            proc.wait()
    except Exception:
        traceback.print_exc()
        return 1
    base = core.pop("baseline")
    out = {
        "bench": "routing",
        "agents": args.agents,
        "queues": args.queues,
        "contacts": args.contacts,
        "decision_p99_ms": core["decision_p99_ms"],
        "redis_assign_per_s": red["redis_assign_per_s"],
        "inversions": core["inversions"],
        "double_assignments": core["double_assignments"] + red["redis_double_assignments"],
        **{k: v for k, v in core.items() if k not in ("decision_p99_ms", "inversions", "double_assignments")},
        **{k: v for k, v in red.items() if k != "redis_assign_per_s"},
        "baseline": base,
        "ratio": round(core["decision_p99_ms"] / base["decision_p99_ms"], 4) if base["decision_p99_ms"] else None,
        "targets": TARGETS,
        "meets_targets": core["decision_p99_ms"] <= TARGETS["decision_p99_ms"]
        and red["redis_assign_per_s"] >= TARGETS["redis_assign_per_s"]
        and core["inversions"] == 0
        and core["double_assignments"] + red["redis_double_assignments"] == 0,
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    ok = core["capacity_exceeded"] == 0 and red["redis_lost"] == 0 and base["disagreements"] == 0
    print(json.dumps(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""CCR benchmark: bulk touch ingest and timeline reads through the service, on SQLite.

Prints one JSON line on stdout (progress goes to stderr):

    {"bench": "ccr", "touches": ..., "customers": ..., "ingest_per_s": ..., "timeline_p99_ms": ...,
     "baseline": {"ingest_per_s": ..., "timeline_p99_ms": ...}, "ratio": ..., "ingest_ratio": ...}

The baseline is plain stdlib sqlite3 on a second database with the same schema, the same rows, the same
batch size and the same PRAGMAs, measured in the same run. See bench/README.md for exactly what is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from contactcenter.bus.memory import MemoryBus  # noqa: E402
from contactcenter.ccr import service  # noqa: E402
from contactcenter.ccr.models import Customer  # noqa: E402
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind  # noqa: E402
from contactcenter.cli import migrate  # noqa: E402
from contactcenter.db import Database  # noqa: E402

TARGET_INGEST_PER_S = 20_000
TARGET_TIMELINE_P99_MS = 5.0
TIMELINE_LIMIT = 50

# (channel, kind, direction, weight): what a contact center's touch log looks like.
MIX: list[tuple[Channel, TouchKind, Direction, int]] = [
    (Channel.web, TouchKind.page_view, Direction.inbound, 30),
    (Channel.chat, TouchKind.message, Direction.inbound, 14),
    (Channel.chat, TouchKind.message, Direction.outbound, 12),
    (Channel.chat, TouchKind.conversation, Direction.internal, 4),
    (Channel.voice, TouchKind.call, Direction.inbound, 8),
    (Channel.voice, TouchKind.call, Direction.outbound, 3),
    (Channel.email, TouchKind.email, Direction.inbound, 7),
    (Channel.email, TouchKind.email, Direction.outbound, 5),
    (Channel.callback, TouchKind.callback_request, Direction.inbound, 3),
    (Channel.web, TouchKind.cobrowse, Direction.internal, 2),
    (Channel.web, TouchKind.document_push, Direction.outbound, 2),
    (Channel.web, TouchKind.order, Direction.inbound, 4),
    (Channel.face_to_face, TouchKind.note, Direction.internal, 3),
    (Channel.system, TouchKind.system, Direction.internal, 3),
]
WORDS = (
    "customer asked about order delivery refund invoice password reset account billing address "
    "warranty upgrade plan cancel renewal payment card declined shipping tracking number store hours "
    "return label damaged item exchange size colour discount code loyalty points appointment"
).split()
PAGES = ["/", "/pricing", "/products", "/products/42", "/cart", "/checkout", "/help", "/account", "/orders"]

Row = tuple[int, Channel, TouchKind, Direction, datetime, int | None, str | None, str, dict[str, Any]]


def log(msg: str) -> None:
    print(f"[bench ccr] {msg}", file=sys.stderr, flush=True)


def make_rows(n: int, customers: int, seed: int, zipf_s: float) -> list[Row]:
    """Deterministic touches: skewed customers, a realistic channel mix, times over two years."""
    rng = random.Random(seed)
    ranks = list(range(1, customers + 1))
    rng.shuffle(ranks)  # which customer id is how popular
    cum = list(itertools.accumulate(1.0 / (r**zipf_s) for r in ranks))
    total = cum[-1]
    mix_cum = list(itertools.accumulate(w for *_, w in MIX))
    end = datetime(2026, 1, 1, tzinfo=UTC)
    span_us = int(timedelta(days=730).total_seconds() * 1_000_000)
    rows: list[Row] = []
    rand, randint, choice = rng.random, rng.randint, rng.choice
    for _ in range(n):
        cid = bisect.bisect_left(cum, rand() * total) + 1
        channel, kind, direction, _w = MIX[bisect.bisect_left(mix_cum, rand() * mix_cum[-1] + 1e-9)]
        at = end - timedelta(microseconds=randint(0, span_us))
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < randint(40, 78):
            words.append(choice(WORDS))
        summary = " ".join(words)[:80]
        agent = None if direction == Direction.inbound else randint(1, 200)
        conv = f"conv-{randint(1, 400_000):06d}" if channel in (Channel.chat, Channel.voice) else None
        payload: dict[str, Any]
        if kind == TouchKind.page_view:
            payload = {"url": choice(PAGES), "ms": randint(100, 90_000)}
        elif kind == TouchKind.call:
            payload = {"duration_s": randint(5, 1800), "queue": choice(["sales", "support", "billing"])}
        elif kind == TouchKind.order:
            payload = {"order_id": randint(1, 10**6), "total": round(rand() * 500, 2), "items": randint(1, 6)}
        elif kind == TouchKind.email:
            payload = {"subject": summary[:40], "attachments": randint(0, 2)}
        else:
            payload = {"source": channel.value, "tags": [choice(WORDS)]}
        rows.append((cid, channel, kind, direction, at, agent, conv, summary, payload))
    return rows


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


async def seed_customers(db: Database, n: int) -> None:
    created = datetime(2023, 6, 1, tzinfo=UTC)
    async with db.session() as s:
        for start in range(0, n, 5_000):
            await s.execute(
                insert(Customer),
                [
                    {"id": i, "display_name": f"Customer {i:06d}", "segment": ("retail", "business", None)[i % 3],
                     "profile": {}, "created_at": created}
                    for i in range(start + 1, min(n, start + 5_000) + 1)
                ],
            )
        await s.commit()


async def run_service(url: str, rows: list[Row], customers: int, batch: int, queries: list[int]) -> dict[str, Any]:
    db = Database(url)
    bus = MemoryBus()
    try:
        await seed_customers(db, customers)
        log(f"service: {customers} customers inserted; ingesting {len(rows)} touches in batches of {batch}")
        timed = 0.0
        logged = 0
        async with db.session() as s:
            for start in range(0, len(rows), batch):
                # Untimed: a capability builds its TouchIn inputs (validated by pydantic) before logging.
                ins = [
                    TouchIn(customer_id=c, channel=ch, kind=k, direction=d, occurred_at=at, agent_id=a,
                            conversation_id=cv, summary=sm, payload=p)
                    for c, ch, k, d, at, a, cv, sm, p in rows[start:start + batch]
                ]
                t0 = time.perf_counter()
                ids = await service.log_touches(s, bus, touches=ins)
                timed += time.perf_counter() - t0
                logged += len(ids)
                if (start // batch) % 40 == 39:
                    log(f"service: {logged} touches, {logged / timed:,.0f}/s so far")
        if logged != len(rows):
            raise RuntimeError(f"log_touches returned {logged} ids for {len(rows)} touches")
        log(f"service: ingest {timed:.1f}s, {logged / timed:,.0f}/s; timeline x{len(queries)}")

        # Warm up the statement cache and connection, then one fresh session per call, like a request.
        for cid in queries[:50]:
            async with db.session() as s:
                await service.timeline(s, customer_id=cid, limit=TIMELINE_LIMIT)
        lat: list[float] = []
        items = 0
        for cid in queries:
            async with db.session() as s:
                t0 = time.perf_counter()
                page = await service.timeline(s, customer_id=cid, limit=TIMELINE_LIMIT)
                lat.append((time.perf_counter() - t0) * 1000)
            items += len(page.items)
        return {
            "ingest_s": round(timed, 3),
            "ingest_per_s": round(logged / timed),
            "timeline_p50_ms": round(pct(lat, 50), 3),
            "timeline_p99_ms": round(pct(lat, 99), 3),
            "timeline_items": items,
        }
    finally:
        await db.dispose()


def sqlite_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    # Same PRAGMAs as contactcenter.db.engine uses for the service.
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def run_baseline(path: Path, service_path: Path, rows: list[Row], batch: int, queries: list[int]) -> dict[str, Any]:
    conn = sqlite_connect(path)
    try:
        conn.execute("ATTACH DATABASE ? AS src", (str(service_path),))
        conn.execute("INSERT INTO customers SELECT * FROM src.customers")
        conn.execute("DETACH DATABASE src")
        sql = (
            "INSERT INTO touches (customer_id, channel, kind, direction, occurred_at, agent_id, conversation_id,"
            " summary, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        dumps = json.dumps
        timed = 0.0
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            t0 = time.perf_counter()
            # Timed: the serialisation a hand-written app needs (UTC text time, JSON text), insert, commit.
            params = [
                (c, ch.value, k.value, d.value, at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), a, cv, sm, dumps(p))
                for c, ch, k, d, at, a, cv, sm, p in chunk
            ]
            conn.execute("BEGIN")
            conn.executemany(sql, params)
            conn.execute("COMMIT")
            timed += time.perf_counter() - t0
        log(f"baseline: ingest {timed:.1f}s, {len(rows) / timed:,.0f}/s; timeline x{len(queries)}")
        q = (
            "SELECT id, customer_id, channel, kind, direction, occurred_at, agent_id, conversation_id, summary,"
            " payload FROM touches WHERE customer_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ?"
        )
        plan = " ".join(str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + q, (1, TIMELINE_LIMIT)))
        for cid in queries[:50]:
            conn.execute(q, (cid, TIMELINE_LIMIT)).fetchall()
        lat: list[float] = []
        for cid in queries:
            t0 = time.perf_counter()
            conn.execute(q, (cid, TIMELINE_LIMIT)).fetchall()
            lat.append((time.perf_counter() - t0) * 1000)
        return {
            "ingest_s": round(timed, 3),
            "ingest_per_s": round(len(rows) / timed),
            "timeline_p50_ms": round(pct(lat, 50), 3),
            "timeline_p99_ms": round(pct(lat, 99), 3),
            "timeline_plan": plan,
        }
    finally:
        conn.close()


def check_same_data(a: Path, b: Path, n: int, seed: int) -> None:
    """Both databases must hold the same rows, or the comparison means nothing."""
    cols = "customer_id, channel, kind, direction, occurred_at, agent_id, conversation_id, summary, payload"
    sample = random.Random(seed + 1).sample(range(1, n + 1), min(n, 2_000))
    got = []
    for path in (a, b):
        conn = sqlite3.connect(path)
        try:
            count = conn.execute("SELECT count(*) FROM touches").fetchone()[0]
            if count != n:
                raise RuntimeError(f"{path.name}: {count} touches, expected {n}")
            got.append([conn.execute(f"SELECT {cols} FROM touches WHERE id = ?", (i,)).fetchone() for i in sample])
            plan = " ".join(
                str(r[-1]) for r in conn.execute(
                    "EXPLAIN QUERY PLAN SELECT * FROM touches WHERE customer_id = 1"
                    " ORDER BY occurred_at DESC, id DESC LIMIT 51"
                )
            )
            if "ix_touches_customer_time" not in plan or "TEMP B-TREE" in plan:
                raise RuntimeError(f"{path.name}: timeline query does not use ix_touches_customer_time: {plan}")
        finally:
            conn.close()
    if got[0] != got[1]:
        diff = next(i for i, (x, y) in enumerate(zip(*got, strict=True)) if x != y)
        raise RuntimeError(f"service and baseline rows differ, e.g. id {sample[diff]}: {got[0][diff]} != {got[1][diff]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--touches", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=5_000)
    ap.add_argument("--queries", type=int, default=2_000)
    ap.add_argument("--zipf", type=float, default=1.0, help="skew of touches over customers (rank^-s)")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--keep", action="store_true", help="keep the temp databases (path printed on stderr)")
    args = ap.parse_args()

    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ccr-"))
    svc_db, base_db = tmp / "service.db", tmp / "baseline.db"
    try:
        log(f"generating {args.touches} touches over {args.customers} customers (zipf s={args.zipf})")
        rows = make_rows(args.touches, args.customers, args.seed, args.zipf)
        qrng = random.Random(args.seed + 2)
        queries = [qrng.randint(1, args.customers) for _ in range(args.queries)]
        log(f"migrating {tmp}")
        migrate(f"sqlite+aiosqlite:///{svc_db}")  # before our event loop: alembic's env uses asyncio.run
        migrate(f"sqlite+aiosqlite:///{base_db}")

        ours = asyncio.run(run_service(f"sqlite+aiosqlite:///{svc_db}", rows, args.customers, args.batch, queries))
        base = run_baseline(base_db, svc_db, rows, args.batch, queries)
        check_same_data(svc_db, base_db, args.touches, args.seed)
        top = Counter(r[0] for r in rows).most_common(1)[0][1]
        result: dict[str, Any] = {
            "bench": "ccr",
            "touches": args.touches,
            "customers": args.customers,
            "batch": args.batch,
            "timeline_queries": args.queries,
            "timeline_limit": TIMELINE_LIMIT,
            "busiest_customer_touches": top,
            "ingest_per_s": ours["ingest_per_s"],
            "ingest_s": ours["ingest_s"],
            "timeline_p50_ms": ours["timeline_p50_ms"],
            "timeline_p99_ms": ours["timeline_p99_ms"],
            "baseline": {k: base[k] for k in ("ingest_per_s", "ingest_s", "timeline_p50_ms", "timeline_p99_ms")},
            "ratio": round(ours["timeline_p99_ms"] / base["timeline_p99_ms"], 2),
            "ingest_ratio": round(ours["ingest_per_s"] / base["ingest_per_s"], 3),
            "targets": {"ingest_per_s": TARGET_INGEST_PER_S, "timeline_p99_ms": TARGET_TIMELINE_P99_MS},
            "meets_targets": ours["ingest_per_s"] >= TARGET_INGEST_PER_S
            and ours["timeline_p99_ms"] <= TARGET_TIMELINE_P99_MS,
            "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(),
            "elapsed_s": round(time.perf_counter() - began, 1),
        }
        print(json.dumps(result), flush=True)
        return 0
    except Exception:
        traceback.print_exc()
        print("[bench ccr] could not measure", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            for p in tmp.iterdir():
                p.unlink()
            tmp.rmdir()


if __name__ == "__main__":
    sys.exit(main())

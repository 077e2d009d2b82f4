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
import gc
import itertools
import json
import math
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
    mix_cum = list(itertools.accumulate(w for *_, w in MIX))
    end = datetime(2026, 1, 1, tzinfo=UTC)
    span_us = int(timedelta(days=730).total_seconds() * 1_000_000)
    # A pool of distinct 40-80 character summaries, drawn from per touch (building one per row is slow).
    summaries = []
    for _ in range(8192):
        size, words = rng.randint(40, 80), [rng.choice(WORDS).capitalize()]
        while len(" ".join(words)) < size:
            words.append(rng.choice(WORDS))
        summaries.append(" ".join(words)[:80])
    rand = rng.random
    # Whole columns at once with random.choices over cumulative weights, then one pass per row.
    cids = rng.choices(range(1, customers + 1), cum_weights=cum, k=n)
    mixes = rng.choices(MIX, cum_weights=mix_cum, k=n)
    ats = [end - timedelta(microseconds=int(rand() * span_us)) for _ in range(n)]
    sums = rng.choices(summaries, k=n)
    rows: list[Row] = []
    queues = ("sales", "support", "billing")
    for cid, (channel, kind, direction, _w), at, summary in zip(cids, mixes, ats, sums, strict=True):
        r = rand()
        agent = None if direction == Direction.inbound else 1 + int(r * 200)
        conv = f"conv-{1 + int(r * 400_000):06d}" if channel in (Channel.chat, Channel.voice) else None
        payload: dict[str, Any]
        if kind == TouchKind.page_view:
            payload = {"url": PAGES[int(r * len(PAGES))], "ms": 100 + int(r * 89_900)}
        elif kind == TouchKind.call:
            payload = {"duration_s": 5 + int(r * 1795), "queue": queues[int(r * 3)]}
        elif kind == TouchKind.order:
            payload = {"order_id": 1 + int(r * 10**6), "total": round(r * 500, 2), "items": 1 + int(r * 6)}
        elif kind == TouchKind.email:
            payload = {"subject": summary[:40], "attachments": int(r * 3)}
        else:
            payload = {"source": channel.value, "tags": [WORDS[int(r * len(WORDS))]]}
        rows.append((cid, channel, kind, direction, at, agent, conv, summary, payload))
    return rows


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


async def seed_customers(db: Database, n: int) -> None:
    created = datetime(2023, 6, 1, tzinfo=UTC)
    async with db.session() as s:
        for start in range(0, n, 5_000):
            await s.execute(
                insert(Customer),
                [
                    {
                        "id": i,
                        "display_name": f"Customer {i:06d}",
                        "segment": ("retail", "business", None)[i % 3],
                        "profile": {},
                        "created_at": created,
                    }
                    for i in range(start + 1, min(n, start + 5_000) + 1)
                ],
            )
        await s.commit()


def sqlite_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    # Same PRAGMAs as contactcenter.db.engine sets on the service's connections.
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
        "cache_size=-65536",
        "wal_autocheckpoint=10000",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


class Baseline:
    """What a hand-written stdlib sqlite3 version of the same two operations costs."""

    INSERT = (
        "INSERT INTO touches (customer_id, channel, kind, direction, occurred_at, agent_id, conversation_id,"
        " summary, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    TIMELINE = (
        "SELECT id, customer_id, channel, kind, direction, occurred_at, agent_id, conversation_id, summary,"
        " payload FROM touches WHERE customer_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ?"
    )

    def __init__(self, path: Path, customers_from: Path) -> None:
        self.conn = sqlite_connect(path)
        self.conn.execute("ATTACH DATABASE ? AS src", (str(customers_from),))
        self.conn.execute("INSERT INTO customers SELECT * FROM src.customers")
        self.conn.execute("DETACH DATABASE src")

    def ingest(self, chunk: list[Row]) -> float:
        """Timed: the serialisation a hand-written app needs (UTC text time, JSON text), insert, commit."""
        dumps, utc = json.dumps, UTC
        t0 = time.perf_counter()
        # isoformat, not strftime("%Y-%m-%d %H:%M:%S.%f"): the same text for these years, in half the time.
        params = [
            (c, ch.value, k.value, d.value, at.astimezone(utc).isoformat(" ", "microseconds")[:26], a, cv, sm, dumps(p))
            for c, ch, k, d, at, a, cv, sm, p in chunk
        ]
        self.conn.execute("BEGIN")
        self.conn.executemany(self.INSERT, params)
        self.conn.execute("COMMIT")
        return time.perf_counter() - t0

    def timeline(self, customer_id: int) -> float:
        t0 = time.perf_counter()
        self.conn.execute(self.TIMELINE, (customer_id, TIMELINE_LIMIT)).fetchall()
        return time.perf_counter() - t0


def figures(n: int, ingest_s: float, lat_s: list[float]) -> dict[str, Any]:
    ms = [x * 1000 for x in lat_s]
    return {
        "ingest_per_s": round(n / ingest_s),
        "ingest_s": round(ingest_s, 3),
        "timeline_p50_ms": round(pct(ms, 50), 3),
        "timeline_p99_ms": round(pct(ms, 99), 3),
    }


async def run(
    url: str, svc_path: Path, base_path: Path, rows: list[Row], customers: int, batch: int, queries: list[int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sides batch by batch and query by query, alternating who goes first, so that whatever else the
    machine is doing (and the growing size of the databases) weighs on both alike."""
    db = Database(url)
    bus = MemoryBus()
    try:
        await seed_customers(db, customers)
        base = Baseline(base_path, svc_path)
        log(f"{customers} customers in both databases; ingesting {len(rows)} touches in batches of {batch}")
        ours_s = base_s = 0.0
        logged = 0
        async with db.session() as s:
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                # Untimed: a capability builds its TouchIn inputs (validated by pydantic) before logging.
                ins = [
                    TouchIn(
                        customer_id=c,
                        channel=ch,
                        kind=k,
                        direction=d,
                        occurred_at=at,
                        agent_id=a,
                        conversation_id=cv,
                        summary=sm,
                        payload=p,
                    )
                    for c, ch, k, d, at, a, cv, sm, p in chunk
                ]
                baseline_first = (start // batch) % 2 == 1
                if baseline_first:
                    base_s += base.ingest(chunk)
                t0 = time.perf_counter()
                ids = await service.log_touches(s, bus, touches=ins)
                ours_s += time.perf_counter() - t0
                if not baseline_first:
                    base_s += base.ingest(chunk)
                logged += len(ids)
                if (start // batch) % 40 == 39:
                    log(f"{logged} touches: ours {logged / ours_s:,.0f}/s, baseline {logged / base_s:,.0f}/s")
        if logged != len(rows):
            raise RuntimeError(f"log_touches returned {logged} ids for {len(rows)} touches")
        log(f"ingest: ours {ours_s:.1f}s, baseline {base_s:.1f}s; timeline x{len(queries)}")

        # Warm up statement caches and the pool, then one fresh session per call, like a request.
        for cid in queries[:50]:
            async with db.session() as s:
                await service.timeline(s, customer_id=cid, limit=TIMELINE_LIMIT)
            base.timeline(cid)
        ours_lat: list[float] = []
        base_lat: list[float] = []
        items = 0
        for i, cid in enumerate(queries):
            if i % 2:
                base_lat.append(base.timeline(cid))
            async with db.session() as s:
                t0 = time.perf_counter()
                page = await service.timeline(s, customer_id=cid, limit=TIMELINE_LIMIT)
                ours_lat.append(time.perf_counter() - t0)
            if not i % 2:
                base_lat.append(base.timeline(cid))
            items += len(page.items)
        if items < len(queries):
            raise RuntimeError(f"{len(queries)} timeline pages held only {items} touches")
        base.conn.close()
        ours = figures(len(rows), ours_s, ours_lat)
        ours["timeline_mean_items"] = round(items / len(queries), 1)
        return ours, figures(len(rows), base_s, base_lat)
    finally:
        await db.dispose()


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
            # Payloads as JSON values: the service writes compact orjson text, the baseline json.dumps' spacing.
            got.append(
                [
                    (*r[:-1], json.loads(r[-1]))
                    for r in (conn.execute(f"SELECT {cols} FROM touches WHERE id = ?", (i,)).fetchone() for i in sample)
                ]
            )
            plan = " ".join(
                str(r[-1])
                for r in conn.execute(
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
        raise RuntimeError(f"service and baseline differ at id {sample[diff]}: {got[0][diff]} != {got[1][diff]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--touches", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=5_000)
    ap.add_argument("--queries", type=int, default=2_000)
    ap.add_argument("--zipf", type=float, default=1.0, help="skew of touches over customers (rank^-s)")
    ap.add_argument(
        "--order",
        choices=("chronological", "random"),
        default="chronological",
        help="arrival order of the touches: as they happen (live logging) or shuffled (a backfill)",
    )
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--keep", action="store_true", help="keep the temp databases (path printed on stderr)")
    args = ap.parse_args()

    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench-ccr-"))
    svc_db, base_db = tmp / "service.db", tmp / "baseline.db"
    try:
        log(f"generating {args.touches} touches over {args.customers} customers (zipf s={args.zipf})")
        rows = make_rows(args.touches, args.customers, args.seed, args.zipf)
        if args.order == "chronological":
            rows.sort(key=lambda r: r[4])
        # The inputs are a million-row heap no server would hold: keep the cyclic GC from rescanning it
        # on every collection while either side is timed.
        gc.collect()
        gc.freeze()
        log(f"generated in {time.perf_counter() - began:.1f}s")
        qrng = random.Random(args.seed + 2)
        # Timelines are opened for customers who are in touch: the customer of a random touch, so busy
        # customers come up more often and most pages are full (a uniform pick mostly finds short histories).
        queries = [rows[qrng.randrange(len(rows))][0] for _ in range(args.queries)]
        log(f"migrating {tmp}")
        migrate(f"sqlite+aiosqlite:///{svc_db}")  # before our event loop: alembic's env uses asyncio.run
        migrate(f"sqlite+aiosqlite:///{base_db}")

        url = f"sqlite+aiosqlite:///{svc_db}"
        ours, base = asyncio.run(run(url, svc_db, base_db, rows, args.customers, args.batch, queries))
        check_same_data(svc_db, base_db, args.touches, args.seed)
        top = Counter(r[0] for r in rows).most_common(1)[0][1]
        result: dict[str, Any] = {
            "bench": "ccr",
            "touches": args.touches,
            "customers": args.customers,
            "batch": args.batch,
            "order": args.order,
            "timeline_queries": args.queries,
            "timeline_limit": TIMELINE_LIMIT,
            "busiest_customer_touches": top,
            "ingest_per_s": ours["ingest_per_s"],
            "ingest_s": ours["ingest_s"],
            "timeline_p50_ms": ours["timeline_p50_ms"],
            "timeline_p99_ms": ours["timeline_p99_ms"],
            "timeline_mean_items": ours["timeline_mean_items"],
            "baseline": {k: base[k] for k in ("ingest_per_s", "ingest_s", "timeline_p50_ms", "timeline_p99_ms")},
            "ratio": round(ours["timeline_p99_ms"] / base["timeline_p99_ms"], 2),
            "ingest_ratio": round(ours["ingest_per_s"] / base["ingest_per_s"], 3),
            "targets": {"ingest_per_s": TARGET_INGEST_PER_S, "timeline_p99_ms": TARGET_TIMELINE_P99_MS},
            "meets_targets": ours["ingest_per_s"] >= TARGET_INGEST_PER_S
            and ours["timeline_p99_ms"] <= TARGET_TIMELINE_P99_MS,
            "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(),
            # Other work on the machine skews both sides; a 1-minute load above the CPU count means noise.
            "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
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

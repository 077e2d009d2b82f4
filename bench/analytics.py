"""Customer analytics on generated data: a full `analytics.service.run_all` over 1,000,000 order lines on
SQLite, then the per-customer recompute after 1,000 new orders.

Baseline (same run, same data): the bare pair counting, `analytics.ptp.associations`, over the same
customers' holdings already in memory. Prints one JSON line; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contactcenter.analytics import ptp, service  # noqa: E402
from contactcenter.analytics.figures import Config  # noqa: E402
from contactcenter.cli import migrate  # noqa: E402
from contactcenter.db import Database  # noqa: E402

INSERT = "INSERT INTO orders (customer_id, product_id, quantity, amount, status, placed_at) VALUES (?, ?, 1, ?, ?, ?)"
TARGETS = {"seconds": 120.0, "peak_rss_mib": 4096.0, "incremental_s": 5.0}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def stamp(at: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME text for a UTC time (the column stores naive UTC).
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(path: Path, *, lines: int, customers: int, products: int, seed: int) -> dict[int, set[int]]:
    """Customers, products and order lines written with sqlite3; returns each customer's holdings."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executemany(
        "INSERT INTO products (id, sku, name, category, price) VALUES (?, ?, ?, ?, ?)",
        [(p, f"SKU-{p:04d}", f"Product {p}", f"cat{p % 12}", 10.0) for p in range(1, products + 1)],
    )
    created = stamp(now - timedelta(days=900))
    conn.executemany(
        "INSERT INTO customers (id, display_name, segment, profile, created_at) VALUES (?, ?, 'mass', '{}', ?)",
        [(c, f"Customer {c}", created) for c in range(1, customers + 1)],
    )
    # Products come in families (a product and its usual companions), so some pairs have a real lift.
    weights = [1.0 / (1 + p) ** 0.8 for p in range(products)]
    cum = list(itertools.accumulate(weights))
    ids = range(1, products + 1)
    holdings: dict[int, set[int]] = defaultdict(set)
    held: dict[int, list[int]] = defaultdict(list)  # the same, to pick from
    rows: list[tuple[int, int, float, str, str]] = []
    span = 730 * 86_400
    # Formatting a datetime per line was most of the generation time: pick from a pool of stamps.
    stamps = [stamp(now - timedelta(seconds=int(rng.random() * span))) for _ in range(50_000)]
    for i in range(lines):
        c = 1 + int(rng.random() ** 1.3 * customers)  # some customers hold far more than others
        c = min(c, customers)
        mine = held[c]
        if mine and rng.random() < 0.35:
            p = 1 + (mine[int(rng.random() * len(mine))] + 1 + int(rng.random() * 3)) % products
        else:
            p = rng.choices(ids, cum_weights=cum)[0]
        cancelled = rng.random() < 0.03
        amount = round(5 + rng.random() * 1995, 2)
        rows.append((c, p, amount, "cancelled" if cancelled else "active", stamps[int(rng.random() * len(stamps))]))
        if not cancelled and p not in holdings[c]:
            holdings[c].add(p)
            mine.append(p)
        if len(rows) == 100_000:
            conn.executemany(INSERT, rows)
            rows = []
            log(f"generated {i + 1} order lines")
    if rows:
        conn.executemany(
            INSERT,
            rows,
        )
    conn.commit()
    conn.close()
    return holdings


def add_orders(path: Path, *, n: int, customers: int, products: int, seed: int) -> list[int]:
    rng = random.Random(seed + 1)
    now = stamp(datetime.now(UTC))
    who = [rng.randint(1, customers) for _ in range(n)]
    conn = sqlite3.connect(path)
    conn.executemany(
        INSERT,
        [(c, rng.randint(1, products), 100.0, "placed", now) for c in who],
    )
    conn.commit()
    conn.close()
    return who


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(url: str, holdings: dict[int, set[int]], args: argparse.Namespace, path: Path) -> dict[str, Any]:
    config = Config(min_baskets=args.min_baskets)
    t = time.perf_counter()
    baseline_rules = ptp.associations(holdings.values(), min_baskets=args.min_baskets)
    baseline_s = time.perf_counter() - t
    log(f"baseline: {len(baseline_rules)} rules in {baseline_s:.1f} s")
    del baseline_rules
    rss_before = peak_rss_mib()
    db = Database(url)
    stages: dict[str, float] = {}
    current: dict[str, Any] = {"stage": "", "since": time.perf_counter()}

    def progress(stage: str, done: int, total: int) -> None:
        # Each stage's time: from its first report to the next stage's first report.
        if stage != current["stage"]:
            now = time.perf_counter()
            if current["stage"]:
                stages[str(current["stage"])] = round(now - float(current["since"]), 2)
            current.update(stage=stage, since=now)
            log(f"  {stage}")

    try:
        t = time.perf_counter()
        async with db.session() as s:
            run = await service.run_all(s, config=config, progress=progress)
        seconds = time.perf_counter() - t
        stages[str(current["stage"])] = round(time.perf_counter() - float(current["since"]), 2)
        log(f"full run: {seconds:.1f} s")
        who = add_orders(path, n=1_000, customers=args.customers, products=args.products, seed=args.seed)
        t = time.perf_counter()
        async with db.session() as s:
            done = await service.recompute_customers(s, customer_ids=who, config=config)
        incremental_s = time.perf_counter() - t
    finally:
        await db.dispose()
    return {
        "run": run,
        "seconds": seconds,
        "stages_s": stages,
        "baseline_s": baseline_s,
        "incremental_s": incremental_s,
        "recomputed": len(done),
        "rss_before_run_mib": rss_before,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--order-lines", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--products", type=int, default=200)
    ap.add_argument("--min-baskets", type=int, default=5)
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp:
        path = Path(tmp) / "analytics.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrate(url)  # before our event loop: alembic's env uses asyncio.run
        t = time.perf_counter()
        holdings = generate(
            path, lines=args.order_lines, customers=args.customers, products=args.products, seed=args.seed
        )
        log(f"generated in {time.perf_counter() - t:.1f} s")
        m = asyncio.run(measure(url, holdings, args, path))
    run = m["run"]
    result: dict[str, Any] = {
        "bench": "analytics",
        "database": f"sqlite {sqlite3.sqlite_version} (aiosqlite)",
        "order_lines": args.order_lines,
        "order_lines_not_cancelled": run.order_lines,
        "customers": run.customers,
        "products": args.products,
        "seconds": round(m["seconds"], 2),
        "stages_s": m["stages_s"],
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "associations": run.associations,
        "incremental_orders": 1_000,
        "incremental_customers": m["recomputed"],
        "incremental_s": round(m["incremental_s"], 3),
        "baseline": {
            "what": "analytics.ptp.associations on the same holdings in memory",
            "seconds": round(m["baseline_s"], 2),
        },
        "ratio": round(m["seconds"] / m["baseline_s"], 2) if m["baseline_s"] else None,
        "targets": TARGETS,
    }
    result["meets_targets"] = (
        result["seconds"] <= TARGETS["seconds"]
        and result["peak_rss_mib"] <= TARGETS["peak_rss_mib"]
        and result["incremental_s"] <= TARGETS["incremental_s"]
    )
    result["cpus"] = os.cpu_count()
    result["loadavg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

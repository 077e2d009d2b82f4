"""Campaign target lists on generated data (SQLite): the preview and the start (the list written, hold-out
decided per customer) of a campaign taking a value tier and a next product (PTC) over N customers, then
the per-contact cost of the campaign suggestion source.

Baseline (same run, same data): the bare work underneath, a plain `SELECT id, ptc FROM customer_values`
filtered in Python and the same number of rows inserted with sqlite3's executemany. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: its email.py would shadow the standard library's

from contactcenter.campaigns import lifecycle, service, source  # noqa: E402
from contactcenter.campaigns.schemas import CampaignIn, PreviewIn, TargetIn  # noqa: E402
from contactcenter.cli import migrate  # noqa: E402
from contactcenter.db import Database  # noqa: E402

TIERS = ("bronze", "silver", "gold", "platinum")
SKUS = [f"P{i:02d}" for i in range(20)]


def generate(path: Path, customers: int) -> None:
    rng = random.Random(16)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO products (id, sku, name, category, price) VALUES (?, ?, ?, 'x', 1)",
            [(i + 1, s, s) for i, s in enumerate(SKUS)],
        )
        db.executemany(
            "INSERT INTO customers (id, display_name, segment, profile, created_at) VALUES (?, ?, ?, '{}', ?)",
            [(i, f"C{i}", rng.choice(("mass", "affluent", "private")), now) for i in range(1, customers + 1)],
        )
        rows = []
        for i in range(1, customers + 1):
            picks = rng.sample(SKUS, 3)
            ptc = json.dumps([{"sku": s, "name": s, "score": 0.3, "reason": f"owns P99; took {s}"} for s in picks])
            rows.append((i, rng.choice(TIERS), ptc, now))
        db.executemany(
            "INSERT INTO customer_values (customer_id, value, tier, previous_tier, attrition_risk, ptc, computed_at)"
            " VALUES (?, 100, ?, 'bronze', 0.1, ?, ?)",
            rows,
        )


def baseline(path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    with sqlite3.connect(path) as db:
        ids = [
            cid
            for cid, tier, ptc in db.execute("SELECT customer_id, tier, ptc FROM customer_values")
            if tier in ("gold", "platinum") and any(p["sku"] == "P03" for p in json.loads(ptc))
        ]
        db.execute("CREATE TEMP TABLE t (c INTEGER PRIMARY KEY, h INTEGER)")
        db.executemany("INSERT INTO t VALUES (?, 0)", [(i,) for i in ids])
    return time.perf_counter() - t0, len(ids)


async def run(url: str, contacts: int) -> dict[str, float | int]:
    db = Database(url)
    target = TargetIn(tiers=["gold", "platinum"], product="P03", product_via="ptc", exclude_owners=False)
    today = datetime.now(UTC).date()
    async with db.session() as s:
        t0 = time.perf_counter()
        preview = await service.preview(s, PreviewIn(target=target, product_sku="P03", holdout_pct=10))
        preview_s = time.perf_counter() - t0
        data = CampaignIn(
            id="bench",
            name="Bench",
            target=target,
            product_sku="P03",
            script_id="x",
            starts_on=today,
            ends_on=today + timedelta(days=30),
            holdout_pct=10,
        )
        await service.create(s, data, scripts={"x"}, author="bench")
        t0 = time.perf_counter()
        started = await lifecycle.start(s, None, "bench", by="bench")
        start_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(contacts):
            await source.campaign_offers(s, customer_id=1 + i * 7 % 1000, facts={})
        per_contact_ms = (time.perf_counter() - t0) / contacts * 1000
    await db.dispose()
    return {
        "size": preview.size,
        "written": started.target_size or 0,
        "preview_s": round(preview_s, 3),
        "start_s": round(start_s, 3),
        "offers_per_contact_ms": round(per_contact_ms, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--contacts", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        migrate(f"sqlite+aiosqlite:///{path}")
        generate(path, args.customers)
        found = asyncio.run(run(f"sqlite+aiosqlite:///{path}", args.contacts))
        base_s, base_n = baseline(path)
    assert base_n == found["size"] == found["written"]
    seconds = float(found["preview_s"]) + float(found["start_s"])
    print(
        json.dumps(
            {
                "bench": "campaigns",
                "backend": "sqlite",
                "customers": args.customers,
                **found,
                "baseline": {
                    "seconds": round(base_s, 3),
                    "what": "SELECT + json filter + executemany of the same rows",
                },
                "ratio": round(seconds / base_s, 2) if base_s else None,
            }
        )
    )


if __name__ == "__main__":
    main()

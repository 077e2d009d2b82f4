"""How long a small SQLite commit waits while something else on the same disk flushes: the floor under the chat
server's p99 on SQLite.

Prints one JSON line:

    {"bench": "disk_stall", "commits": ..., "p50_ms": ..., "p99_ms": ..., "p999_ms": ..., "max_ms": ...,
     "stalls_over_5ms": ..., "baseline": {... the same commits with nothing else writing ...}, "ratio": ...}

One connection commits a few rows every 5 ms (WAL, synchronous=NORMAL, as the chat writer does). The timed run
has a second thread that writes and fsyncs an unrelated 8 MiB file once a second (what a WAL checkpoint or the
kernel's writeback of dirty pages does); the baseline is the same commits with no other writer. The commit
itself never syncs, so any wait in it is the disk's, not SQLite's. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p * len(values)))]


def run(folder: Path, seconds: float, flush_mb: int) -> dict[str, float]:
    path = folder / "stall.db"
    for name in ("stall.db", "stall.db-wal", "stall.db-shm", "other.bin"):
        (folder / name).unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # no checkpoint in the commit: only the other writer's flushes
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT, k INTEGER)")
    db.execute("CREATE INDEX ix_t_k ON t (k)")
    stop = threading.Event()

    def flusher() -> None:
        fd = os.open(folder / "other.bin", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while not stop.wait(1.0):
                os.pwrite(fd, os.urandom(flush_mb << 20), 0)
                os.fsync(fd)
        finally:
            os.close(fd)

    other = threading.Thread(target=flusher, daemon=True)
    if flush_mb:
        other.start()
    rng = random.Random(7)
    times: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rows = [v for _ in range(5) for v in ("x" * 300, rng.randrange(100_000))]
        t0 = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (body, k) VALUES " + ", ".join(["(?, ?)"] * 5), rows)
        db.execute("COMMIT")
        times.append(time.perf_counter() - t0)
        time.sleep(0.005)
    stop.set()
    if flush_mb:
        other.join()
    db.close()
    times.sort()
    ms = [t * 1000 for t in times]
    return {
        "commits": len(ms),
        "p50_ms": round(pct(ms, 0.5), 3),
        "p99_ms": round(pct(ms, 0.99), 3),
        "p999_ms": round(pct(ms, 0.999), 3),
        "max_ms": round(ms[-1], 3),
        "stalls_over_5ms": sum(1 for t in ms if t > 5),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each run")
    parser.add_argument("--flush-mb", type=int, default=8, help="MiB the other thread writes and fsyncs each second")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (default: $TMPDIR)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cc-bench-stall-", dir=args.dir) as tmp:
        print("[bench disk_stall] baseline: commits alone", file=sys.stderr, flush=True)
        base = run(Path(tmp), args.seconds, 0)
        print("[bench disk_stall] commits beside a flushing writer", file=sys.stderr, flush=True)
        loaded = run(Path(tmp), args.seconds, args.flush_mb)
    result = {"bench": "disk_stall", **loaded, "baseline": base, "ratio": round(loaded["p99_ms"] / base["p99_ms"], 2)}
    result["flush_mb_per_s"] = args.flush_mb
    result["loadavg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

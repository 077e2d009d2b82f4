"""Webhooks benchmark: events through the outbox to a local receiver, against bare signed POSTs.

Prints one JSON line on stdout (progress goes to stderr):

    {"bench": "webhooks", "deliveries": 2000, "enqueue_s": ..., "deliver_s": ..., "per_s": ...,
     "baseline": {"seconds": ..., "per_s": ...}, "ratio": ...}

Ours: `service.enqueue` of one event per touch for one subscriber (a SQLite database, as `make run`), then
the app's Deliverer claiming, signing, POSTing (20 at a time) and recording every attempt until all are
delivered. Baseline, same run, same receiver: the same number of signed POSTs with one httpx client, 20 at a
time, with no database at all. `ratio` = our deliveries per second / the baseline's. The receiver is a
minimal keep-alive HTTP/1.1 server on 127.0.0.1 in the same process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from contactcenter.bus.memory import MemoryBus  # noqa: E402
from contactcenter.cli import migrate  # noqa: E402
from contactcenter.db import Database, utcnow  # noqa: E402
from contactcenter.webhooks import policy, service, signing  # noqa: E402
from contactcenter.webhooks.models import WebhookDelivery  # noqa: E402
from contactcenter.webhooks.schemas import EventType, Outbound, SubscriberIn  # noqa: E402
from contactcenter.webhooks.worker import Deliverer  # noqa: E402

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
HANDLERS: set[asyncio.Task[None]] = set()  # awaited at the end, once the clients have hung up


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    task = asyncio.current_task()
    if task is not None:
        HANDLERS.add(task)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def run(n: int) -> dict[str, object]:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0, backlog=256)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await asyncio.to_thread(migrate, db_url)
        db = Database(db_url)
        async with db.session() as s:
            sub = await service.create_subscriber(
                s,
                MemoryBus(),
                data=SubscriberIn(url=url, event_types=[EventType.touch_logged]),
                allowed=frozenset({"127.0.0.1"}),
                limit=10,
            )
        events = [
            Outbound(key=f"touch:{i}", type=EventType.touch_logged, timestamp=utcnow(), data={"touch_id": i})
            for i in range(n)
        ]
        print(f"enqueueing {n} events", file=sys.stderr)
        t0 = time.perf_counter()
        for ev in events:
            async with db.write_gate(), db.session() as s:
                await service.enqueue(s, event=ev, subscriber_ids=[sub.id], now=utcnow())
        enqueue_s = time.perf_counter() - t0
        backoff = policy.Backoff(base_s=1, max_s=1, max_attempts=3)
        d = Deliverer(db, timeout_s=10, backoff=backoff, allowed=frozenset({"127.0.0.1"}))
        print("delivering", file=sys.stderr)
        t0 = time.perf_counter()
        while await d.run_once():
            pass
        deliver_s = time.perf_counter() - t0
        await d.close()
        async with db.session() as s:
            done = await s.scalar(select(func.count()).where(WebhookDelivery.status == "delivered"))
        await db.dispose()
    if done != n:
        raise RuntimeError(f"only {done} of {n} delivered")
    bodies = [service.body(ev) for ev in events]
    print("baseline", file=sys.stderr)
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=20)) as client:
        t0 = time.perf_counter()
        for i in range(0, n, 20):

            async def post(j: int) -> None:
                h = signing.headers(sub.secret, msg_id=f"msg_{j}", timestamp=int(time.time()), body=bodies[j])
                r = await client.post(url, content=bodies[j].encode(), headers=h)
                r.raise_for_status()

            await asyncio.gather(*(post(j) for j in range(i, min(n, i + 20))))
        base_s = time.perf_counter() - t0
    server.close()
    await asyncio.wait_for(asyncio.gather(*HANDLERS, return_exceptions=True), 10)
    await server.wait_closed()
    return {
        "bench": "webhooks",
        "deliveries": n,
        "enqueue_s": round(enqueue_s, 3),
        "deliver_s": round(deliver_s, 3),
        "per_s": round(n / deliver_s, 1),
        "baseline": {"seconds": round(base_s, 3), "per_s": round(n / base_s, 1)},
        "ratio": round((n / deliver_s) / (n / base_s), 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--deliveries", type=int, default=2000)
    args = ap.parse_args()
    try:
        print(json.dumps(asyncio.run(run(args.deliveries))))
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

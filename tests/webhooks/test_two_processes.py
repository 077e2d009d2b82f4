"""Two app instances on one PostgreSQL + Redis (as two processes): every event is heard by both, enqueued
once, claimed by one worker and delivered once; and two workers racing for one outbox never send twice."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from typing import cast

from contactcenter.app import create_app
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, CustomerCreate, TouchIn, TouchKind
from contactcenter.db import Database
from contactcenter.settings import Settings
from contactcenter.webhooks.plugin import WebhooksCapability
from tests.conftest import _fresh_pg
from tests.services import PostgresServer, RedisServer
from tests.webhooks.helpers import FakeClock, deliverer, enqueue, rows, subscriber, touch_event
from tests.webhooks.receiver import running

N = 30


async def test_two_apps_enqueue_and_deliver_each_event_once(
    pg_server: PostgresServer, pg_template: str, redis_server: RedisServer
) -> None:
    await asyncio.to_thread(
        subprocess.run, ["redis-cli", "-p", str(redis_server.port), "flushall"], check=True, capture_output=True
    )
    settings = Settings(
        database_url=_fresh_pg(pg_server, pg_template),
        redis_url=redis_server.url,
        secret_key="test-secret-" + "x" * 32,
        log_json=False,
        log_level="WARNING",
        webhook_allowed_hosts="127.0.0.1",
        webhook_poll_s=0.05,
    )
    a, b = create_app(settings), create_app(settings)
    with running() as rx:
        async with a.router.lifespan_context(a), b.router.lifespan_context(b):
            caps = [cast(WebhooksCapability, app.state.capabilities["webhooks"]) for app in (a, b)]
            await asyncio.wait_for(asyncio.gather(*(c.subscribed.wait() for c in caps)), 10)
            _, rx.secret = await subscriber(a.state.db, rx.url)
            async with a.state.db.session() as s:
                cid = (await ccr.create_customer(s, data=CustomerCreate(display_name="Race"), region="GB")).id
                ins = [
                    TouchIn(customer_id=cid, channel=Channel.web, kind=TouchKind.page_view, summary=f"page {i}")
                    for i in range(N)
                ]
                await ccr.log_touches(s, a.state.bus, touches=ins)
            await rx.until(N)
            deadline = time.monotonic() + 20
            while sum(c.attempted for c in caps) < N:  # the last answers' rows are being written
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            heard = [c.heard for c in caps]
            added = [c.added for c in caps]
            sent = [c.attempted for c in caps]
        got = await rows(Database(settings.database_url))
    assert heard == [N, N], "both processes heard every touch and tried to enqueue it"
    assert sum(added) == N and len(got) == N, "the outbox kept one row per touch"
    assert sum(sent) == N and len(rx.got) == N and len(set(rx.ids())) == N, "each sent once"
    assert all(r.status == "delivered" and r.attempts == 1 for r in got)
    assert all(x.verified for x in rx.got)


async def test_two_workers_racing_for_one_outbox_send_each_delivery_once(db_url: str) -> None:
    # Two Database objects on one database: two processes' pools (on SQLite, two write gates).
    one, two = Database(db_url), Database(db_url)
    clock = FakeClock()
    with running() as rx:
        sid, rx.secret = await subscriber(one, rx.url)
        for i in range(40):
            await enqueue(one, touch_event(100 + i), [sid], clock)
        d1, d2 = deliverer(one, clock), deliverer(two, clock)
        d1.batch = d2.batch = 7
        try:
            done = [0, 0]
            while True:
                n1, n2 = await asyncio.gather(d1.run_once(), d2.run_once())
                done[0], done[1] = done[0] + n1, done[1] + n2
                if n1 == n2 == 0:
                    break
        finally:
            for x in (d1, d2):
                await x.close()
        got = await rows(one)
        for x in (one, two):
            with contextlib.suppress(Exception):
                await x.dispose()
    assert sum(done) == 40 and min(done) > 0, done
    assert len(rx.got) == 40 and len(set(rx.ids())) == 40
    assert all(r.status == "delivered" and r.attempts == 1 for r in got)

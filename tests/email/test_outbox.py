"""The outbox under contention: two senders (each with its own database connection pool, as two processes
have) racing over the same queued replies send each exactly once; a sender that claimed rows and died lets
them fall due again when its lease ends, and another sends them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from contactcenter.channels.email import outbox
from contactcenter.channels.email.models import EmailOut
from contactcenter.channels.email.sender import Relay, Sender
from contactcenter.db import Database, utcnow
from tests.conftest import UserFactory
from tests.email.outhelpers import app, received_and_assigned, sink
from tests.email.relay import Sink

__all__ = ["app", "sink"]  # the fixtures
N = 30


def _sender(app: FastAPI, db: Database, sink: Sink, **kw: object) -> Sender:
    relay = Relay(host="127.0.0.1", port=sink.port, timeout_s=10)
    return Sender(
        db, app.state.bus, relay, helo="contactcenter.local", envelope_from="help@contactcenter.local",
        retry_s=0.05, retry_max_s=0.2, poll_s=0.05, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


async def _queue(app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, n: int) -> str:
    await app.state.capabilities["email"].sender.stop()  # this test's senders do the sending
    conv_id, _ = await received_and_assigned(app, client, make_user)
    for i in range(n):
        r = await client.post(f"/api/email/conversations/{conv_id}/replies", json={"text": f"Reply {i}"})
        assert r.status_code == 201, r.text
    return conv_id


async def _rows(app: FastAPI) -> list[EmailOut]:
    async with app.state.db.session() as s:
        return list(await s.scalars(select(EmailOut).where(EmailOut.kind == "reply").order_by(EmailOut.id)))


async def test_two_senders_send_each_reply_once(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, sink: Sink
) -> None:
    await sink.start()
    await _queue(app, client, make_user, N)
    url = app.state.settings.database_url
    dbs = [Database(url), Database(url)]
    try:
        a, b = (_sender(app, db, sink, batch=7) for db in dbs)
        while any(r.status == "queued" for r in await _rows(app)):
            await asyncio.gather(a.run_once(), b.run_once())
        assert a.attempts > 0 and b.attempts > 0 and a.attempts + b.attempts == N  # both worked, none twice
    finally:
        for db in dbs:
            await db.dispose()
    rows = await _rows(app)
    assert all(r.status == "sent" and r.attempts == 1 for r in rows)
    ids = [str(m.message()["Message-ID"]) for m in sink.received]
    assert len(ids) == N and sorted(ids) == sorted(str(r.message_id) for r in rows)


async def test_a_dead_senders_claim_falls_due_after_its_lease(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, sink: Sink
) -> None:
    await sink.start()
    await _queue(app, client, make_user, 2)
    now = utcnow()
    async with app.state.db.session() as s:  # a sender claims both, then dies before sending
        claimed = await outbox.claim(s, now=now, lease_s=90, limit=10)
    assert len(claimed) == 2
    db = Database(app.state.settings.database_url)
    try:
        soon = _sender(app, db, sink, clock_fn=lambda: now + timedelta(seconds=30))
        assert await soon.run_once() == 0  # still held
        later = _sender(app, db, sink, clock_fn=lambda: now + timedelta(seconds=91))
        assert await later.run_once() == 2
    finally:
        await db.dispose()
    assert len(sink.received) == 2 and all(r.status == "sent" for r in await _rows(app))

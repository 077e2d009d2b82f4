"""The outbox and its worker against a real receiver, on SQLite and PostgreSQL, with time moved by hand:
failures then recovery, Retry-After, timeouts, 4xx dead at once, the last attempt dead, replay, SSRF."""

from __future__ import annotations

import json

import pytest

from contactcenter.db import Database
from contactcenter.webhooks import service
from tests.webhooks.helpers import FakeClock, attempts, deliverer, enqueue, later, rows, subscriber, touch_event
from tests.webhooks.receiver import HANG, running


async def test_fails_then_recovers_signed_the_same_every_time(db: Database) -> None:
    clock = FakeClock()
    with running() as rx:
        rx.script = [(500, {}), (429, {"Retry-After": "7"}), (HANG, {})]
        sid, rx.secret = await subscriber(db, rx.url)
        assert await enqueue(db, touch_event(1), [sid], clock) == 1
        d = deliverer(db, clock)
        try:
            assert await d.run_once() == 1  # 500
            [row] = await rows(db)
            assert (row.status, row.attempts, row.last_status) == ("pending", 1, 500)
            assert later(clock.now, 1) <= row.next_at <= later(clock.now, 2)  # base 2 s, jittered
            assert await d.run_once() == 0  # not due yet: nothing is sent early
            clock.to(row.next_at)
            assert await d.run_once() == 1  # 429, Retry-After: 7
            [row] = await rows(db)
            assert row.next_at >= later(clock.now, 7)
            clock.to(later(clock.now, 6))
            assert await d.run_once() == 0  # the receiver asked for 7 s
            clock.to(row.next_at)
            assert await d.run_once() == 1  # the receiver hangs: our timeout
            [row] = await rows(db)
            assert (row.status, row.last_status) == ("pending", None) and "timed out" in (row.last_error or "")
            clock.to(row.next_at)
            assert await d.run_once() == 1  # recovered
        finally:
            await d.close()
        [row] = await rows(db)
        assert (row.status, row.attempts, row.last_error) == ("delivered", 4, None)
        log = await attempts(db, row.id)
        assert [(a.status_code, a.outcome) for a in log] == [
            (500, "retry"),
            (429, "retry"),
            (None, "retry"),
            (200, "delivered"),
        ]
        assert all(a.duration_ms >= 0 for a in log) and log[2].error is not None
        got = rx.got
        assert rx.hung == 1 and len(got) == 3
        assert all(r.verified for r in got), "the receiver verifies every attempt's signature itself"
        assert {r.headers["webhook-id"] for r in got} == {row.msg_id}  # the same id on every attempt
        assert {r.body for r in got} == {row.payload.encode()}
        body = json.loads(got[-1].body)
        assert (body["type"], body["data"]) == ("touch.logged", {"touch_id": 1})
        # A tampered body or a forged signature fails the receiver's own check.
        assert not rx.verify(got[-1].headers, got[-1].body.replace(b'"touch_id":1', b'"touch_id":9'))
        forged = dict(got[-1].headers, **{"webhook-signature": "v1,AAAA" + got[-1].headers["webhook-signature"][7:]})
        assert not rx.verify(forged, got[-1].body)


@pytest.mark.parametrize("status", [400, 301])
async def test_a_client_error_is_dead_at_once_and_replay_sends_it_again(db: Database, status: int) -> None:
    clock = FakeClock()
    with running() as rx:
        rx.script = [(status, {"Location": "http://127.0.0.1:9/"})]
        sid, rx.secret = await subscriber(db, rx.url)
        await enqueue(db, touch_event(2), [sid], clock)
        d = deliverer(db, clock)
        try:
            assert await d.run_once() == 1
            [row] = await rows(db)
            assert (row.status, row.attempts, row.last_status) == ("dead", 1, status)
            clock.to(later(clock.now, 3600))
            assert await d.run_once() == 0  # never retried
            async with db.session() as s:
                out = await service.replay(s, delivery_id=row.id, now=clock())
                assert (out.status, out.attempts) == ("pending", 0)
                with pytest.raises(Exception, match="not_dead"):
                    await service.replay(s, delivery_id=row.id, now=clock())
            assert await d.run_once() == 1
        finally:
            await d.close()
        [row] = await rows(db)
        assert row.status == "delivered" and len(await attempts(db, row.id)) == 2
        assert [r.headers["webhook-id"] for r in rx.got] == [row.msg_id, row.msg_id]


async def test_the_last_attempt_dead_letters(db: Database) -> None:
    clock = FakeClock()
    with running() as rx:
        rx.script = [(503, {}), (503, {}), (503, {})]
        sid, rx.secret = await subscriber(db, rx.url)
        await enqueue(db, touch_event(3), [sid], clock)
        d = deliverer(db, clock, attempts=3)
        try:
            for _ in range(3):
                [row] = await rows(db)
                clock.to(max(clock.now, row.next_at))
                assert await d.run_once() == 1
            clock.to(later(clock.now, 3600))
            assert await d.run_once() == 0
        finally:
            await d.close()
        [row] = await rows(db)
        assert (row.status, row.attempts) == ("dead", 3)
        assert [a.outcome for a in await attempts(db, row.id)] == ["retry", "retry", "dead"]


async def test_an_event_is_enqueued_once_per_subscriber_however_often_it_is_heard(db: Database) -> None:
    clock = FakeClock()
    a, _ = await subscriber(db, "http://127.0.0.1:9/a")
    b, _ = await subscriber(db, "http://127.0.0.1:9/b")
    assert await enqueue(db, touch_event(4), [a, b], clock) == 2
    assert await enqueue(db, touch_event(4), [a, b], clock) == 0  # heard again (another process)
    assert await enqueue(db, touch_event(5), [a], clock) == 1
    got = await rows(db)
    assert sorted((r.subscriber_id, r.event_key) for r in got) == [(a, "touch:4"), (a, "touch:5"), (b, "touch:4")]
    assert len({r.msg_id for r in got}) == 3


async def test_a_name_resolving_to_a_private_address_is_never_contacted(db: Database) -> None:
    clock = FakeClock()
    with running() as rx:
        # 127.1 is 127.0.0.1 once resolved, but only "127.0.0.1" is allowed: refused before sending, dead.
        sid, _ = await subscriber(db, f"http://127.1:{rx.port}/hook")
        await enqueue(db, touch_event(6), [sid], clock)
        d = deliverer(db, clock)
        try:
            assert await d.run_once() == 1
        finally:
            await d.close()
        [row] = await rows(db)
        assert row.status == "dead" and "not a public address" in (row.last_error or "")
        assert rx.got == [] and rx.hung == 0


async def test_an_inactive_subscriber_holds_its_deliveries(db: Database) -> None:
    from contactcenter.bus.memory import MemoryBus
    from contactcenter.webhooks.schemas import SubscriberUpdate

    clock = FakeClock()
    with running() as rx:
        sid, rx.secret = await subscriber(db, rx.url)
        await enqueue(db, touch_event(7), [sid], clock)
        async with db.session() as s:
            await service.update_subscriber(
                s, MemoryBus(), subscriber_id=sid, data=SubscriberUpdate(active=False), allowed=frozenset()
            )
        d = deliverer(db, clock)
        try:
            assert await d.run_once() == 0
            async with db.session() as s:
                await service.update_subscriber(
                    s, MemoryBus(), subscriber_id=sid, data=SubscriberUpdate(active=True), allowed=frozenset()
                )
            assert await d.run_once() == 1
        finally:
            await d.close()
        assert len(rx.got) == 1 and rx.got[0].verified

"""Both bus backends behave the same: fan-out, ordered streams with replay, shared counters."""

from __future__ import annotations

import asyncio

from contactcenter.bus import Bus, Event
from contactcenter.bus.base import parse_id


class Ping(Event):
    type: str = "test.ping"
    n: int


async def test_publish_reaches_every_subscriber_of_the_topic_only(bus: Bus) -> None:
    async with bus.subscribe("room.1") as a, bus.subscribe("room.1", "room.2") as b, bus.subscribe("room.3") as c:
        await bus.publish_event("room.1", Ping(n=1))
        got_a, got_b = await a.get(timeout=2), await b.get(timeout=2)
        assert got_a is not None and got_b is not None
        assert Ping.model_validate_json(got_a.data).n == 1
        assert got_b.topic == "room.1"
        await bus.publish("room.3", "marker")  # sent after room.1's event: c's first message if it got none
        got_c = await c.get(timeout=5)
        assert got_c is not None and got_c.data == "marker"


async def test_an_event_published_in_this_process_comes_with_its_object_on_the_memory_bus(bus: Bus) -> None:
    async with bus.subscribe("room.1") as sub:
        sent = Ping(n=7)
        await bus.publish_event("room.1", sent)
        await bus.publish("room.1", sent.model_dump_json())  # text alone: no object to hand over
        first, second = await sub.get(timeout=2), await sub.get(timeout=2)
    assert first is not None and second is not None and first.data == second.data == sent.model_dump_json()
    # In process the subscriber skips parsing; over Redis it parses the text, as from another process.
    assert first.event is (sent if bus.name == "memory" else None) and second.event is None


async def test_publish_many_delivers_each_message_in_order_to_its_topics_subscribers(bus: Bus) -> None:
    from contactcenter.bus import redis as redis_bus

    n = redis_bus.PIPELINE_CHUNK + 3  # Redis: more than one pipeline round trip
    async with bus.subscribe("all") as every, bus.subscribe("odd") as odd, bus.subscribe("none") as none:
        await bus.publish_many((topic, str(i)) for i in range(n) for topic in (["all", "odd"] if i % 2 else ["all"]))
        got = [await every.get(timeout=2) for _ in range(n)]
        assert [m.data for m in got if m is not None] == [str(i) for i in range(n)]
        got_odd = [await odd.get(timeout=2) for _ in range(n // 2)]
        assert [(m.topic, m.data) for m in got_odd if m is not None] == [("odd", str(i)) for i in range(1, n, 2)]
        # Markers published after the batch come next: nothing else reached these subscribers.
        await bus.publish_many([("odd", "marker"), ("none", "marker")])
        assert [(m.topic, m.data) for m in [await odd.get(timeout=5), await none.get(timeout=5)] if m is not None] == [
            ("odd", "marker"),
            ("none", "marker"),
        ]
    await bus.publish_many([])  # nothing to send is fine


async def test_publish_without_subscribers_is_dropped_not_queued(bus: Bus) -> None:
    await bus.publish("nobody", "lost")
    async with bus.subscribe("nobody") as sub:
        # A marker published after subscribing must be the first thing delivered: "lost" was not queued.
        await bus.publish("nobody", "marker")
        got = await sub.get(timeout=5)
        assert got is not None and got.data == "marker"


async def test_stream_ids_increase_and_read_replays_after_an_id(bus: Bus) -> None:
    ids = [await bus.append("conv.7", f"m{i}") for i in range(5)]
    assert [parse_id(i) for i in ids] == sorted(parse_id(i) for i in ids)
    assert len(set(ids)) == 5
    assert [e.data for e in await bus.read("conv.7")] == ["m0", "m1", "m2", "m3", "m4"]
    assert [e.data for e in await bus.read("conv.7", after=ids[2])] == ["m3", "m4"]
    assert [e.data for e in await bus.read("conv.7", after=ids[0], count=2)] == ["m1", "m2"]
    assert await bus.read("conv.7", after=ids[-1]) == []
    assert await bus.read("conv.other") == []


async def test_follow_replays_missed_events_then_delivers_new_ones_in_order(bus: Bus) -> None:
    first = await bus.append("agent.3", "a")
    await bus.append("agent.3", "b")
    seen: list[str] = []
    replayed = asyncio.Event()

    async def reader() -> None:
        async for ev in bus.follow("agent.3", after=first, poll=0.5):
            seen.append(ev.data)
            replayed.set()
            if len(seen) == 3:
                return

    task = asyncio.create_task(reader())
    await asyncio.wait_for(replayed.wait(), 10)  # the replay is done: what comes next is delivered live
    assert seen == ["b"]
    await bus.append("agent.3", "c")
    await bus.append("agent.3", "d")
    await asyncio.wait_for(task, 5)
    assert seen == ["b", "c", "d"]


async def test_wait_returns_empty_after_timeout_and_wakes_on_append(bus: Bus) -> None:
    last = await bus.append("s", "x")
    assert await bus.wait("s", last, timeout=0.1) == []
    waiter = asyncio.create_task(bus.wait("s", last, timeout=5))
    await asyncio.sleep(0.1)
    await bus.append("s", "y")
    got = await asyncio.wait_for(waiter, 5)
    assert [e.data for e in got] == ["y"]


async def test_streams_are_trimmed_to_about_maxlen(bus: Bus) -> None:
    bus.maxlen = 100  # type: ignore[attr-defined]
    for i in range(1000):
        await bus.append("big", str(i))
    kept = await bus.read("big", count=5000)
    assert 100 <= len(kept) < 1000
    assert kept[-1].data == "999"


async def test_hit_counts_per_key(bus: Bus) -> None:
    # A window far longer than the test: no reset can happen between the hits, however slow the machine.
    assert [await bus.hit("k1", 3600) for _ in range(3)] == [1, 2, 3]
    assert await bus.hit("k2", 3600) == 1
    assert await bus.hit("k1", 3600, amount=0) == 3  # amount 0 reads without counting
    assert await bus.hit("k1", 3600, amount=2) == 5


async def test_hit_resets_after_its_window(bus: Bus) -> None:
    # The behaviour is elapsed time, so time is measured, not slept past: poll (reading with amount 0)
    # until the counter resets, and check it did not reset before its window.
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bus.hit("w", 1) == 1
    seen: set[int] = set()
    while (count := await bus.hit("w", 1, amount=0)) != 0:
        seen.add(count)
        assert loop.time() - started < 10, "the counter never reset"
        await asyncio.sleep(0.02)
    assert loop.time() - started >= 0.95  # the 1 s window (Redis expires to the millisecond)
    assert seen <= {1}
    assert await bus.hit("w", 1) == 1  # a fresh window starts from nothing


async def test_ping(bus: Bus) -> None:
    assert await bus.ping() is True


async def test_presence_expires_and_is_shared(bus: Bus) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bus.mark_present("agents", "1", ttl_s=1.0)
    await bus.mark_present("agents", "2", ttl_s=60)
    await bus.mark_present("other", "9", ttl_s=60)
    assert await bus.present("agents") == {"1", "2"}
    # Expiry is elapsed time: poll until "1" is gone, and check it was not gone before its TTL.
    while (members := await bus.present("agents")) != {"2"}:
        assert members == {"1", "2"}
        assert loop.time() - started < 10, "presence never expired"
        await asyncio.sleep(0.02)
    assert loop.time() - started >= 0.95
    await bus.mark_absent("agents", "2")
    assert await bus.present("agents") == set()
    assert await bus.present("other") == {"9"}


async def test_redis_subscribe_returns_only_once_redis_confirmed_it(bus: Bus) -> None:
    if bus.name != "redis":
        return  # the memory bus registers the subscriber before subscribe() returns
    from contactcenter.bus.redis import RedisBus

    assert isinstance(bus, RedisBus)
    loop = asyncio.get_running_loop()
    assert await bus.ping()  # leaves a connected connection in the pool for the subscription to reuse
    # Redis holds every client's commands for 0.5 s: SUBSCRIBE is sent at once but confirmed only after.
    assert await bus.client.client_pause(500, all=True)
    started = loop.time()
    async with bus.subscribe("confirmed.a", "confirmed.b") as sub:
        assert loop.time() - started >= 0.45
        assert await bus.client.pubsub_numsub("confirmed.a", "confirmed.b") == [("confirmed.a", 1), ("confirmed.b", 1)]
        await bus.publish("confirmed.b", "right after")
        got = await sub.get(timeout=5)
        assert got is not None and (got.topic, got.data) == ("confirmed.b", "right after")

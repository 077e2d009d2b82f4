"""Redis bus: pub/sub for fan-out, Streams (trimmed) for durable ordered logs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contactcenter.bus.base import Bus, BusMessage, Event, StreamEvent, Subscription

PIPELINE_CHUNK = 1_000
SUBSCRIBE_TIMEOUT_S = 10.0


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


class _RedisSubscription(Subscription):
    def __init__(self, pubsub: PubSub) -> None:
        self.pubsub = pubsub
        # Messages that came in while confirmations were awaited (one topic confirmed before the next).
        self.early: list[BusMessage] = []

    async def confirm(self, topics: tuple[str, ...], timeout: float = SUBSCRIBE_TIMEOUT_S) -> None:
        """Wait until Redis has confirmed every topic, so a publish after subscribe() reaches us."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiting = set(topics)
        while waiting:
            left = deadline - loop.time()
            if left <= 0:
                raise RedisTimeoutError(f"Redis did not confirm SUBSCRIBE to {sorted(waiting)} in {timeout}s")
            msg = await self.pubsub.get_message(timeout=left)
            if msg is None:
                continue
            if msg.get("type") == "subscribe":
                waiting.discard(_text(msg["channel"]))
            elif msg.get("type") == "message":
                self.early.append(BusMessage(topic=_text(msg["channel"]), data=_text(msg["data"])))

    async def get(self, timeout: float | None = None) -> BusMessage | None:
        if self.early:
            return self.early.pop(0)
        # Subscribe confirmations also arrive here (as None): keep waiting until the deadline.
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            msg = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if msg is not None and msg.get("type") == "message":
                return BusMessage(topic=_text(msg["channel"]), data=_text(msg["data"]))
            if deadline is not None and loop.time() >= deadline:
                return None


class RedisBus(Bus):
    name = "redis"

    def __init__(self, url: str, maxlen: int = 10_000) -> None:
        self.url = url
        self.maxlen = maxlen
        # Retries ride out a redis-server restart instead of failing the caller at once.
        retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=8)
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            retry=retry,
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            health_check_interval=10,
            socket_connect_timeout=2,
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except Exception:
            return False

    async def epoch(self) -> str:
        info = await self.client.info("server")
        return str(info["run_id"])

    async def publish(self, topic: str, data: str) -> None:
        await self.client.publish(topic, data)

    async def publish_many(self, messages: Iterable[tuple[str, str]]) -> None:
        # One round trip per PUBLISH made a 5,000-touch batch cost 10,000 of them; a pipeline (no MULTI:
        # fan-out needs no atomicity) sends them in chunks, still in order on one connection.
        async with self.client.pipeline(transaction=False) as pipe:
            for topic, data in messages:
                pipe.publish(topic, data)
                if len(pipe) >= PIPELINE_CHUNK:
                    await pipe.execute()
            if len(pipe):
                await pipe.execute()

    async def publish_events(self, topic: str, events: Sequence[Event]) -> None:
        await self.publish_many((topic, e.model_dump_json()) for e in events)

    @asynccontextmanager
    async def _subscribe(self, topics: tuple[str, ...]) -> AsyncIterator[Subscription]:
        pubsub = self.client.pubsub()
        try:
            # SUBSCRIBE only sends the command: return once Redis has confirmed it, or a publish made
            # right after subscribe() returns could be missed.
            await pubsub.subscribe(*topics)
            sub = _RedisSubscription(pubsub)
            await sub.confirm(topics)
            yield sub
        finally:
            # Closing the connection drops its subscriptions; an UNSUBSCRIBE after a cancelled read can hang.
            # redis-py types aclose() only from 8.2; a typed alias works with either.
            close: Callable[[], Awaitable[None]] = pubsub.aclose
            with contextlib.suppress(Exception):
                await asyncio.wait_for(close(), 2)

    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Subscription]:
        return self._subscribe(topics)

    async def append(self, stream: str, data: str) -> str:
        event_id = await self.client.xadd(stream, {"d": data}, maxlen=self.maxlen, approximate=True)
        return _text(event_id)

    def _events(self, stream: str, rows: list[Any]) -> list[StreamEvent]:
        return [StreamEvent(stream=stream, id=_text(i), data=_text(f["d"])) for i, f in rows]

    async def read(self, stream: str, after: str = "0-0", count: int = 100) -> list[StreamEvent]:
        rows: Any = await self.client.xrange(stream, min=f"({after}", max="+", count=count)
        return self._events(stream, rows or [])

    async def wait(self, stream: str, after: str, timeout: float) -> list[StreamEvent]:
        res: Any = await self.client.xread({stream: after}, count=100, block=max(1, int(timeout * 1000)))
        if not res:
            return []
        # RESP2 answers [[name, rows]]; RESP3 answers {name: [rows]}.
        rows = res[0][1] if isinstance(res, list) else next(iter(res.values()))[0]
        return self._events(stream, rows)

    async def hit(self, key: str, window_s: int, amount: int = 1) -> int:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incrby(f"hit:{key}", amount)
            pipe.expire(f"hit:{key}", window_s, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def window_left(self, key: str) -> float:
        ms = int(await self.client.pttl(f"hit:{key}"))
        return max(0.0, ms / 1000)

    async def mark_present(self, group: str, member: str, ttl_s: float) -> None:
        # A sorted set scored by expiry time (server clock), so every process agrees on who is here.
        now = await self._now()
        await self.client.zadd(f"presence:{group}", {member: now + ttl_s})

    async def mark_absent(self, group: str, member: str) -> None:
        await self.client.zrem(f"presence:{group}", member)

    async def present(self, group: str) -> set[str]:
        now = await self._now()
        key = f"presence:{group}"
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zrange(key, 0, -1)
            _removed, members = await pipe.execute()
        return {_text(m) for m in members}

    async def _now(self) -> float:
        secs, micros = await self.client.time()
        return float(secs) + float(micros) / 1e6

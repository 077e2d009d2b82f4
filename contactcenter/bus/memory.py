"""In-process bus: the embedded default for one process."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from contactcenter.bus.base import Bus, BusMessage, Event, StreamEvent, Subscription, parse_id

# A slow subscriber must not grow memory without bound: drop its oldest messages past this.
_SUB_QUEUE = 10_000


class _MemorySubscription(Subscription):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[BusMessage] = asyncio.Queue(maxsize=_SUB_QUEUE)

    def offer(self, msg: BusMessage) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(msg)

    async def get(self, timeout: float | None = None) -> BusMessage | None:
        if not self.queue.empty():  # the busy case: no timer, no task (wait_for makes one per call)
            return self.queue.get_nowait()
        try:
            async with asyncio.timeout(timeout):
                return await self.queue.get()
        except TimeoutError:
            return None


class MemoryBus(Bus):
    name = "memory"

    def __init__(self, maxlen: int = 10_000) -> None:
        self.maxlen = maxlen
        self._subs: dict[str, set[_MemorySubscription]] = defaultdict(set)
        self._streams: dict[str, deque[StreamEvent]] = {}
        self._last: dict[str, tuple[int, int]] = {}
        self._cond: dict[str, asyncio.Condition] = defaultdict(asyncio.Condition)
        self._counters: dict[str, tuple[float, int]] = {}
        self._presence: dict[str, dict[str, float]] = defaultdict(dict)

    async def ping(self) -> bool:
        return True

    async def publish(self, topic: str, data: str) -> None:
        self._deliver(topic, data)

    async def publish_many(self, messages: Iterable[tuple[str, str]]) -> None:
        for topic, data in messages:
            self._deliver(topic, data)

    async def publish_event(self, topic: str, event: Event) -> None:
        self._deliver(topic, event.model_dump_json(), event)

    def _deliver(self, topic: str, data: str, event: Event | None = None) -> None:
        subs = self._subs.get(topic)
        if subs:
            msg = BusMessage.model_construct(topic=topic, data=data, event=event)
            for sub in subs:
                sub.offer(msg)

    @asynccontextmanager
    async def _subscribe(self, topics: tuple[str, ...]) -> AsyncIterator[Subscription]:
        sub = _MemorySubscription()
        for t in topics:
            self._subs[t].add(sub)
        try:
            yield sub
        finally:
            for t in topics:
                self._subs[t].discard(sub)
                if not self._subs[t]:
                    del self._subs[t]

    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Subscription]:
        return self._subscribe(topics)

    def _next_id(self, stream: str) -> str:
        ms = int(time.time() * 1000)
        last_ms, last_seq = self._last.get(stream, (0, 0))
        nxt = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        self._last[stream] = nxt
        return f"{nxt[0]}-{nxt[1]}"

    async def append(self, stream: str, data: str) -> str:
        log = self._streams.get(stream)
        if log is None:
            log = self._streams[stream] = deque(maxlen=self.maxlen)
        ev = StreamEvent(stream=stream, id=self._next_id(stream), data=data)
        log.append(ev)
        cond = self._cond[stream]
        async with cond:
            cond.notify_all()
        return ev.id

    async def read(self, stream: str, after: str = "0-0", count: int = 100) -> list[StreamEvent]:
        log = self._streams.get(stream)
        if not log:
            return []
        pivot = parse_id(after)
        out: list[StreamEvent] = []
        # Newest events are at the right; walk back only as far as needed.
        for ev in reversed(log):
            if parse_id(ev.id) <= pivot:
                break
            out.append(ev)
        out.reverse()
        return out[:count]

    async def wait(self, stream: str, after: str, timeout: float) -> list[StreamEvent]:
        got = await self.read(stream, after)
        if got:
            return got
        cond = self._cond[stream]
        async with cond:
            try:
                async with asyncio.timeout(timeout):  # not wait_for: it can swallow a cancel on 3.11
                    await cond.wait()
            except TimeoutError:
                return []
        return await self.read(stream, after)

    async def hit(self, key: str, window_s: int, amount: int = 1) -> int:
        now = time.monotonic()
        if len(self._counters) > 100_000:
            # Forget expired counters so a flood of distinct keys cannot grow memory forever.
            self._counters = {k: v for k, v in self._counters.items() if v[0] > now}
        expires, count = self._counters.get(key, (0.0, 0))
        if expires <= now:
            expires, count = now + window_s, 0
        if amount:
            self._counters[key] = (expires, count + amount)
        return count + amount

    async def window_left(self, key: str) -> float:
        expires, _count = self._counters.get(key, (0.0, 0))
        return max(0.0, expires - time.monotonic())

    async def mark_present(self, group: str, member: str, ttl_s: float) -> None:
        self._presence[group][member] = time.monotonic() + ttl_s

    async def mark_absent(self, group: str, member: str) -> None:
        self._presence[group].pop(member, None)

    async def present(self, group: str) -> set[str]:
        now = time.monotonic()
        members = self._presence[group]
        for gone in [m for m, until in members.items() if until <= now]:
            del members[gone]
        return set(members)

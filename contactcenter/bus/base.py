"""The Bus interface.

Two kinds of delivery, on purpose:
- publish/subscribe: fan-out, at-most-once, for throwaway events (typing, cursors, presence pings);
- streams: a durable ordered log per key with ids, so a reader can replay from its last id after a reconnect.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from contactcenter.settings import Settings


class Event(BaseModel):
    """Base for every typed event a capability publishes (see each capability's events.py)."""

    model_config = ConfigDict(frozen=True)
    type: str


class BusMessage(BaseModel):
    topic: str
    data: str
    # The in-process bus also hands over the published event itself, so a subscriber in the same process
    # need not parse `data` again (a tenth of the chat server's CPU did). Shared by every subscriber: read
    # it, never change it. None for what came over the network or was published as text.
    event: Event | None = None


class StreamEvent(BaseModel):
    stream: str
    id: str
    data: str


def parse_id(event_id: str) -> tuple[int, int]:
    """Stream ids look like Redis's: '<ms>-<seq>'; compare them as tuples."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


class Subscription(abc.ABC):
    @abc.abstractmethod
    async def get(self, timeout: float | None = None) -> BusMessage | None:
        """Next message, or None when the timeout passes first."""

    def __aiter__(self) -> AsyncIterator[BusMessage]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[BusMessage]:
        while True:
            msg = await self.get(timeout=None)
            if msg is not None:
                yield msg


class Bus(abc.ABC):
    name: str

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect; default does nothing."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; default does nothing."""

    @abc.abstractmethod
    async def ping(self) -> bool: ...

    async def epoch(self) -> str:
        """Changes whenever fan-out may have lost messages (a Redis restart); raises while unreachable."""
        return "memory"

    @abc.abstractmethod
    async def publish(self, topic: str, data: str) -> None: ...

    async def publish_many(self, messages: Iterable[tuple[str, str]]) -> None:
        """Publish (topic, data) pairs in order, as if one by one (backends send them in one go)."""
        for topic, data in messages:
            await self.publish(topic, data)

    @abc.abstractmethod
    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Subscription]: ...

    @abc.abstractmethod
    async def append(self, stream: str, data: str) -> str:
        """Append to a durable stream; returns the new event id."""

    @abc.abstractmethod
    async def read(self, stream: str, after: str = "0-0", count: int = 100) -> list[StreamEvent]:
        """Events with id greater than `after`, oldest first, at most `count`."""

    @abc.abstractmethod
    async def wait(self, stream: str, after: str, timeout: float) -> list[StreamEvent]:
        """Like read, but blocks up to `timeout` seconds for the first new event."""

    @abc.abstractmethod
    async def hit(self, key: str, window_s: int, amount: int = 1) -> int:
        """Add `amount` (0 to just read) to a counter shared by every process; it resets `window_s` after
        its first hit. Returns the new count."""

    @abc.abstractmethod
    async def window_left(self, key: str) -> float:
        """Seconds until the counter `key` resets (0 when it is not counting): a refusal's retry_after."""

    @abc.abstractmethod
    async def mark_present(self, group: str, member: str, ttl_s: float) -> None:
        """Say `member` of `group` is alive for the next `ttl_s` seconds (heartbeats renew it)."""

    @abc.abstractmethod
    async def mark_absent(self, group: str, member: str) -> None: ...

    @abc.abstractmethod
    async def present(self, group: str) -> set[str]:
        """Members of `group` whose presence has not expired, across every process."""

    async def follow(self, stream: str, after: str = "0-0", poll: float = 5.0) -> AsyncIterator[StreamEvent]:
        """Replay everything after `after`, then keep yielding new events as they come."""
        last = after
        while True:
            batch = await self.wait(stream, last, poll)
            for ev in batch:
                last = ev.id
                yield ev

    async def publish_event(self, topic: str, event: Event) -> None:
        await self.publish(topic, event.model_dump_json())

    async def publish_events(self, topic: str, events: Sequence[Event]) -> None:
        """Typed events on one topic, in order, as if one by one (Redis sends them in one pipeline: a
        round trip per message was a tenth of a busy chat server's CPU)."""
        for event in events:
            await self.publish_event(topic, event)

    async def append_event(self, stream: str, event: Event) -> str:
        return await self.append(stream, event.model_dump_json())


def make_bus(settings: Settings) -> Bus:
    if settings.redis_url:
        from contactcenter.bus.redis import RedisBus

        return RedisBus(settings.redis_url, maxlen=settings.stream_maxlen)
    from contactcenter.bus.memory import MemoryBus

    return MemoryBus(maxlen=settings.stream_maxlen)

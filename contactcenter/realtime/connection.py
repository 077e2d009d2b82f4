"""One websocket connection: who it is, what it has been delivered, and a bounded outgoing queue."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket

from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut, Positions
from contactcenter.db import Database
from contactcenter.realtime.channels import CATCH_UP_PAGE, Registry
from contactcenter.realtime.events import Item
from contactcenter.realtime.schemas import CLOSE_TOO_SLOW, ConversationFrame, ErrorFrame

# A socket that cannot take this many queued frames is too slow: close it, it will resume on reconnect.
OUT_QUEUE = 2000
# Conversations whose state a socket remembers (a supervisor's socket hears of every one).
KNOWN_MAX = 1000


@dataclass(frozen=True)
class Who:
    side: Literal["customer", "agent"]
    id: int  # customer id or staff user id
    name: str
    role: str  # "customer" or the staff role


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.tokens -= 1  # debt grows while a flood goes on
        return False

    @property
    def flooding(self) -> bool:
        return self.tokens < -self.burst


class WindowCounts:
    """Counters that reset `window_s` after their first hit, for this process only: a limit that needs no
    round trip to Redis (a per-message one cost the chat server a fifteenth of its CPU)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.counts: dict[str, tuple[float, int]] = {}
        self.max_keys = max_keys

    def hit(self, key: str, window_s: float) -> int:
        now = time.monotonic()
        start, n = self.counts.get(key, (now, 0))
        if now - start >= window_s:
            start, n = now, 0
        if len(self.counts) >= self.max_keys and key not in self.counts:
            # Forget windows that have ended; what is still counting stays.
            self.counts = {k: (t, c) for k, (t, c) in self.counts.items() if now - t < window_s}
        self.counts[key] = (start, n + 1)
        return n + 1


async def with_positions(
    session: AsyncSession, registry: Registry, convs: list[ConversationOut]
) -> list[ConversationOut]:
    """The conversations with their channels' log positions filled in (one read per channel)."""
    by_channel: dict[str, list[str]] = {}
    for c in convs:
        by_channel.setdefault(c.channel, []).append(c.id)
    found: dict[str, Positions] = {}
    for name, ids in by_channel.items():
        hooks = registry.channel(name)
        if hooks is not None and hooks.positions is not None:
            found.update(await hooks.positions(session, ids))
    return [c.model_copy(update=found[c.id].model_dump()) if c.id in found else c for c in convs]


@dataclass
class Watch:
    """A supervisor's socket following someone else's conversation: whose it is, and listen/whisper/barge."""

    agent_id: int | None
    mode: str = "listen"

    def may_send(self, *, private: bool) -> bool:
        """Whisper writes private notes to the agent; only a supervisor who joined (barge) writes to the customer."""
        return self.mode == "barge" or (private and self.mode == "whisper")


class Connection:
    def __init__(self, ws: WebSocket, who: Who, db: Database, registry: Registry, heartbeat_s: float = 5.0) -> None:
        self.ws, self.who, self.db, self.registry = ws, who, db, registry
        self.heartbeat_s = heartbeat_s
        # When a frame last arrived: the hub's sweep closes sockets silent for 3 heartbeats (one timer for
        # all sockets instead of one per received frame).
        self.rx_at = time.monotonic()
        # The task serving the socket, and whether the sweep gave up on it: a peer that reads nothing (a full
        # send buffer) never lets the close through, so the sweep cancels the task instead.
        self.task: asyncio.Task[None] | None = None
        self.dropped = False
        # conversation id -> highest seq this socket acknowledged (its own read receipts are not echoed)
        self.acked: dict[str, int] = {}
        # conversation id -> highest seq delivered on this socket (of its channel's log)
        self.delivered: dict[str, int] = {}
        self.channel_of: dict[str, str] = {}  # conversation id -> its channel, for catch-up
        # conversation id -> highest seq announced before this socket followed it (see track)
        self.early: dict[str, int] = {}
        # Outgoing frames; None marks the end (close with close_code). A sender task exists only while
        # there is something to send: most sockets are idle, and an idle task per socket costs memory.
        self.out: deque[str | None] = deque()
        self.sender: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.close_code: int | None = None
        # conversation id -> its state as last sent on this socket (ConversationFrame): a typing frame is
        # checked and addressed with it instead of a database read. Dropped when the conversation closes.
        self.known: dict[str, ConversationOut] = {}
        # Conversations a supervisor's socket follows -> their agent (told when it stops) and how
        self.monitoring: dict[str, Watch] = {}
        self.frames = TokenBucket(rate=20, burst=40)
        self.sends = TokenBucket(rate=5, burst=15)
        self.presence_at = 0.0

    @property
    def is_agent(self) -> bool:
        return self.who.side == "agent"

    def _enqueue(self, item: str | None) -> None:
        self.out.append(item)
        if self.sender is None:
            self.sender = asyncio.create_task(self._send_queued())

    def _end(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            self._enqueue(None)

    def push(self, frame: BaseModel | str) -> None:
        """Queue a frame (a model, or its JSON when the same frame goes to several sockets)."""
        if self.close_code is not None:
            return
        if len(self.out) >= OUT_QUEUE:
            self._end(CLOSE_TOO_SLOW)
            return
        if isinstance(frame, ConversationFrame):
            self._remember(frame.conversation)
        self._enqueue(frame if isinstance(frame, str) else frame.model_dump_json())

    def fail(self, code: str, detail: str, close: int | None = None, ref: str | None = None) -> None:
        """Send an error frame; with `close`, close the socket right after it."""
        self.push(ErrorFrame(code=code, detail=detail, ref=ref))
        if close is not None:
            self._end(close)

    async def _send_queued(self) -> None:
        try:
            while self.out:
                item = self.out.popleft()
                if item is None:
                    with contextlib.suppress(Exception):
                        await self.ws.close(self.close_code or 1000)
                    return
                await self.ws.send_text(item)
        except Exception:
            # The peer is gone: stop sending; the receive side sees the disconnect and ends the socket.
            self.out.clear()
            self.close_code = self.close_code or 1006
        finally:
            self.sender = None

    async def finish(self, timeout: float = 2.0) -> None:
        """End the socket: send what is queued (up to `timeout`), then close with close_code or 1000."""
        self._end(1000)
        if self.sender is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self.sender), timeout)

    def _remember(self, conv: ConversationOut) -> None:
        if conv.status == "closed":
            self.known.pop(conv.id, None)
        elif conv.id in self.known or len(self.known) < KNOWN_MAX:
            self.known[conv.id] = conv

    def owns(self, conv: ConversationOut) -> bool:
        if self.who.side == "customer":
            return conv.customer_id == self.who.id
        return conv.agent_id == self.who.id or self.who.role in ("supervisor", "admin")

    async def track(self, conv: ConversationOut, after: int) -> None:
        """Start following a conversation (positions filled in): send its state, then every item after `after`."""
        async with self.lock:
            self.delivered.setdefault(conv.id, min(after, conv.last_seq))
            self.channel_of[conv.id] = conv.channel
            # An item announced between the read of `conv` and now was dropped by deliver() (not followed
            # yet): only then, or when the client is behind, is there anything to read. A resume that is up
            # to date costs no catch-up read (a thousand sockets resuming at once after a process died).
            early = self.early.pop(conv.id, 0)
            behind = self.delivered[conv.id] < max(conv.last_seq, early)
        self.push(ConversationFrame(conversation=conv))
        if behind:
            await self.catch_up(conv.id)

    def follow(self, conv: ConversationOut) -> None:
        """Start following a conversation from an event, at once (catch up on its log afterwards)."""
        self.delivered.setdefault(conv.id, 0)
        self.channel_of[conv.id] = conv.channel
        self.push(ConversationFrame(conversation=conv))

    async def deliver(self, item: Item) -> None:
        """Deliver in order, exactly once: skip what was sent, fill any gap from the channel's log."""
        if item.private and not self.is_agent:
            return
        conversation_id = item.to.conversation_id
        async with self.lock:
            last = self.delivered.get(conversation_id)
            if last is None:
                if len(self.early) < KNOWN_MAX:  # maybe followed in a moment (track): remember how far it went
                    self.early[conversation_id] = max(item.seq, self.early.get(conversation_id, 0))
                return
            if item.seq <= last:
                return
            if item.seq == last + 1:
                self.delivered[conversation_id] = item.seq
                self.push(item.frame)
                return
        await self.catch_up(conversation_id)

    async def catch_up(self, conversation_id: str) -> None:
        async with self.lock:
            last = self.delivered.get(conversation_id)
            hooks = self.registry.channel(self.channel_of.get(conversation_id, ""))
            if last is None or hooks is None or hooks.catch_up is None:
                return
            while True:
                async with self.db.reader() as s:
                    batch = await hooks.catch_up(s, conversation_id, last, self.is_agent)
                for seq, frame in batch:
                    self.push(frame)
                    last = seq
                if len(batch) < CATCH_UP_PAGE:
                    break
            self.delivered[conversation_id] = last

    async def refresh(self) -> None:
        """Re-read this side's open conversations and catch up on each (after a bus outage)."""
        async with self.db.reader() as s:
            convs = (
                await conversations.open_for_customer(s, customer_id=self.who.id)
                if self.who.side == "customer"
                else await conversations.open_for_agent(s, agent_id=self.who.id)
            )
            convs = await with_positions(s, self.registry, convs)
        for conv in convs:
            await self.track(conv, self.delivered.get(conv.id, 0))
        for cid in list(self.delivered):
            await self.catch_up(cid)

"""One websocket connection: who it is, what it has been delivered, and a bounded outgoing queue."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel
from starlette.websockets import WebSocket

from contactcenter.channels.chat import messages
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.models import Conversation
from contactcenter.channels.chat.schemas import ConversationOut, MessageOut
from contactcenter.db import Database
from contactcenter.realtime.schemas import CLOSE_TOO_SLOW, ConversationFrame, ErrorFrame, MessageFrame

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


class Connection:
    def __init__(self, ws: WebSocket, who: Who, db: Database, heartbeat_s: float = 5.0) -> None:
        self.ws, self.who, self.db = ws, who, db
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
        # conversation id -> highest seq delivered on this socket
        self.delivered: dict[str, int] = {}
        # Outgoing frames; None marks the end (close with close_code). A sender task exists only while
        # there is something to send: most sockets are idle, and an idle task per socket costs memory.
        self.out: deque[str | None] = deque()
        self.sender: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.close_code: int | None = None
        # conversation id -> its state as last sent on this socket (ConversationFrame): a typing frame is
        # checked and addressed with it instead of a database read. Dropped when the conversation closes.
        self.known: dict[str, ConversationOut] = {}
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

    def owns(self, conv: Conversation | ConversationOut) -> bool:
        if self.who.side == "customer":
            return conv.customer_id == self.who.id
        return conv.agent_id == self.who.id or self.who.role in ("supervisor", "admin")

    async def track(self, conv: Conversation, after: int) -> None:
        """Start following a conversation: send its state, then every message after `after`."""
        async with self.lock:
            known = conv.id in self.delivered
            self.delivered.setdefault(conv.id, min(after, conv.last_seq))
        self.push(ConversationFrame(conversation=chat.conversation_out(conv)))
        if not known or after < conv.last_seq:
            await self.catch_up(conv.id)

    async def deliver(self, msg: MessageOut, frame: str | None = None) -> None:
        """Deliver in order, exactly once: skip what was sent, fill any gap from the database. `frame`: the
        message's frame already serialised (one event fans out to several sockets)."""
        if msg.private and not self.is_agent:
            return
        async with self.lock:
            last = self.delivered.get(msg.conversation_id)
            if last is None or msg.seq <= last:
                return
            if msg.seq == last + 1:
                self.delivered[msg.conversation_id] = msg.seq
                self.push(frame or MessageFrame(message=msg))
                return
        await self.catch_up(msg.conversation_id)

    async def catch_up(self, conversation_id: str) -> None:
        async with self.lock:
            last = self.delivered.get(conversation_id)
            if last is None:
                return
            while True:
                async with self.db.session() as s:
                    batch = await messages.messages_after(
                        s, conversation_id=conversation_id, after=last, include_private=self.is_agent
                    )
                for m in batch:
                    self.push(MessageFrame(message=m))
                    last = m.seq
                if len(batch) < 500:
                    break
            self.delivered[conversation_id] = last

    async def refresh(self) -> None:
        """Re-read this side's open conversations and catch up on each (after a bus outage)."""
        async with self.db.session() as s:
            convs = (
                await chat.open_for_customer(s, customer_id=self.who.id)
                if self.who.side == "customer"
                else await chat.open_for_agent(s, agent_id=self.who.id)
            )
        for conv in convs:
            await self.track(conv, self.delivered.get(conv.id, 0))
        for cid in list(self.delivered):
            await self.catch_up(cid)

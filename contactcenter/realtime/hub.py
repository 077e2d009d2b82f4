"""Per-process hub: one bus subscription, fanned out to this process's sockets by customer and agent.

Fan-out over the bus is at-most-once, so it is only a wake-up: each socket fills gaps from the database,
and after a bus outage or a Redis restart (its epoch changes) every socket catches up from the database.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any

import structlog
from pydantic import TypeAdapter

from contactcenter.bus import Bus, Event
from contactcenter.channels.chat.events import TOPIC_REALTIME, ConversationChanged, MessagePosted, ReadUpTo, Typing
from contactcenter.channels.chat.service import get_conversation
from contactcenter.channels.chat.writer import ChatWriter
from contactcenter.db import Database
from contactcenter.realtime import routing_frames
from contactcenter.realtime.connection import Connection
from contactcenter.realtime.schemas import (
    CLOSE_HEARTBEAT,
    ConversationFrame,
    MessageFrame,
    ReadFrame,
    SuggestionsFrame,
    TypingFrame,
)
from contactcenter.routing.events import TOPIC_ROUTING
from contactcenter.suggestions.events import SuggestionsChanged

log = structlog.get_logger("realtime.hub")
SWEEP_S = 0.5
_Events = MessagePosted | ConversationChanged | Typing | ReadUpTo | SuggestionsChanged
_event: TypeAdapter[_Events] = TypeAdapter(_Events)


class Hub:
    def __init__(self, bus: Bus, db: Database) -> None:
        self.bus, self.db = bus, db
        self.writer = ChatWriter(db, bus)  # every socket of this process writes messages through it
        self.customers: dict[int, set[Connection]] = defaultdict(set)
        self.agents: dict[int, set[Connection]] = defaultdict(set)
        self.watchers: set[Connection] = set()  # supervisors and admins see every conversation event
        self.tasks: list[asyncio.Task[None]] = []
        self.subscribed = asyncio.Event()
        self._spawned: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self.writer.start()
        self.listener = asyncio.create_task(self._listen())
        self.tasks = [asyncio.create_task(self._watch_epoch()), asyncio.create_task(self._sweep())]

    def _restart_listener(self) -> None:
        # After a Redis restart the old subscription may look alive but hear nothing: subscribe afresh.
        self.listener.cancel()
        self.listener = asyncio.create_task(self._listen(lost=True))

    async def stop(self) -> None:
        tasks = [self.listener, *self.tasks, *self._spawned]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        await self.writer.stop()

    def register(self, conn: Connection) -> None:
        (self.customers if conn.who.side == "customer" else self.agents)[conn.who.id].add(conn)
        if conn.who.role in ("supervisor", "admin"):
            self.watchers.add(conn)

    def unregister(self, conn: Connection) -> None:
        group = self.customers if conn.who.side == "customer" else self.agents
        group[conn.who.id].discard(conn)
        if not group[conn.who.id]:
            del group[conn.who.id]
        self.watchers.discard(conn)

    def local_connections(self, agent_id: int) -> int:
        return len(self.agents.get(agent_id, ()))

    @property
    def connections(self) -> list[Connection]:
        return [c for group in (self.customers, self.agents) for conns in group.values() for c in conns]

    async def _listen(self, lost: bool = False) -> None:
        delay = 0.1
        while True:
            try:
                async with self.bus.subscribe(TOPIC_REALTIME, TOPIC_ROUTING) as sub:
                    self.subscribed.set()
                    if lost:
                        # Whatever was published while we were away is in the database: catch up from it.
                        self._background(self.resync_all())
                    delay, lost = 0.1, False
                    while True:
                        msg = await sub.get(timeout=1.0)
                        if msg is not None and msg.topic == TOPIC_ROUTING:
                            routing_frames.relay(self, msg.data)
                        elif msg is not None:
                            await self.dispatch(msg.data, msg.event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.subscribed.clear()
                lost = True
                log.warning("bus_subscription_lost", error=repr(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    async def _sweep(self) -> None:
        """Close sockets that sent nothing for three heartbeats (half-open: the client is gone)."""
        while True:
            await asyncio.sleep(SWEEP_S)
            now = time.monotonic()
            for conn in self.connections:
                silent = now - conn.rx_at
                if silent <= 3 * conn.heartbeat_s:
                    continue
                if conn.close_code is None:
                    conn.fail("heartbeat_timeout", f"nothing received for {silent:.0f}s", close=CLOSE_HEARTBEAT)
                elif silent > 5 * conn.heartbeat_s and not conn.dropped and conn.task is not None:
                    conn.dropped = True  # the close did not end it: stop serving the socket
                    conn.task.cancel()

    async def _watch_epoch(self) -> None:
        last: str | None = None
        broken = False
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the cancel from stop().
                async with asyncio.timeout(2.0):
                    epoch = await self.bus.epoch()
                if broken or (last is not None and epoch != last):
                    log.info("bus_recovered", epoch=epoch)
                    if last is not None and epoch != last:
                        self._restart_listener()
                    await self.resync_all()
                    # Once more after the subscription is surely back, for messages sent in between.
                    await asyncio.sleep(1.0)
                    await self.resync_all()
                last, broken = epoch, False
            except asyncio.CancelledError:
                raise
            except Exception:
                broken = True
            await asyncio.sleep(0.5)

    async def resync_all(self) -> None:
        for conn in self.connections:
            try:
                await conn.refresh()
            except Exception as exc:  # one broken socket must not stop the others catching up
                log.warning("resync_failed", error=repr(exc))

    async def dispatch(self, data: str, given: Event | None = None) -> None:
        """Fan one bus event out; `given`: the event itself when it was published in this process."""
        if isinstance(given, _Events):
            event: _Events = given
        else:
            try:
                event = _event.validate_json(data)
            except ValueError:
                log.warning("bad_event_on_bus", size=len(data))
                return
        if isinstance(event, MessagePosted):
            targets = self._targets(event.customer_id, event.agent_id, customers=not event.message.private)
            text = MessageFrame(message=event.message).model_dump_json() if targets else None
            for conn in targets:
                await conn.deliver(event.message, text)
        elif isinstance(event, ConversationChanged):
            conv = event.conversation
            for conn in self._targets(conv.customer_id, conv.agent_id):
                await self._conversation_changed(conn, event)
            if event.previous_agent_id and event.previous_agent_id != conv.agent_id:
                for conn in self.agents.get(event.previous_agent_id, set()) - self.watchers:
                    conn.push(ConversationFrame(conversation=conv))
                    conn.delivered.pop(conv.id, None)
        elif isinstance(event, Typing):
            frame = TypingFrame(
                conversation_id=event.conversation_id, sender=event.sender, name=event.name, state=event.state
            )
            others = (
                self.agents.get(event.agent_id or -1, set())
                if event.sender == "customer"
                else self.customers.get(event.customer_id, set())
            )
            for conn in others:
                # Addressed when it was sent; a socket told of a transfer since then knows better.
                known = conn.known.get(event.conversation_id)
                if known is None or conn.owns(known):
                    conn.push(frame)
        elif isinstance(event, SuggestionsChanged):
            hint = SuggestionsFrame(conversation_id=event.conversation_id)
            for conn in self._targets(event.customer_id, event.agent_id, customers=False):
                if conn.who.id == event.agent_id or event.conversation_id in conn.delivered:
                    conn.push(hint)
        else:
            read = ReadFrame(conversation_id=event.conversation_id, reader=event.reader, seq=event.seq)
            text = read.model_dump_json()
            for conn in self._targets(event.customer_id, event.agent_id):
                # The socket that acknowledged this far knows already: tell the others (the peer, other tabs).
                if conn.who.side != event.reader or conn.acked.get(event.conversation_id, 0) < event.seq:
                    conn.push(text)

    def _targets(self, customer_id: int, agent_id: int | None, customers: bool = True) -> set[Connection]:
        found: set[Connection] = set(self.watchers)
        if customers:
            found |= self.customers.get(customer_id, set())
        if agent_id is not None:
            found |= self.agents.get(agent_id, set())
        return found

    async def _conversation_changed(self, conn: Connection, event: ConversationChanged) -> None:
        conv = event.conversation
        if conn in self.watchers and conv.agent_id != conn.who.id and conv.id not in conn.delivered:
            conn.push(ConversationFrame(conversation=conv))  # supervisors watch state, not every message
            return
        if conv.id in conn.delivered:
            conn.push(ConversationFrame(conversation=conv))
            await conn.catch_up(conv.id)
            return
        async with self.db.session() as s:
            row = await get_conversation(s, conversation_id=conv.id)
        if conn.owns(row):
            await conn.track(row, 0)

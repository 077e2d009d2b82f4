"""Per-process hub: one bus subscription, fanned out to this process's sockets by customer and agent.

Fan-out over the bus is at-most-once, so it is only a wake-up: each socket fills gaps from the database,
and after a bus outage or a Redis restart (its epoch changes) every socket catches up from the database.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import structlog
from pydantic import Field, TypeAdapter

from contactcenter.bus import Bus, BusMessage, Event
from contactcenter.bus.listen import listen
from contactcenter.conversations import service as conversations
from contactcenter.conversations.events import TOPIC_CONVERSATIONS, ConversationChanged
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import Database
from contactcenter.realtime import routing_frames
from contactcenter.realtime.channels import ChannelHooks, Registry
from contactcenter.realtime.connection import Connection, WindowCounts, with_positions
from contactcenter.realtime.events import TOPIC_REALTIME, Audience, Item, Push, ReadMoved
from contactcenter.realtime.schemas import CLOSE_HEARTBEAT, CORE_FRAMES, ConversationFrame
from contactcenter.routing.events import TOPIC_ROUTING

log = structlog.get_logger("realtime.hub")
SWEEP_S = 0.5
_Events = Item | Push | ReadMoved | ConversationChanged
# Discriminated by `type`: pydantic then validates one member instead of trying each (a third of the cost).
_event: TypeAdapter[_Events] = TypeAdapter(Annotated[_Events, Field(discriminator="type")])
# An epoch check this many times slower than its timeout in a row counts as an outage: one slow answer from a
# busy process is not one (a false outage made every socket of a saturated process read the database again).
SLOW_EPOCHS = 3
EPOCH_TIMEOUT_S = 2.0
EPOCH_EVERY_S = 0.5


class Hub:
    def __init__(self, bus: Bus, db: Database) -> None:
        self.bus, self.db = bus, db
        self.registry = Registry(CORE_FRAMES)
        self.customers: dict[int, set[Connection]] = defaultdict(set)
        self.agents: dict[int, set[Connection]] = defaultdict(set)
        self.watchers: set[Connection] = set()  # supervisors and admins see every conversation event
        self.tasks: list[asyncio.Task[None]] = []
        self.subscribed = asyncio.Event()
        self._spawned: set[asyncio.Task[None]] = set()
        self.counts = WindowCounts()  # per-process limits (FrameContext.local_hits)
        # Other topics this one subscription carries, with their handler (auth's session ends: revocation.py).
        self.handlers: dict[str, Callable[[BusMessage], None]] = {}

    def add_channel(self, hooks: ChannelHooks) -> None:
        """A channel's frames and catch-up hook (its capability's start step calls this)."""
        self.registry.add(hooks)

    def start(self) -> None:
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
        topics = (TOPIC_REALTIME, TOPIC_CONVERSATIONS, TOPIC_ROUTING, *self.handlers)

        async def resubscribed(was_lost: bool) -> None:
            if was_lost or lost:  # whatever was published while we were away is in the database: catch up
                self._background(self.resync_all())

        async def on_message(msg: BusMessage) -> None:
            if msg.topic == TOPIC_ROUTING:
                routing_frames.relay(self, msg.data)
            elif msg.topic in self.handlers:
                self.handlers[msg.topic](msg)
            else:
                await self.dispatch(msg.data, msg.event)

        await listen(
            self.bus, topics, on_message, what="realtime hub", subscribed=self.subscribed, on_subscribed=resubscribed
        )

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
        slow = 0
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the cancel from stop().
                async with asyncio.timeout(EPOCH_TIMEOUT_S):
                    epoch = await self.bus.epoch()
                if broken or (last is not None and epoch != last):
                    log.info("bus_recovered", epoch=epoch)
                    if last is not None and epoch != last:
                        self._restart_listener()
                    await self.resync_all()
                    # Once more after the subscription is surely back, for messages sent in between.
                    await asyncio.sleep(1.0)
                    await self.resync_all()
                last, broken, slow = epoch, False, 0
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                slow += 1
                broken = broken or slow >= SLOW_EPOCHS
            except Exception:
                broken = True
            await asyncio.sleep(EPOCH_EVERY_S)

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
        if isinstance(event, Item):
            for conn in self._targets(event.to, customers=not event.private):
                await conn.deliver(event)
        elif isinstance(event, ConversationChanged):
            await self._conversation_event(event)
        elif isinstance(event, Push):
            for conn in self._targets(event.to):
                # Addressed when it was sent; a socket told of a transfer since then knows better.
                known = conn.known.get(event.to.conversation_id) if event.owner_check else None
                if known is None or conn.owns(known):
                    conn.push(event.frame)
        else:
            cid = event.to.conversation_id
            field = "customer_read_seq" if event.reader == "customer" else "agent_read_seq"
            for conn in self._targets(event.to):
                known = conn.known.get(cid)
                if known is not None and getattr(known, field) < event.seq:  # for its next conversation frame
                    conn.known[cid] = known.model_copy(update={field: event.seq})
                # The socket that acknowledged this far knows already: tell the others (the peer, other tabs).
                if conn.who.side != event.reader or conn.acked.get(cid, 0) < event.seq:
                    conn.push(event.frame)

    def _targets(self, to: Audience, customers: bool = True) -> set[Connection]:
        found: set[Connection] = set()
        if to.supervisors == "all":
            found |= self.watchers
        elif to.supervisors == "following":
            found |= {w for w in self.watchers if to.conversation_id in w.delivered}
        if customers and to.customer_id is not None:
            found |= self.customers.get(to.customer_id, set())
        if to.agent_id is not None:
            found |= self.agents.get(to.agent_id, set())
        return found

    async def _conversation_event(self, event: ConversationChanged) -> None:
        conv = event.conversation
        for conn in self._targets(
            Audience(conversation_id=conv.id, customer_id=conv.customer_id, agent_id=conv.agent_id)
        ):
            await self._conversation_changed(conn, conv)
        if event.previous_agent_id and event.previous_agent_id != conv.agent_id:
            for conn in self.agents.get(event.previous_agent_id, set()) - self.watchers:
                conn.push(ConversationFrame(conversation=_as_known(conn, conv)))
                conn.delivered.pop(conv.id, None)

    async def _conversation_changed(self, conn: Connection, conv: ConversationOut) -> None:
        # The event carries the core's fields; a socket that follows the conversation already knows its log
        # positions. No database read here: the listener serves every socket of the process in turn, and a
        # read per event (an assignment burst) put agents' frames seconds behind. Catching up on the
        # conversation's log runs beside it.
        if conn in self.watchers and conv.agent_id != conn.who.id and conv.id not in conn.delivered:
            conn.push(ConversationFrame(conversation=_as_known(conn, conv)))  # supervisors watch state only
            return
        if conv.id in conn.delivered:
            conn.push(ConversationFrame(conversation=_as_known(conn, conv)))
            self._background(conn.catch_up(conv.id))
        elif conn.owns(conv):
            conn.follow(conv)
            self._background(self._confirm(conn, conv.id))

    async def _confirm(self, conn: Connection, conversation_id: str) -> None:
        """A socket just started following a conversation from an event: check it against the database (an
        event can arrive late: assigned, then requeued at once, from another process) and catch up."""
        async with self.db.session() as s:
            fresh = await conversations.find(s, conversation_id=conversation_id)
            if fresh is not None:
                (fresh,) = await with_positions(s, self.registry, [fresh])
        if fresh is not None and conn.owns(fresh):
            await conn.catch_up(conversation_id)
        elif fresh is not None:
            conn.push(ConversationFrame(conversation=fresh))  # it is someone else's now: the client drops it
            conn.delivered.pop(conversation_id, None)


def _as_known(conn: Connection, conv: ConversationOut) -> ConversationOut:
    """The conversation with the log positions this socket was last told (and has been delivered)."""
    known = conn.known.get(conv.id)
    last = max(known.last_seq if known else 0, conn.delivered.get(conv.id, 0))
    if known is None:
        return conv.model_copy(update={"last_seq": last}) if last else conv
    return conv.model_copy(
        update={"last_seq": last, "customer_read_seq": known.customer_read_seq, "agent_read_seq": known.agent_read_seq}
    )

"""Webhooks as a capability: the listener that turns contact events into outbox rows, and the worker."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

import structlog
from fastapi import APIRouter

from contactcenter.bus import Bus, BusMessage, Event
from contactcenter.bus.listen import listen
from contactcenter.capabilities import AppContext
from contactcenter.db import Database, utcnow
from contactcenter.types import Clock
from contactcenter.webhooks import events, policy, service
from contactcenter.webhooks.routes import router
from contactcenter.webhooks.worker import Deliverer

log = structlog.get_logger("webhooks")
TARGETS_TTL_S = 30.0  # a missed SubscribersChanged (bus hiccup) is repaired within this


class WebhooksCapability:
    name = "webhooks"

    def __init__(self, *, clock: Clock = utcnow) -> None:
        self.clock = clock
        self.tasks: list[asyncio.Task[None]] = []
        self.wake = asyncio.Event()
        self.subscribed = asyncio.Event()
        self.deliverer: Deliverer | None = None
        self._targets: list[service.Target] | None = None
        self._targets_at = 0.0
        self.db: Database | None = None
        self.poll_s = 2.0
        # What this process did (tests read them to show both processes raced): events it enqueued for at
        # least one subscriber, rows it added (another process may have added them first), attempts it made.
        self.heard = self.added = self.attempted = 0

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    async def start(self, ctx: AppContext) -> None:
        s = ctx.settings
        if not s.webhooks_enabled:
            return
        self.db, self.poll_s = ctx.db, s.webhook_poll_s
        backoff = policy.Backoff(
            base_s=s.webhook_backoff_s, max_s=s.webhook_backoff_max_s, max_attempts=s.webhook_max_attempts
        )
        self.deliverer = Deliverer(
            ctx.db,
            timeout_s=s.webhook_timeout_s,
            backoff=backoff,
            allowed=policy.parse_hosts(s.webhook_allowed_hosts),
            clock=self.clock,
        )
        self.tasks = [asyncio.create_task(self._listen(ctx.bus)), asyncio.create_task(self._work())]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self.tasks = []
        if self.deliverer is not None:
            await self.deliverer.close()

    async def _listen(self, bus: Bus) -> None:
        async def resubscribed(lost: bool) -> None:
            self._targets = None  # subscriptions may have changed while away

        async def on_message(msg: BusMessage) -> None:
            await self.handle(msg.data, msg.event, topic=msg.topic)

        await listen(
            bus,
            events.HEARD_TOPICS,
            on_message,
            what="webhooks",
            subscribed=self.subscribed,
            on_subscribed=resubscribed,
        )

    async def _targets_now(self) -> list[service.Target]:
        assert self.db is not None
        if self._targets is None or time.monotonic() - self._targets_at > TARGETS_TTL_S:
            async with self.db.session() as s:
                self._targets = await service.targets(s)
            self._targets_at = time.monotonic()
        return self._targets

    async def handle(self, data: str, given: Event | None = None, *, topic: str | None = None) -> None:
        """One heard bus message: enqueue it for every subscriber that wants its type."""
        fresh = time.monotonic() - self._targets_at <= TARGETS_TTL_S
        if topic != events.TOPIC_WEBHOOKS and self._targets == [] and fresh:
            return  # nobody subscribed: a chat message's touch costs no parse here
        ev = events.parse(data, given)
        if ev is None or self.db is None:
            return
        try:
            if isinstance(ev, events.SubscribersChanged):
                self._targets = None
                return
            if isinstance(ev, events.DeliveriesDue):
                self.wake.set()
                return
            out = events.outbound(ev)
            if out is None:
                return
            ids = [t.id for t in await self._targets_now() if str(out.type) in t.types]
            if not ids:
                return
            self.heard += 1
            async with self.db.write_gate(), self.db.session() as s:
                added = await service.enqueue(s, event=out, subscriber_ids=ids, now=self.clock())
            self.added += added
            if added:
                self.wake.set()
        except Exception as exc:  # one bad event must not stop the listener
            log.warning("webhooks_event_failed", what=ev.type, error=repr(exc))

    async def _work(self) -> None:
        assert self.deliverer is not None
        while True:
            self.wake.clear()
            try:
                n = await self.deliverer.run_once()
                self.attempted += n
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be briefly away: try again at the next poll
                log.warning("webhooks_worker_failed", error=repr(exc))
                n = 0
            if n == 0:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that lands just as the
                # event is set, and stop() then waits for ever (tests/test_cancel.py)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_s):
                        await self.wake.wait()


def capability() -> WebhooksCapability:
    return WebhooksCapability()

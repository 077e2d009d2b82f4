"""Per-process listener: a customer's figures are recomputed when integration records one of their orders.

Integration publishes `OrderRecorded` after its commit and knows nothing of analytics (no import cycle:
analytics imports integration's events). Every process hears each order; the first to count it on the bus
recomputes. Orders heard while a recompute runs are batched into the next one.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from pydantic import ValidationError

from contactcenter.analytics import jobs, service
from contactcenter.analytics.events import TOPIC_ANALYTICS, FiguresChanged
from contactcenter.analytics.figures import Config
from contactcenter.analytics.rulefacts import tier_priority
from contactcenter.bus import Bus, BusMessage, Event
from contactcenter.bus.listen import listen
from contactcenter.conversations import priority
from contactcenter.db import Database
from contactcenter.integration.events import TOPIC_ORDERS, OrderRecorded
from contactcenter.settings import Settings

log = structlog.get_logger("analytics.runtime")


class Runtime:
    def __init__(self, *, settings: Settings, db: Database, bus: Bus) -> None:
        self.db, self.bus, self.settings = db, bus, settings
        self.config = Config.from_settings(settings)
        self.pending: set[int] = set()
        self.wake = asyncio.Event()
        self.subscribed = asyncio.Event()
        self.recomputed = 0  # customers recomputed by this process, for tests
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        # Contacts of valuable customers are served first in their queue (decision 46).
        priority.register_source("value_tier", tier_priority(self.settings.routing_tier_priority))
        self.tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._work())]
        if self.settings.analytics_every_h > 0:
            every = self.settings.analytics_every_h
            self.tasks.append(asyncio.create_task(jobs.schedule(self.db, self.bus, config=self.config, every_h=every)))

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    async def handle(self, data: str, given: Event | None = None) -> None:
        """One message of the orders topic (typed; `given`: the event itself, in-process)."""
        if isinstance(given, OrderRecorded):
            ev = given
        else:
            try:
                ev = OrderRecorded.model_validate_json(data)
            except ValidationError:
                return
        if await self.bus.hit(f"analytics:order:{ev.order_id}", 3600) == 1:
            self.pending.add(ev.customer_id)
            self.wake.set()

    async def _listen(self) -> None:
        async def on_message(msg: BusMessage) -> None:
            await self.handle(msg.data, msg.event)

        await listen(self.bus, [TOPIC_ORDERS], on_message, what="analytics", subscribed=self.subscribed)

    async def _work(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            batch, self.pending = sorted(self.pending), set()
            try:
                async with self.db.session() as s:
                    done = await service.recompute_customers(s, customer_ids=batch, config=self.config)
                self.recomputed += len(done)
                if done:
                    await self.bus.publish_event(TOPIC_ANALYTICS, FiguresChanged(customer_ids=done))
            except Exception as exc:  # the next order (or the nightly run) puts them right
                log.warning("analytics_recompute_failed", customers=len(batch), error=repr(exc))

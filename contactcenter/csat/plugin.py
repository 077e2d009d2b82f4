"""CSAT as a capability: its routes, and a listener on the conversations core's events that asks the
customer of every conversation that closes (any channel: no channel is edited to plug it in; a channel may
say, through the core's `ChannelSpec.rateable`, that one of its conversations broke and is not asked)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

import structlog
from fastapi import APIRouter

from contactcenter.auth import service as auth
from contactcenter.bus import Bus, BusMessage
from contactcenter.bus.listen import listen
from contactcenter.capabilities import AppContext
from contactcenter.conversations import service as conversations
from contactcenter.conversations.events import TOPIC_CONVERSATIONS, ConversationChanged, changed
from contactcenter.csat import service
from contactcenter.csat.events import ask_push
from contactcenter.csat.routes import router
from contactcenter.db import Database, utcnow
from contactcenter.realtime.events import TOPIC_REALTIME
from contactcenter.settings import Settings

log = structlog.get_logger("csat")


class CsatCapability:
    name = "csat"

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()
        self.asked = 0  # asks this process recorded first (and pushed): tests read it
        self.channels: frozenset[str] = frozenset()

    def widget_parts(self, settings: Settings) -> list[Path]:
        return [settings.web_dir / "widget" / "csat.js"]  # the rating card

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    async def start(self, ctx: AppContext) -> None:
        self.channels = service.widget_channels(ctx.settings.csat_widget_channels)
        self.task = asyncio.create_task(self._listen(ctx.db, ctx.bus), name="csat-listener")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
            self.task = None

    async def _listen(self, db: Database, bus: Bus) -> None:
        # A close missed while the bus was away is asked when its customer rates (service.rate).
        async def on_message(msg: BusMessage) -> None:
            if (event := changed(msg)) is not None:
                await self.heard(db, bus, event)

        await listen(bus, [TOPIC_CONVERSATIONS], on_message, what="csat", subscribed=self.subscribed)

    async def heard(self, db: Database, bus: Bus, event: ConversationChanged) -> None:
        """A conversation changed: if it closed, the first process to record the ask tells the customer."""
        conv = event.conversation
        if not service.askable(conv):
            return
        spec = conversations.channel(conv.channel)
        try:
            async with db.write_gate(), db.session() as s:
                if spec is not None and spec.rateable is not None and not await spec.rateable(s, conv.id):
                    return  # it broke on our side (a call cut off): nothing the agent did to rate
                first = await service.ask(s, conv=conv, now=utcnow())
                name = await auth.display_name(s, user_id=conv.agent_id) if first and conv.agent_id else None
            if not first:
                return
            self.asked += 1
            if conv.channel in self.channels:
                await bus.publish_event(TOPIC_REALTIME, ask_push(conv, name))
        except Exception as exc:  # one failed ask must not stop the listener
            log.warning("csat_ask_failed", conversation_id=conv.id, error=repr(exc))


def capability() -> CsatCapability:
    return CsatCapability()

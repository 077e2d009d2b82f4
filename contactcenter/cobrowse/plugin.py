"""Co-browse as a capability: its routes, and its frames registered with the realtime hub. It is not a
channel (it works during a chat, a call or a callback): it registers frames only, no catch-up or positions.
It hears the conversations core's events: a conversation that closes ends its co-browse session (a touch)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog
from fastapi import APIRouter

from contactcenter.bus import Bus, BusMessage
from contactcenter.bus.listen import listen
from contactcenter.capabilities import AppContext
from contactcenter.cobrowse import frames, service
from contactcenter.cobrowse.routes import EVENTS_PATH, router
from contactcenter.conversations.events import TOPIC_CONVERSATIONS, changed
from contactcenter.db import Database
from contactcenter.realtime.channels import ChannelHooks
from contactcenter.settings import Settings

NAME = "cobrowse"
log = structlog.get_logger("cobrowse")


class CobrowseCapability:
    name = NAME

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    def body_limits(self, settings: Settings) -> dict[str, int]:
        return {EVENTS_PATH: settings.cobrowse_max_snapshot_bytes + 65_536}  # the JSON around the events

    async def start(self, ctx: AppContext) -> None:
        # Registry keys hooks by name; no conversation has the channel "cobrowse", so none looks it up.
        ctx.hub.add_channel(ChannelHooks(name=NAME, frames=frames.specs()))
        self.task = asyncio.create_task(self._listen(ctx.db, ctx.bus), name="cobrowse-close-listener")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def _listen(self, db: Database, bus: Bus) -> None:
        async def on_message(msg: BusMessage) -> None:
            event = changed(msg)
            if event is None or event.conversation.status.value != "closed":
                return
            try:
                async with db.write_gate(), db.session() as s:
                    await service.stop(s, bus, conv=event.conversation, by="closed")
            except Exception as exc:  # the session stays on; its next frame is refused (the conversation is closed)
                log.warning("cobrowse_end_on_close_failed", conversation_id=event.conversation.id, error=repr(exc))

        await listen(bus, [TOPIC_CONVERSATIONS], on_message, what="cobrowse", subscribed=self.subscribed)


def capability() -> CobrowseCapability:
    return CobrowseCapability()

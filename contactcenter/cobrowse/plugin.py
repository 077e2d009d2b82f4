"""Co-browse as a capability: its routes, and its frames registered with the realtime hub. It is not a
channel (it works during a chat, a call or a callback): it registers frames only, no catch-up or positions.
It hears the conversations core's events: a conversation that closes ends its co-browse session (a touch);
one that changes hands ends remote control (the customer gave it to one agent)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

import structlog
from fastapi import APIRouter

from contactcenter.bus import Bus, BusMessage
from contactcenter.bus.listen import listen
from contactcenter.capabilities import AppContext
from contactcenter.cobrowse import control, frames, service
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

    def widget_parts(self, settings: Settings) -> list[Path]:
        return [settings.web_dir / "widget" / "cobrowse.js"]  # its consents, banner, recording and remote control

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
            if event is None:
                return
            conv = event.conversation
            closed = conv.status.value == "closed"
            if not closed and event.previous_agent_id in (None, conv.agent_id):
                return
            try:
                async with db.write_gate(), db.session() as s:
                    if closed:
                        await service.stop(s, bus, conv=conv, by="closed")
                    else:  # transferred or requeued: control was given to the agent before
                        await control.follow_agent(s, bus, conv=conv)
            except Exception as exc:  # the session stays on; its next frame is refused (closed, or not theirs)
                log.warning("cobrowse_follow_failed", conversation_id=conv.id, closed=closed, error=repr(exc))

        await listen(bus, [TOPIC_CONVERSATIONS], on_message, what="cobrowse", subscribed=self.subscribed)


def capability() -> CobrowseCapability:
    return CobrowseCapability()

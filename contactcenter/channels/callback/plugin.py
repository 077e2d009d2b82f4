"""The callback channel as a capability: its routes and its scheduler (the conversations registration
happens at import, in service.py). It has no websocket frames: the console sees a callback as a conversation."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.channels.callback import service
from contactcenter.channels.callback.routes import router
from contactcenter.channels.callback.scheduler import Scheduler
from contactcenter.realtime.channels import ChannelHooks


class CallbackCapability:
    name = service.CHANNEL

    def __init__(self) -> None:
        self.scheduler: Scheduler | None = None

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    async def start(self, ctx: AppContext) -> None:
        service.hours(ctx.settings)  # a malformed CC_CALLBACK_HOURS stops the start, not the first request
        ctx.hub.add_channel(ChannelHooks(name=service.CHANNEL))
        self.scheduler = Scheduler(ctx.db, ctx.bus, ctx.settings)
        self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()


def capability() -> CallbackCapability:
    return CallbackCapability()

"""Voice as a capability: its frames registered with the realtime hub and its recording route (the
conversations registration happens at import, in service.py). A call's media lives in the process that took
the customer's offer; stopping the process ends its calls cleanly (logged, conversations closed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aioice.ice
from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.channels.voice import frames, service
from contactcenter.channels.voice.answer import AnswerWatch
from contactcenter.channels.voice.routes import router
from contactcenter.realtime.channels import ChannelHooks
from contactcenter.settings import Settings


def pin_host_addresses(settings: Settings) -> None:
    """aioice offers every interface but loopback and has no per-connection choice: CC_VOICE_HOST_ADDRESSES
    names the addresses the media may use, for every peer connection of the process (decision 41)."""
    pinned = [a.strip() for a in settings.voice_host_addresses.split(",") if a.strip()]
    if pinned:

        def addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
            return [a for a in pinned if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

        aioice.ice.get_host_addresses = addresses


class VoiceCapability:
    name = service.CHANNEL

    def __init__(self) -> None:
        self.db: object | None = None
        self.watch: AnswerWatch | None = None

    def widget_parts(self, settings: Settings) -> list[Path]:
        return [settings.web_dir / "widget" / "voice.js"]  # the call box

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    async def start(self, ctx: AppContext) -> None:
        pin_host_addresses(ctx.settings)
        self.db = ctx.db
        ctx.hub.add_channel(ChannelHooks(name=service.CHANNEL, frames=frames.specs()))
        self.watch = AnswerWatch(ctx.db, ctx.bus, ctx.settings)
        self.watch.start()

    async def stop(self) -> None:
        if self.watch is not None:
            await self.watch.stop()
        for call in list(service.calls.values()):
            if call.owner is self.db:  # another app of this process (tests) keeps its own
                await call.end("system", "shutdown")


def capability() -> VoiceCapability:
    return VoiceCapability()

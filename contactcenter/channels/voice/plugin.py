"""Voice as a capability: its frames registered with the realtime hub and its recording route (the
conversations registration happens at import, in service.py). With CC_VOICE_WORKERS=inprocess this process
also bridges the calls its customers place (host.py); with `external` it bridges none and voice workers do
(worker.py). Either way a frame for a call bridged elsewhere is forwarded (lines.py, decision 57). Stopping
a process ends the calls it bridges cleanly (logged, conversations closed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aioice.ice
import structlog
from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.channels.voice import service
from contactcenter.channels.voice.frames import VoiceFrames
from contactcenter.channels.voice.host import Host
from contactcenter.channels.voice.lines import Lines
from contactcenter.channels.voice.routes import router
from contactcenter.realtime.channels import ChannelHooks
from contactcenter.settings import Settings

log = structlog.get_logger("voice")


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
        self.host: Host | None = None
        self.lines: Lines | None = None

    def widget_parts(self, settings: Settings) -> list[Path]:
        return [settings.web_dir / "widget" / "voice.js"]  # the call box

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    async def start(self, ctx: AppContext) -> None:
        if ctx.settings.voice_workers == "inprocess":
            pin_host_addresses(ctx.settings)
            self.host = Host(ctx.db, ctx.bus, ctx.settings)
            await self.host.start()
        elif not ctx.settings.redis_url:  # no worker can hear an in-process bus: every call would be refused
            log.warning("voice_workers_unreachable", detail="CC_VOICE_WORKERS=external needs CC_REDIS_URL")
        self.lines = Lines(ctx.db, ctx.bus, ctx.settings, self.host)
        await self.lines.start()
        ctx.hub.add_channel(ChannelHooks(name=service.CHANNEL, frames=VoiceFrames(self.lines).specs()))

    async def stop(self) -> None:
        if self.host is not None:
            await self.host.stop()
        if self.lines is not None:
            await self.lines.stop()


def capability() -> VoiceCapability:
    return VoiceCapability()

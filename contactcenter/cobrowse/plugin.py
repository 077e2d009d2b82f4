"""Co-browse as a capability: its routes, and its frames registered with the realtime hub. It is not a
channel (it works during a chat, a call or a callback): it registers frames only, no catch-up or positions."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.cobrowse import frames
from contactcenter.cobrowse.routes import EVENTS_PATH, router
from contactcenter.realtime.channels import ChannelHooks
from contactcenter.settings import Settings

NAME = "cobrowse"


class CobrowseCapability:
    name = NAME

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    def body_limits(self, settings: Settings) -> dict[str, int]:
        return {EVENTS_PATH: settings.cobrowse_max_snapshot_bytes + 65_536}  # the JSON around the events

    async def start(self, ctx: AppContext) -> None:
        # Registry keys hooks by name; no conversation has the channel "cobrowse", so none looks it up.
        ctx.hub.add_channel(ChannelHooks(name=NAME, frames=frames.specs()))

    async def stop(self) -> None:
        return None


def capability() -> CobrowseCapability:
    return CobrowseCapability()

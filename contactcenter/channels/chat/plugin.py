"""The chat channel as a capability: its routes, its writer, and what it registers with the realtime hub
(its frames, catch-up and positions; the conversations registration happens at import, in service.py)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.channels.chat import messages, service
from contactcenter.channels.chat.frames import ChatFrames
from contactcenter.channels.chat.routes import router
from contactcenter.channels.chat.writer import ChatWriter
from contactcenter.realtime.channels import ChannelHooks


class ChatCapability:
    name = service.CHANNEL

    def __init__(self) -> None:
        self.writer: ChatWriter | None = None

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    async def start(self, ctx: AppContext) -> None:
        self.writer = ChatWriter(ctx.db, ctx.bus)
        self.writer.start()
        ctx.hub.add_channel(
            ChannelHooks(
                name=service.CHANNEL,
                frames=ChatFrames(self.writer).specs(),
                catch_up=messages.catch_up,
                positions=service.positions,
            )
        )

    async def stop(self) -> None:
        if self.writer is not None:
            await self.writer.stop()


def capability() -> ChatCapability:
    return ChatCapability()

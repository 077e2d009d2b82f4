"""The chat channel as a capability: its routes, its writer, and what it registers with the realtime hub
(its frames, catch-up and positions; the conversations registration happens at import, in service.py)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence

import structlog
from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.channels.chat import files, messages, service
from contactcenter.channels.chat.batch import PostIn
from contactcenter.channels.chat.frames import ChatFrames
from contactcenter.channels.chat.routes import router
from contactcenter.channels.chat.schemas import SenderKind
from contactcenter.channels.chat.writer import ChatWriter
from contactcenter.db import Database
from contactcenter.realtime.channels import ChannelHooks

log = structlog.get_logger("chat")
SWEEPER_TASK = "chat-unsent-upload-sweep"


class ChatCapability:
    name = service.CHANNEL

    def __init__(self) -> None:
        self.writer: ChatWriter | None = None
        self.sweeper: asyncio.Task[None] | None = None

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
                notice=self.notice,
            )
        )
        self.sweeper = asyncio.create_task(
            sweep_forever(ctx.db, ctx.settings.upload_unsent_max_age_s), name=SWEEPER_TASK
        )

    async def notice(self, conversation_id: str, by_id: int, by_name: str, text: str) -> None:
        """A line for both sides, in the log like any message (it stays in the transcript and history)."""
        if self.writer is None:
            raise RuntimeError("the chat channel is not started")
        post = PostIn(
            conversation_id=conversation_id,
            sender=SenderKind.system,
            sender_id=by_id,
            sender_name=by_name,
            body=text,
            client_id=f"notice-{uuid.uuid4().hex}",
        )
        await self.writer.post(post)

    async def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sweeper
        if self.writer is not None:
            await self.writer.stop()


async def sweep_once(db: Database, max_age_s: float) -> int:
    """Delete the uploads no sent message references, older than `max_age_s` (every process may run it:
    a delete of rows already gone deletes nothing)."""
    async with db.write_gate(), db.session() as s:
        n = await files.sweep_unsent(s, older_than_s=max_age_s)
    if n:
        log.info("unsent_uploads_removed", count=n)
    return n


async def sweep_forever(db: Database, max_age_s: float) -> None:
    period = min(max_age_s / 4, 600.0)
    while True:
        await asyncio.sleep(period)
        try:
            await sweep_once(db, max_age_s)
        except Exception as exc:  # the database is away: try again next period
            log.warning("upload_sweep_failed", error=repr(exc))


def capability() -> ChatCapability:
    return ChatCapability()

"""What each client frame does, once the socket said hello: the core's frames here, channels' frames by the
handlers they registered (realtime/channels.py)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from pydantic import BaseModel

from contactcenter.bus import Bus
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import Database
from contactcenter.http import ApiError
from contactcenter.realtime import monitor, routing_frames
from contactcenter.realtime.channels import Registry, frame_types
from contactcenter.realtime.connection import Connection, WindowCounts
from contactcenter.realtime.schemas import (
    CLOSE_BAD_FRAME,
    CLOSE_RATE,
    AgentStateIn,
    CloseConversation,
    Hello,
    Monitor,
    OfferAnswer,
    Ping,
    Pong,
)
from contactcenter.settings import Settings

log = structlog.get_logger("realtime")


@dataclass
class FrameContext:
    """What a frame handler (the core's or a channel's) works with."""

    conn: Connection
    db: Database
    bus: Bus
    settings: Settings
    # The process's counters for limits across a socket owner's sockets (the hub's: one per app).
    local: WindowCounts

    async def conversation(self, conversation_id: str, ref: str | None = None) -> ConversationOut | None:
        """The conversation if this socket may see it; else an error frame and None."""
        async with self.db.session() as s:
            conv = await conversations.find(s, conversation_id=conversation_id)
        if conv is None or not self.conn.owns(conv):
            # Same answer for "missing" and "not yours": ids of others' conversations reveal nothing.
            self.conn.fail("conversation_not_found", "no such conversation for you", ref=ref or conversation_id)
            return None
        return conv

    def local_hits(self, key: str, window_s: float) -> int:
        """A counter of this process only, for limits checked on every message: a visitor's sockets are
        normally on one process, and each socket's own token buckets hold wherever it is."""
        return self.local.hit(key, window_s)


def ref_of(frame: BaseModel) -> str | None:
    """What an error about this frame refers to: the message, conversation or contact it names."""
    for name in ("client_id", "contact_id", "conversation_id"):
        value = getattr(frame, name, None)
        if isinstance(value, str):
            return value
    types = frame_types(type(frame))
    return types[0] if types else None


class FrameHandler:
    def __init__(self, ctx: FrameContext, registry: Registry) -> None:
        self.ctx, self.conn, self.registry = ctx, ctx.conn, registry

    async def handle(self, frame: BaseModel) -> None:
        conn = self.conn
        if not conn.frames.take():
            conn.fail("rate_limited", "too many frames; slow down", close=CLOSE_RATE if conn.frames.flooding else None)
            return
        if isinstance(frame, Ping):
            conn.push(Pong(t=frame.t))
        elif isinstance(frame, Hello):
            conn.fail("out_of_order", "hello was already received", close=CLOSE_BAD_FRAME)
        elif isinstance(frame, AgentStateIn | OfferAnswer):
            await routing_frames.handle(conn, self.ctx.db, self.ctx.bus, frame)
        elif isinstance(frame, CloseConversation):
            await self._close(frame)
        elif isinstance(frame, Monitor):
            await monitor.handle(self.ctx, frame)
        else:
            spec = self.registry.handlers[str(getattr(frame, "type", ""))]
            await spec.handle(self.ctx, frame)

    async def _close(self, frame: CloseConversation) -> None:
        conn, ctx = self.conn, self.ctx
        conv = await ctx.conversation(frame.conversation_id)
        if conv is None:
            return
        if frame.outcome is not None and not conn.is_agent:
            conn.fail("forbidden", "only agents give an outcome", ref=conv.id)
            return
        try:
            async with ctx.db.session() as s:
                await conversations.close(
                    s,
                    ctx.bus,
                    conversation_id=conv.id,
                    by=conn.who.side,
                    outcome=frame.outcome,
                    note=frame.note,
                    allowed=conversations.outcomes(ctx.settings.wrap_up_codes),
                )
        except ApiError as exc:
            conn.fail(exc.code, str(exc.detail), ref=conv.id)

"""A channel that exists only in the tests: one module, registered the way a package under channels/ is,
with no change to realtime, routing or suggestions. A customer opens an "echo" conversation and says lines;
its log lives in memory (enough for the plug-in point: offered, delivered, resumed, closed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.capabilities import AppContext
from contactcenter.ccr.schemas import Channel as TouchChannel
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import OpenIn, Positions
from contactcenter.realtime.channels import ChannelHooks, FrameSpec
from contactcenter.realtime.events import TOPIC_REALTIME, Audience, Item
from contactcenter.realtime.schemas import ConvId, Frame
from contactcenter.realtime.service import FrameContext
from contactcenter.routing.model import Channel as Medium
from contactcenter.settings import Settings

NAME = "echo"


class EchoOpen(Frame):
    type: Literal["echo_open"]
    queue: str | None = None


class EchoSay(Frame):
    type: Literal["echo_say"]
    conversation_id: ConvId
    text: str


class EchoBoom(Frame):
    """A handler with a bug: it raises."""

    type: Literal["echo_boom"]
    conversation_id: ConvId


class EchoLine(Frame):
    type: Literal["echo_line"] = "echo_line"
    conversation_id: str
    seq: int
    side: str
    text: str


class EchoCapability:
    name = NAME

    def __init__(self) -> None:
        self.lines: dict[str, list[EchoLine]] = {}
        self.closed: list[str] = []

    def routers(self) -> Sequence[APIRouter]:
        return []

    def widget_parts(self, settings: Settings) -> list[Path]:
        return [Path(__file__).with_name("echo_widget.js")]  # its part, outside web/widget/

    async def start(self, ctx: AppContext) -> None:
        conversations.register_channel(
            conversations.ChannelSpec(
                name=NAME, label="Echo", medium=Medium.email, touch_channel=TouchChannel.web, on_close=self._on_close
            )
        )
        ctx.hub.add_channel(
            ChannelHooks(
                name=NAME,
                frames=[FrameSpec(EchoOpen, self.open), FrameSpec(EchoSay, self.say), FrameSpec(EchoBoom, self.boom)],
                catch_up=self.catch_up,
                positions=self.positions,
            )
        )

    async def stop(self) -> None:
        return None

    async def _on_close(self, session: AsyncSession, conversation_id: str) -> str | None:
        self.closed.append(conversation_id)
        return f"after {len(self.lines.get(conversation_id, []))} lines"

    async def open(self, ctx: FrameContext, frame: EchoOpen) -> None:
        async with ctx.db.session() as s:
            conv = await conversations.stage_open(
                s,
                data=OpenIn(customer_id=ctx.conn.who.id, channel=NAME, customer_name="Echo caller", queue=frame.queue),
            )
            await s.commit()
            conv = await conversations.opened(s, ctx.bus, conversation=conv)
        self.lines[conv.id] = []
        await ctx.conn.track(conv, 0)

    async def say(self, ctx: FrameContext, frame: EchoSay) -> None:
        conv = await ctx.conversation(frame.conversation_id)
        if conv is None:
            return
        log = self.lines.setdefault(conv.id, [])
        line = EchoLine(conversation_id=conv.id, seq=len(log) + 1, side=ctx.conn.who.side, text=frame.text)
        log.append(line)
        to = Audience(conversation_id=conv.id, customer_id=conv.customer_id, agent_id=conv.agent_id)
        await ctx.bus.publish_event(TOPIC_REALTIME, Item(to=to, seq=line.seq, frame=line.model_dump_json()))

    async def boom(self, ctx: FrameContext, frame: EchoBoom) -> None:
        raise RuntimeError("a bug in a channel's handler")

    async def catch_up(
        self, session: AsyncSession, conversation_id: str, after: int, include_private: bool
    ) -> list[tuple[int, str]]:
        return [(line.seq, line.model_dump_json()) for line in self.lines.get(conversation_id, []) if line.seq > after]

    async def positions(self, session: AsyncSession, ids: Sequence[str]) -> Mapping[str, Positions]:
        return {i: Positions(last_seq=len(self.lines[i])) for i in ids if i in self.lines}

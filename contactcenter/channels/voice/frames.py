"""Voice's websocket frames, registered with the realtime hub by the capability (plugin.py): the customer
calls with an SDP offer, the assigned agent answers with theirs, and either side holds, mutes or hangs up.
Each handler checks here, on the process holding the socket, who may do this to which conversation; the
call's media may be bridged by another process, so what it does to the call goes through `Lines` (lines.py):
here or over the bus. The answer comes back here: the SDP to this socket, the state to everyone on the call."""

from __future__ import annotations

from contactcenter.channels.voice import service, supervise
from contactcenter.channels.voice.events import VoiceReply, VoiceRequest
from contactcenter.channels.voice.lines import Lines
from contactcenter.channels.voice.schemas import (
    VoiceAnswer,
    VoiceCall,
    VoiceHangup,
    VoiceHold,
    VoiceMonitor,
    VoiceMute,
    VoiceSdp,
    VoiceTransfer,
)
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.realtime.channels import FrameSpec
from contactcenter.realtime.service import FrameContext


def who(ctx: FrameContext) -> dict[str, object]:
    w = ctx.conn.who
    return {"user_id": w.id, "side": w.side, "name": w.name}


async def answered(ctx: FrameContext, conv: ConversationOut, reply: VoiceReply, leg: str | None = None) -> bool:
    """The reply for this socket (its error frame, or the SDP answer of its `leg`) and the call's new state
    for everyone on it. False on an error."""
    if reply.error is not None:
        ctx.conn.fail(reply.error, reply.detail, ref=conv.id)
        return False
    if leg is not None and reply.sdp is not None:
        ctx.conn.push(VoiceSdp.model_validate({"conversation_id": conv.id, "leg": leg, "sdp": reply.sdp}))
    if reply.state is not None:
        await service.tell(ctx.bus, conv, reply.state)
    return True


class VoiceFrames:
    def __init__(self, lines: Lines) -> None:
        self.lines = lines

    async def on_call(self, ctx: FrameContext, frame: VoiceCall) -> None:
        conn, settings = ctx.conn, ctx.settings
        if conn.is_agent:
            conn.fail("forbidden", "only customers place calls", ref="voice_call")
            return
        if ctx.local_hits(f"voice:call:{conn.who.id}", 3600) > settings.voice_calls_per_visitor_per_hour:
            conn.fail("rate_limited", "too many calls from this visitor; try again later", ref="voice_call")
            return
        reply = await self.lines.place(self.lines.request("call", sdp=frame.sdp, call=frame, **who(ctx)))
        conv = reply.conversation
        if reply.error is not None or conv is None or reply.sdp is None:
            conn.fail(reply.error or "voice_failed", reply.detail, ref="voice_call")
            return
        conn.push(VoiceSdp(conversation_id=conv.id, leg="customer", sdp=reply.sdp))
        await conn.track(conv, 0)
        if reply.state is not None:
            await service.tell(ctx.bus, conv, reply.state)

    async def _assigned(self, ctx: FrameContext, conversation_id: str) -> ConversationOut | None:
        """A voice conversation this agent holds (an error frame and None otherwise)."""
        conn = ctx.conn
        if not conn.is_agent:
            conn.fail("forbidden", "only the call's agent does that", ref=conversation_id)
            return None
        conv = await ctx.conversation(conversation_id)
        if conv is None:
            return None
        if conv.channel != service.CHANNEL or conv.status != "assigned" or conv.agent_id != conn.who.id:
            conn.fail("forbidden", "this call is not assigned to you", ref=conv.id)
            return None
        return conv

    async def _either(self, ctx: FrameContext, conversation_id: str) -> ConversationOut | None:
        if ctx.conn.is_agent:
            return await self._assigned(ctx, conversation_id)
        conv = await ctx.conversation(conversation_id)
        if conv is not None and conv.channel != service.CHANNEL:
            ctx.conn.fail("not_a_call", "this conversation is not a call", ref=conv.id)
            return None
        return conv

    def _req(self, ctx: FrameContext, op: str, conv: ConversationOut, **fields: object) -> VoiceRequest:
        return self.lines.request(op, conversation_id=conv.id, **who(ctx), **fields)

    async def on_answer(self, ctx: FrameContext, frame: VoiceAnswer) -> None:
        conv = await self._assigned(ctx, frame.conversation_id)
        if conv is not None:
            reply = await self.lines.to_call(self._req(ctx, "answer", conv, sdp=frame.sdp))
            await answered(ctx, conv, reply, leg="agent")

    async def on_hold(self, ctx: FrameContext, frame: VoiceHold) -> None:
        conv = await self._assigned(ctx, frame.conversation_id)
        if conv is not None:
            await answered(ctx, conv, await self.lines.to_call(self._req(ctx, "hold", conv, on=frame.on)))

    async def on_mute(self, ctx: FrameContext, frame: VoiceMute) -> None:
        conv = await self._either(ctx, frame.conversation_id)
        if conv is not None:
            await answered(ctx, conv, await self.lines.to_call(self._req(ctx, "mute", conv, on=frame.on)))

    async def on_hangup(self, ctx: FrameContext, frame: VoiceHangup) -> None:
        conn = ctx.conn
        conv = await ctx.conversation(frame.conversation_id)
        if conv is None:
            return
        if conv.channel != service.CHANNEL:
            conn.fail("not_a_call", "this conversation is not a call", ref=conv.id)
            return
        if conn.is_agent and conv.agent_id != conn.who.id and conn.who.role not in ("supervisor", "admin"):
            conn.fail("forbidden", "this call is not assigned to you", ref=conv.id)
            return
        reply = await self.lines.to_call(self._req(ctx, "hangup", conv))
        if reply.error is None:
            return
        if reply.error != "call_not_found":
            conn.fail(reply.error, reply.detail, ref=conv.id)
        elif conv.status != "closed":  # its media is gone (a restart): the conversation still closes
            async with ctx.db.write_gate(), ctx.db.session() as s:
                await conversations.close(s, ctx.bus, conversation_id=conv.id, by=conn.who.side)

    async def on_transfer(self, ctx: FrameContext, frame: VoiceTransfer) -> None:
        conv = await self._assigned(ctx, frame.conversation_id)
        if conv is None:
            return
        own_only = ctx.conn.who.role == "agent"
        fields = {"queue": frame.queue, "agent_id": frame.agent_id, "note": frame.note, "own_only": own_only}
        await answered(ctx, conv, await self.lines.to_call(self._req(ctx, "transfer", conv, **fields)))

    async def on_monitor(self, ctx: FrameContext, frame: VoiceMonitor) -> None:
        await supervise.on_monitor(self.lines, ctx, frame)

    def specs(self) -> list[FrameSpec]:
        return [
            FrameSpec(VoiceCall, self.on_call),
            FrameSpec(VoiceAnswer, self.on_answer),
            FrameSpec(VoiceHold, self.on_hold),
            FrameSpec(VoiceMute, self.on_mute),
            FrameSpec(VoiceHangup, self.on_hangup),
            FrameSpec(VoiceTransfer, self.on_transfer),
            FrameSpec(VoiceMonitor, self.on_monitor),
        ]

"""Voice's websocket frames, registered with the realtime hub by the capability (plugin.py): the customer
calls with an SDP offer, the assigned agent answers with theirs, and either side holds, mutes or hangs up."""

from __future__ import annotations

from contactcenter.channels.voice import service, supervise
from contactcenter.channels.voice.bridge import BadSdp, Call
from contactcenter.channels.voice.recording import Checked
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
from contactcenter.http import ApiError
from contactcenter.realtime.channels import FrameSpec
from contactcenter.realtime.service import FrameContext
from contactcenter.routing import service as routing
from contactcenter.routing.schemas import TransferIn


async def _noop(call: Call, by: str, reason: str, checked: Checked | None) -> None:
    return None


async def on_call(ctx: FrameContext, frame: VoiceCall) -> None:
    conn, settings = ctx.conn, ctx.settings
    if conn.is_agent:
        conn.fail("forbidden", "only customers place calls", ref="voice_call")
        return
    if ctx.local_hits(f"voice:call:{conn.who.id}", 3600) > settings.voice_calls_per_visitor_per_hour:
        conn.fail("rate_limited", "too many calls from this visitor; try again later", ref="voice_call")
        return
    if len(service.calls) >= settings.voice_max_calls:
        conn.fail("busy", "no line is free; try again in a moment", ref="voice_call")
        return
    # The offer is checked before anything is stored: a bad one leaves no conversation behind.
    call = Call(
        "",
        conn.who.id,
        ice_urls=service.ice_urls(settings),
        recording=None,
        on_end=_noop,
        connect_timeout_s=settings.voice_connect_timeout_s,
    )
    try:
        answer = await call.customer_offer(frame.sdp)
    except BadSdp as exc:
        conn.fail("bad_sdp", str(exc), ref="voice_call")
        return
    try:
        async with ctx.db.write_gate(), ctx.db.session() as s:
            conv = await service.start_call(
                s, ctx.bus, customer_id=conn.who.id, data=frame, region=settings.default_phone_region
            )
    except ApiError as exc:
        await call.end("customer", "refused")
        conn.fail(exc.code, str(exc.detail), ref="voice_call")
        return
    call.conversation_id = conv.id
    if settings.voice_record:
        call.recording_path = service.recording_path(settings, conv.id)

    async def ended(c: Call, by: str, reason: str, checked: Checked | None) -> None:
        await service.finish(ctx.db, ctx.bus, c, by=by, reason=reason, checked=checked)

    call.on_end, call.owner = ended, ctx.db
    service.calls[conv.id] = call
    conn.push(VoiceSdp(conversation_id=conv.id, leg="customer", sdp=answer))
    await conn.track(conv, 0)
    await service.tell(ctx.bus, call, conv, service.state_of(call))


async def _assigned(ctx: FrameContext, conversation_id: str) -> tuple[ConversationOut, Call] | None:
    """The call of a voice conversation this agent holds (an error frame and None otherwise)."""
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
    return _live(ctx, conv)


def _live(ctx: FrameContext, conv: ConversationOut) -> tuple[ConversationOut, Call] | None:
    call = service.calls.get(conv.id)
    if call is None or call.ended:
        ctx.conn.fail("call_not_found", "no live call for this conversation in this process", ref=conv.id)
        return None
    return conv, call


async def on_answer(ctx: FrameContext, frame: VoiceAnswer) -> None:
    found = await _assigned(ctx, frame.conversation_id)
    if found is None:
        return
    conv, call = found
    try:
        answer = await call.agent_offer(ctx.conn.who.id, frame.sdp)
    except BadSdp as exc:
        ctx.conn.fail("bad_sdp", str(exc), ref=conv.id)
        return
    ctx.conn.push(VoiceSdp(conversation_id=conv.id, leg="agent", sdp=answer))
    await service.tell(ctx.bus, call, conv, service.state_of(call, agent_name=ctx.conn.who.name))


async def on_hold(ctx: FrameContext, frame: VoiceHold) -> None:
    found = await _assigned(ctx, frame.conversation_id)
    if found is None:
        return
    conv, call = found
    call.hold(frame.on)
    await service.tell(ctx.bus, call, conv, service.state_of(call, agent_name=ctx.conn.who.name))


async def _either(ctx: FrameContext, conversation_id: str) -> tuple[ConversationOut, Call] | None:
    conn = ctx.conn
    if conn.is_agent:
        return await _assigned(ctx, conversation_id)
    conv = await ctx.conversation(conversation_id)
    if conv is None:
        return None
    if conv.channel != service.CHANNEL:
        conn.fail("not_a_call", "this conversation is not a call", ref=conv.id)
        return None
    return _live(ctx, conv)


async def on_mute(ctx: FrameContext, frame: VoiceMute) -> None:
    found = await _either(ctx, frame.conversation_id)
    if found is None:
        return
    conv, call = found
    call.mute(ctx.conn.who.side, frame.on)
    await service.tell(ctx.bus, call, conv, service.state_of(call))


async def on_hangup(ctx: FrameContext, frame: VoiceHangup) -> None:
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
    call = service.calls.get(conv.id)
    if call is not None:
        await call.end(conn.who.side, "hangup")
    elif conv.status != "closed":  # its media is gone (a restart): the conversation still closes
        async with ctx.db.write_gate(), ctx.db.session() as s:
            await conversations.close(s, ctx.bus, conversation_id=conv.id, by=conn.who.side)


async def on_transfer(ctx: FrameContext, frame: VoiceTransfer) -> None:
    found = await _assigned(ctx, frame.conversation_id)
    if found is None:
        return
    conv, call = found
    conn = ctx.conn
    try:
        data = TransferIn(queue=frame.queue, agent_id=frame.agent_id, note=frame.note)
    except ValueError as exc:
        conn.fail("invalid_frame", str(exc), ref=conv.id)
        return
    try:
        async with ctx.db.session() as s:
            await routing.transfer(
                s, ctx.bus, contact_id=conv.id, data=data, by=conn.who.id, own_only=conn.who.role == "agent"
            )
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=conv.id)
        return
    await call.drop_agent()
    await service.tell(ctx.bus, call, conv, service.state_of(call))


def specs() -> list[FrameSpec]:
    return [
        FrameSpec(VoiceCall, on_call),
        FrameSpec(VoiceAnswer, on_answer),
        FrameSpec(VoiceHold, on_hold),
        FrameSpec(VoiceMute, on_mute),
        FrameSpec(VoiceHangup, on_hangup),
        FrameSpec(VoiceTransfer, on_transfer),
        FrameSpec(VoiceMonitor, supervise.on_monitor),
    ]

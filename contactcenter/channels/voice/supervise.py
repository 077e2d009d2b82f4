"""Supervisors on a live call (issue 13 item 5, voice): their own leg into the call's bridge. `listen` hears
both sides, `whisper` also speaks to the agent only, `barge` to both (the customer's call state names who
joined). The agent is told of every change (the core's `monitored` frame) and the log records it. Only the
process holding the call's media can do this (decision 41): elsewhere it is `call_not_found`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from contactcenter.channels.voice import service
from contactcenter.channels.voice.bridge import BadSdp
from contactcenter.channels.voice.schemas import VoiceMonitor, VoiceSdp
from contactcenter.realtime.events import TOPIC_REALTIME, Audience, Push
from contactcenter.realtime.schemas import Monitored

if TYPE_CHECKING:
    from contactcenter.realtime.service import FrameContext

log = structlog.get_logger("voice")


async def on_monitor(ctx: FrameContext, frame: VoiceMonitor) -> None:
    conn = ctx.conn
    if conn.who.role not in ("supervisor", "admin"):
        conn.fail("forbidden", "only supervisors and admins join others' calls", ref=frame.conversation_id)
        return
    conv = await ctx.conversation(frame.conversation_id)
    if conv is None:
        return
    if conv.channel != service.CHANNEL:
        conn.fail("not_a_call", "this conversation is not a call", ref=conv.id)
        return
    call = service.calls.get(conv.id)
    if call is None or call.ended:
        conn.fail("call_not_found", "no live call for this conversation in this process", ref=conv.id)
        return
    mine = call.supervisor is not None and call.supervisor.user_id == conn.who.id
    if not frame.on:
        if mine:
            await call.drop_supervisor()
    elif frame.sdp is not None:
        try:
            answer = await call.supervisor_offer(conn.who.id, frame.sdp, frame.mode)
        except BadSdp as exc:
            conn.fail("bad_sdp", str(exc), ref=conv.id)
            return
        conn.push(VoiceSdp(conversation_id=conv.id, leg="supervisor", sdp=answer))
    elif mine:
        call.supervisor_mode = frame.mode
    else:
        conn.fail("no_leg", "send your SDP offer first (voice_monitor with sdp)", ref=conv.id)
        return
    mode = frame.mode if frame.on else "listen"
    log.info(
        "supervisor_monitor",
        supervisor=conn.who.id,
        conversation=conv.id,
        agent=conv.agent_id,
        on=frame.on,
        mode=mode,
        channel=service.CHANNEL,
    )
    if conv.agent_id is not None and conv.agent_id != conn.who.id:
        told = Monitored(
            conversation_id=conv.id, supervisor_id=conn.who.id, supervisor_name=conn.who.name, on=frame.on, mode=mode
        )
        to = Audience(conversation_id=conv.id, agent_id=conv.agent_id, supervisors="none")
        try:
            await ctx.bus.publish_event(TOPIC_REALTIME, Push(to=to, frame=told.model_dump_json()))
        except Exception as exc:  # the agent's notice is lost with the bus; the supervisor's leg stands
            log.warning("publish_failed", what="monitored", error=repr(exc))
    joined = conn.who.name if frame.on and frame.mode == "barge" else None
    await service.tell(ctx.bus, call, conv, service.state_of(call, agent_name=conv.agent_name, joined_by=joined))

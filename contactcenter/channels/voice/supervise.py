"""Supervisors on a live call (issue 13 item 5, voice): their own leg into the call's bridge. `listen` hears
both sides, `whisper` also speaks to the agent only, `barge` to both (the customer's call state names who
joined). The agent is told of every change (the core's `monitored` frame) and the log records it. The leg
itself is made by the process bridging the call (host.py), wherever that is (decision 57)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from contactcenter.channels.voice import service
from contactcenter.channels.voice.schemas import VoiceMonitor, VoiceSdp
from contactcenter.realtime.events import TOPIC_REALTIME, Audience, Push
from contactcenter.realtime.schemas import Monitored

if TYPE_CHECKING:
    from contactcenter.channels.voice.lines import Lines
    from contactcenter.realtime.service import FrameContext

log = structlog.get_logger("voice")


async def on_monitor(lines: Lines, ctx: FrameContext, frame: VoiceMonitor) -> None:
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
    req = lines.request(
        "monitor",
        conversation_id=conv.id,
        sdp=frame.sdp,
        on=frame.on,
        mode=frame.mode,
        agent_name=conv.agent_name,
        user_id=conn.who.id,
        side=conn.who.side,
        name=conn.who.name,
    )
    reply = await lines.to_call(req)
    if reply.error is not None:
        conn.fail(reply.error, reply.detail, ref=conv.id)
        return
    if reply.sdp is not None:
        conn.push(VoiceSdp(conversation_id=conv.id, leg="supervisor", sdp=reply.sdp))
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
    if reply.state is not None:
        await service.tell(ctx.bus, conv, reply.state)

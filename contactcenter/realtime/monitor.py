"""Supervisors following a live conversation (issue 13's "monitor" for chats): the socket tracks the
conversation's log like its agent's does (catch-up from the start, then every item live, private notes
included), but the conversation stays the agent's. The agent hears of it (a `monitored` frame) and the
log records who watched what. Sending into the conversation is not part of this."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from contactcenter.bus import Bus
from contactcenter.realtime.connection import Connection, with_positions
from contactcenter.realtime.events import TOPIC_REALTIME, Audience, Push
from contactcenter.realtime.schemas import Monitor, Monitored

if TYPE_CHECKING:
    from contactcenter.realtime.service import FrameContext

log = structlog.get_logger("realtime")
MAX_MONITORED = 20  # per socket: a wallboard of live chats, not the whole centre


async def handle(ctx: FrameContext, frame: Monitor) -> None:
    conn = ctx.conn
    if conn.who.role not in ("supervisor", "admin"):
        conn.fail("forbidden", "only supervisors and admins follow others' conversations", ref=frame.conversation_id)
        return
    conv = await ctx.conversation(frame.conversation_id)
    if conv is None:
        return
    if frame.on:
        if conv.id not in conn.monitoring and len(conn.monitoring) >= MAX_MONITORED:
            conn.fail("too_many", f"at most {MAX_MONITORED} conversations followed at once", ref=conv.id)
            return
        async with ctx.db.session() as s:
            (conv,) = await with_positions(s, conn.registry, [conv])
        conn.monitoring[conv.id] = conv.agent_id
        await conn.track(conv, 0)  # the whole log so far, then live
    else:
        if conv.id not in conn.monitoring:
            return
        del conn.monitoring[conv.id]
        if conv.agent_id != conn.who.id:
            conn.delivered.pop(conv.id, None)  # back to its state only, like every other conversation
    await _tell(ctx.bus, conn, conv.id, conv.agent_id, on=frame.on)


async def _tell(bus: Bus, conn: Connection, conversation_id: str, agent_id: int | None, *, on: bool) -> None:
    log.info("supervisor_monitor", supervisor=conn.who.id, conversation=conversation_id, agent=agent_id, on=on)
    if agent_id is None or agent_id == conn.who.id:
        return
    told = Monitored(conversation_id=conversation_id, supervisor_id=conn.who.id, supervisor_name=conn.who.name, on=on)
    to = Audience(conversation_id=conversation_id, agent_id=agent_id, supervisors="none")
    try:
        await bus.publish_event(TOPIC_REALTIME, Push(to=to, frame=told.model_dump_json()))
    except Exception as exc:  # the agent's notice is lost with the bus; the monitoring itself stands
        log.warning("publish_failed", what="monitored", error=repr(exc))


async def socket_closed(bus: Bus, conn: Connection) -> None:
    """The supervisor's socket went away: whatever it followed is no longer watched, and the agents hear so."""
    for conversation_id, agent_id in list(conn.monitoring.items()):
        await _tell(bus, conn, conversation_id, agent_id, on=False)
    conn.monitoring.clear()

"""Supervisors on someone else's live conversation (issue 13's monitor, whisper and barge, for chats): the
socket tracks the conversation's log like its agent's does (catch-up from the start, then every item live,
private notes included), but the conversation stays the agent's. `listen` is read-only; `whisper` lets the
supervisor write private notes the agent alone sees; `barge` lets them write to the customer too, and the
customer is told in the conversation's log. The agent hears of every change (`monitored`), and the log
records who watched what and how."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from contactcenter.bus import Bus
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.realtime.connection import Connection, Watch, with_positions
from contactcenter.realtime.events import TOPIC_REALTIME, Audience, Push
from contactcenter.realtime.schemas import Monitor, Monitored, MonitorMode

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
    before = conn.monitoring.get(conv.id)
    if frame.on:
        if before is None and len(conn.monitoring) >= MAX_MONITORED:
            conn.fail("too_many", f"at most {MAX_MONITORED} conversations followed at once", ref=conv.id)
            return
        if frame.mode == "barge" and conv.status == "closed":
            conn.fail("conversation_closed", "a closed conversation cannot be joined", ref=conv.id)
            return
        if frame.mode == "barge" and not await _can_notice(ctx, conv):
            conn.fail("not_supported", f"joining a {conv.channel} conversation is not supported", ref=conv.id)
            return
        conn.monitoring[conv.id] = Watch(agent_id=conv.agent_id, mode=frame.mode)
        if before is None:
            async with ctx.db.session() as s:
                (conv,) = await with_positions(s, conn.registry, [conv])
            await conn.track(conv, 0)  # the whole log so far, then live
        elif before.mode == frame.mode:
            return  # a resend (a reconnecting wallboard): nobody needs telling again
    else:
        if before is None:
            return
        del conn.monitoring[conv.id]
        if conv.agent_id != conn.who.id:
            conn.delivered.pop(conv.id, None)  # back to its state only, like every other conversation
    joined, left = frame.on and frame.mode == "barge", before is not None and before.mode == "barge"
    if joined != left:
        await _notice(ctx, conv, conn, joined=joined)
    await _tell(ctx.bus, conn, conv.id, conv.agent_id, on=frame.on, mode=frame.mode if frame.on else "listen")


async def _can_notice(ctx: FrameContext, conv: ConversationOut) -> bool:
    hooks = ctx.conn.registry.channel(conv.channel)
    return hooks is not None and hooks.notice is not None


async def _notice(ctx: FrameContext, conv: ConversationOut, conn: Connection, *, joined: bool) -> None:
    """The customer is never spoken to by someone they were not told about: joining and leaving are in the log."""
    hooks = conn.registry.channel(conv.channel)
    if hooks is None or hooks.notice is None:
        return
    text = f"{conn.who.name} (supervisor) {'joined' if joined else 'left'} the conversation"
    try:
        await hooks.notice(conv.id, conn.who.id, conn.who.name, text)
    except Exception as exc:  # the join/leave itself stands; the log says what was not written
        log.warning("monitor_notice_failed", conversation=conv.id, error=repr(exc))


async def _tell(
    bus: Bus, conn: Connection, conversation_id: str, agent_id: int | None, *, on: bool, mode: MonitorMode
) -> None:
    log.info(
        "supervisor_monitor", supervisor=conn.who.id, conversation=conversation_id, agent=agent_id, on=on, mode=mode
    )
    if agent_id is None or agent_id == conn.who.id:
        return
    told = Monitored(
        conversation_id=conversation_id,
        supervisor_id=conn.who.id,
        supervisor_name=conn.who.name,
        on=on,
        mode=mode,
    )
    to = Audience(conversation_id=conversation_id, agent_id=agent_id, supervisors="none")
    try:
        await bus.publish_event(TOPIC_REALTIME, Push(to=to, frame=told.model_dump_json()))
    except Exception as exc:  # the agent's notice is lost with the bus; the monitoring itself stands
        log.warning("publish_failed", what="monitored", error=repr(exc))


async def socket_closed(ctx: FrameContext) -> None:
    """The supervisor's socket went away: whatever it followed is no longer watched (or joined), and the
    agents (and, after a barge, the customers) hear so."""
    conn = ctx.conn
    for conversation_id, watch in list(conn.monitoring.items()):
        if watch.mode == "barge":
            conv = conn.known.get(conversation_id)
            if conv is not None:
                await _notice(ctx, conv, conn, joined=False)
        await _tell(ctx.bus, conn, conversation_id, watch.agent_id, on=False, mode="listen")
    conn.monitoring.clear()

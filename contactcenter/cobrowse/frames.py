"""Co-browse's websocket frames, registered with the realtime hub by the capability (plugin.py)."""

from __future__ import annotations

import weakref

from contactcenter.cobrowse import control, service
from contactcenter.cobrowse.schemas import (
    CobrowseAccept,
    CobrowseControl,
    CobrowseControlGrant,
    CobrowseControlRequest,
    CobrowseControlRevoke,
    CobrowseEventsIn,
    CobrowsePointer,
    CobrowseRequest,
    CobrowseStop,
)
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.http import ApiError
from contactcenter.realtime.channels import FrameSpec
from contactcenter.realtime.connection import Connection, TokenBucket
from contactcenter.realtime.service import FrameContext

# The agent's clicks and scrolls, per socket, below the socket's own 20 frames a second: the console sends
# at most 10 scrolls a second; a click is a person's.
CONTROL_RATE, CONTROL_BURST = 10.0, 20.0
_control_buckets: weakref.WeakKeyDictionary[Connection, TokenBucket] = weakref.WeakKeyDictionary()


def limits_of(ctx: FrameContext) -> service.Limits:
    s = ctx.settings
    return service.Limits(event_bytes=s.cobrowse_max_event_bytes, snapshot_bytes=s.cobrowse_max_snapshot_bytes)


async def _conversation(ctx: FrameContext, conversation_id: str) -> ConversationOut | None:
    # Events come several times a second: the state this socket was last sent answers without a read
    # (closed conversations are not kept there; a transfer updates it).
    conv = ctx.conn.known.get(conversation_id)
    if conv is not None and ctx.conn.owns(conv):
        return conv
    return await ctx.conversation(conversation_id)


async def on_request(ctx: FrameContext, frame: CobrowseRequest) -> None:
    conn = ctx.conn
    if not conn.is_agent:
        conn.fail("forbidden", "only agents ask to co-browse", ref=frame.conversation_id)
        return
    conv = await ctx.conversation(frame.conversation_id)
    if conv is None:
        return
    try:
        async with ctx.db.write_gate(), ctx.db.session() as s:
            await service.request(s, ctx.bus, conv=conv, agent_id=conn.who.id)
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=conv.id)


async def on_accept(ctx: FrameContext, frame: CobrowseAccept) -> None:
    conn = ctx.conn
    if conn.is_agent:
        conn.fail("forbidden", "only the customer consents", ref=frame.conversation_id)
        return
    conv = await ctx.conversation(frame.conversation_id)
    if conv is None:
        return
    try:
        async with ctx.db.write_gate(), ctx.db.session() as s:
            await service.accept(s, ctx.bus, conv=conv, customer_id=conn.who.id, session_id=frame.session_id)
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=conv.id)


async def on_stop(ctx: FrameContext, frame: CobrowseStop) -> None:
    conn = ctx.conn
    conv = await ctx.conversation(frame.conversation_id)
    if conv is None:
        return
    if conn.is_agent and conv.agent_id != conn.who.id and conn.who.role not in ("supervisor", "admin"):
        conn.fail("forbidden", "not your conversation", ref=conv.id)
        return
    async with ctx.db.write_gate(), ctx.db.session() as s:
        await service.stop(s, ctx.bus, conv=conv, by=conn.who.side)


async def on_events(ctx: FrameContext, frame: CobrowseEventsIn) -> None:
    conn = ctx.conn
    if conn.is_agent:
        conn.fail("forbidden", "only the customer's page is shared", ref=frame.conversation_id)
        return
    conv = await _conversation(ctx, frame.conversation_id)
    if conv is None:
        return
    try:
        await service.relay(
            ctx.db, ctx.bus, conv=conv, customer_id=conn.who.id, events=frame.events, limits=limits_of(ctx)
        )
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=conv.id)


async def on_pointer(ctx: FrameContext, frame: CobrowsePointer) -> None:
    conn = ctx.conn
    if not conn.is_agent:
        conn.fail("forbidden", "only the agent's pointer is shown", ref=frame.conversation_id)
        return
    conv = await _conversation(ctx, frame.conversation_id)
    if conv is None:
        return
    try:
        await service.point(ctx.db, ctx.bus, conv=conv, agent_id=conn.who.id, frame=frame)
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=conv.id)


async def on_control_request(ctx: FrameContext, frame: CobrowseControlRequest) -> None:
    conn = ctx.conn
    if not conn.is_agent:
        conn.fail("forbidden", "only the agent asks for control", ref=frame.conversation_id)
        return
    conv = await ctx.conversation(frame.conversation_id)
    if conv is None:
        return
    try:
        async with ctx.db.write_gate(), ctx.db.session() as s:
            await control.ask(s, ctx.bus, conv=conv, agent_id=conn.who.id)
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=conv.id)


async def on_control_grant(ctx: FrameContext, frame: CobrowseControlGrant) -> None:
    conn = ctx.conn
    if conn.is_agent:
        conn.fail("forbidden", "only the customer gives control", ref=frame.conversation_id)
        return
    conv = await ctx.conversation(frame.conversation_id)
    if conv is None:
        return
    try:
        async with ctx.db.write_gate(), ctx.db.session() as s:
            await control.grant(s, ctx.bus, conv=conv, customer_id=conn.who.id, session_id=frame.session_id)
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=conv.id)


async def on_control_revoke(ctx: FrameContext, frame: CobrowseControlRevoke) -> None:
    conn = ctx.conn
    conv = await ctx.conversation(frame.conversation_id)
    if conv is None:
        return
    if conn.is_agent and conv.agent_id != conn.who.id and conn.who.role not in ("supervisor", "admin"):
        conn.fail("forbidden", "not your conversation", ref=conv.id)
        return
    async with ctx.db.write_gate(), ctx.db.session() as s:
        await control.revoke(s, ctx.bus, conv=conv, by=conn.who.side)


async def on_control(ctx: FrameContext, frame: CobrowseControl) -> None:
    conn = ctx.conn
    if not conn.is_agent:
        conn.fail(
            "forbidden", "only the agent clicks and scrolls, with the customer's consent", ref=frame.conversation_id
        )
        return
    bucket = _control_buckets.get(conn)
    if bucket is None:
        bucket = _control_buckets[conn] = TokenBucket(rate=CONTROL_RATE, burst=CONTROL_BURST)
    if not bucket.take():
        conn.fail("rate_limited", "too many clicks and scrolls; slow down", ref=frame.conversation_id)
        return
    conv = await _conversation(ctx, frame.conversation_id)
    if conv is None:
        return
    try:
        await control.act(ctx.db, ctx.bus, conv=conv, agent_id=conn.who.id, frame=frame)
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=conv.id)


def specs() -> list[FrameSpec]:
    return [
        FrameSpec(CobrowseRequest, on_request),
        FrameSpec(CobrowseAccept, on_accept),
        FrameSpec(CobrowseStop, on_stop),
        FrameSpec(CobrowseEventsIn, on_events),
        FrameSpec(CobrowsePointer, on_pointer),
        FrameSpec(CobrowseControlRequest, on_control_request),
        FrameSpec(CobrowseControlGrant, on_control_grant),
        FrameSpec(CobrowseControlRevoke, on_control_revoke),
        FrameSpec(CobrowseControl, on_control),
    ]

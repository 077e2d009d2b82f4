"""Co-browse's websocket frames, registered with the realtime hub by the capability (plugin.py)."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.cobrowse import control, service
from contactcenter.cobrowse.schemas import (
    CobrowseAccept,
    CobrowseControl,
    CobrowseControlGrant,
    CobrowseControlRefused,
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


async def _open(
    ctx: FrameContext,
    conversation_id: str,
    *,
    only: Literal["agent", "customer"] | None,
    refusal: str = "",
    cached: bool = False,
) -> ConversationOut | None:
    """What every handler checks first: the sender's side (`only`), then the conversation as this socket may
    see it; with `only` None either side may send it, but an agent only for their own conversation (or a
    supervisor's)."""
    conn = ctx.conn
    if only is not None and conn.is_agent != (only == "agent"):
        conn.fail("forbidden", refusal, ref=conversation_id)
        return None
    conv = await (_conversation(ctx, conversation_id) if cached else ctx.conversation(conversation_id))
    mine = conv is None or not conn.is_agent or conv.agent_id == conn.who.id
    if only is None and not mine and conn.who.role not in ("supervisor", "admin"):
        conn.fail("forbidden", "not your conversation", ref=conversation_id)
        return None
    return conv


async def _run(ctx: FrameContext, conv: ConversationOut, work: Callable[[], Awaitable[object]]) -> None:
    try:
        await work()
    except ApiError as exc:
        ctx.conn.fail(exc.code, str(exc.detail), ref=conv.id)


async def _write(ctx: FrameContext, conv: ConversationOut, work: Callable[[AsyncSession], Awaitable[object]]) -> None:
    async def in_session() -> None:
        async with ctx.db.write_gate(), ctx.db.session() as s:
            await work(s)

    await _run(ctx, conv, in_session)


async def on_request(ctx: FrameContext, frame: CobrowseRequest) -> None:
    if conv := await _open(ctx, frame.conversation_id, only="agent", refusal="only agents ask to co-browse"):
        await _write(ctx, conv, lambda s: service.request(s, ctx.bus, conv=conv, agent_id=ctx.conn.who.id))


async def on_accept(ctx: FrameContext, frame: CobrowseAccept) -> None:
    if conv := await _open(ctx, frame.conversation_id, only="customer", refusal="only the customer consents"):
        await _write(ctx, conv, lambda s: service.accept(
            s, ctx.bus, conv=conv, customer_id=ctx.conn.who.id, session_id=frame.session_id))  # fmt: skip


async def on_stop(ctx: FrameContext, frame: CobrowseStop) -> None:
    if conv := await _open(ctx, frame.conversation_id, only=None):
        await _write(ctx, conv, lambda s: service.stop(s, ctx.bus, conv=conv, by=ctx.conn.who.side))


async def on_events(ctx: FrameContext, frame: CobrowseEventsIn) -> None:
    refusal = "only the customer's page is shared"
    if conv := await _open(ctx, frame.conversation_id, only="customer", refusal=refusal, cached=True):
        await _run(ctx, conv, lambda: service.relay(
            ctx.db, ctx.bus, conv=conv, customer_id=ctx.conn.who.id, events=frame.events, limits=limits_of(ctx)
        ))  # fmt: skip


async def on_pointer(ctx: FrameContext, frame: CobrowsePointer) -> None:
    refusal = "only the agent's pointer is shown"
    if conv := await _open(ctx, frame.conversation_id, only="agent", refusal=refusal, cached=True):
        await _run(ctx, conv, lambda: service.point(ctx.db, ctx.bus, conv=conv, agent_id=ctx.conn.who.id, frame=frame))


async def on_control_request(ctx: FrameContext, frame: CobrowseControlRequest) -> None:
    if conv := await _open(ctx, frame.conversation_id, only="agent", refusal="only the agent asks for control"):
        await _write(ctx, conv, lambda s: control.ask(s, ctx.bus, conv=conv, agent_id=ctx.conn.who.id))


async def on_control_grant(ctx: FrameContext, frame: CobrowseControlGrant) -> None:
    if conv := await _open(ctx, frame.conversation_id, only="customer", refusal="only the customer gives control"):
        await _write(ctx, conv, lambda s: control.grant(
            s, ctx.bus, conv=conv, customer_id=ctx.conn.who.id, session_id=frame.session_id))  # fmt: skip


async def on_control_revoke(ctx: FrameContext, frame: CobrowseControlRevoke) -> None:
    if conv := await _open(ctx, frame.conversation_id, only=None):
        await _write(ctx, conv, lambda s: control.revoke(s, ctx.bus, conv=conv, by=ctx.conn.who.side))


async def on_control(ctx: FrameContext, frame: CobrowseControl) -> None:
    conn = ctx.conn
    refusal = "only the agent clicks and scrolls, with the customer's consent"
    if not conn.is_agent:  # refused before the bucket: a customer's frames do not use up the agent's
        conn.fail("forbidden", refusal, ref=frame.conversation_id)
        return
    bucket = _control_buckets.get(conn)
    if bucket is None:
        bucket = _control_buckets[conn] = TokenBucket(rate=CONTROL_RATE, burst=CONTROL_BURST)
    if not bucket.take():
        conn.fail("rate_limited", "too many clicks and scrolls; slow down", ref=frame.conversation_id)
        return
    if conv := await _open(ctx, frame.conversation_id, only="agent", refusal=refusal, cached=True):
        await _run(ctx, conv, lambda: control.act(ctx.db, ctx.bus, conv=conv, agent_id=conn.who.id, frame=frame))


async def on_control_refused(ctx: FrameContext, frame: CobrowseControlRefused) -> None:
    refusal = "only the customer's page refuses a click"
    if conv := await _open(ctx, frame.conversation_id, only="customer", refusal=refusal, cached=True):
        await _run(ctx, conv, lambda: control.refused(
            ctx.db, ctx.bus, conv=conv, customer_id=ctx.conn.who.id, frame=frame))  # fmt: skip


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
        FrameSpec(CobrowseControlRefused, on_control_refused),
    ]

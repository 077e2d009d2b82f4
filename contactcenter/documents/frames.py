"""Documents' websocket frames, registered with the realtime hub by the capability (plugin.py)."""

from __future__ import annotations

from contactcenter.documents import service
from contactcenter.documents.schemas import DocumentPushIn, DocumentTurnIn, DocumentView
from contactcenter.http import ApiError
from contactcenter.realtime.channels import FrameSpec
from contactcenter.realtime.service import FrameContext


async def on_push(ctx: FrameContext, frame: DocumentPushIn) -> None:
    conn = ctx.conn
    if not conn.is_agent:
        conn.fail("forbidden", "only agents push documents", ref=frame.conversation_id)
        return
    conv = await ctx.conversation(frame.conversation_id)
    if conv is None:
        return
    s = ctx.settings
    try:
        async with ctx.db.write_gate(), ctx.db.session() as session:
            await service.push(
                session, ctx.bus, conv=conv, agent_id=conn.who.id, document_id=frame.document_id,
                secret=s.secret_key.get_secret_value(), link_s=s.document_link_s,
            )  # fmt: skip
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=conv.id)


async def on_view(ctx: FrameContext, frame: DocumentView) -> None:
    conn = ctx.conn
    if conn.is_agent:
        conn.fail("forbidden", "receipts come from the customer's viewer", ref=frame.push_id)
        return
    async with ctx.db.session() as session:
        conversation_id = await service.conversation_of(session, push_id=frame.push_id, customer_id=conn.who.id)
    if conversation_id is None:
        conn.fail("push_not_found", "no such document for you", ref=frame.push_id)
        return
    conv = await ctx.conversation(conversation_id, ref=frame.push_id)
    if conv is None:
        return
    try:
        async with ctx.db.write_gate(), ctx.db.session() as session:
            await service.viewed(session, ctx.bus, conv=conv, customer_id=conn.who.id, view=frame)
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=frame.push_id)


async def on_turn(ctx: FrameContext, frame: DocumentTurnIn) -> None:
    conn = ctx.conn
    if not conn.is_agent:
        conn.fail("forbidden", "the customer turns pages in their own viewer", ref=frame.push_id)
        return
    async with ctx.db.session() as session:
        conversation_id = await service.conversation_of(session, push_id=frame.push_id)
    conv = await ctx.conversation(conversation_id, ref=frame.push_id) if conversation_id else None
    if conv is None:
        if conversation_id is None:
            conn.fail("push_not_found", "no such document in your conversation", ref=frame.push_id)
        return
    try:
        async with ctx.db.session() as session:
            await service.turn(
                session, ctx.bus, conv=conv, agent_id=conn.who.id, push_id=frame.push_id, page=frame.page
            )
    except ApiError as exc:
        conn.fail(exc.code, str(exc.detail), ref=frame.push_id)


def specs() -> list[FrameSpec]:
    return [FrameSpec(DocumentPushIn, on_push), FrameSpec(DocumentView, on_view), FrameSpec(DocumentTurnIn, on_turn)]

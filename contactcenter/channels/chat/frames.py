"""Chat's websocket frames: start a chat, send, acknowledge (read), typing. Registered with the realtime
hub by the chat capability (plugin.py); each handler gets the hub's FrameContext."""

from __future__ import annotations

from contactcenter.channels.chat import limits, messages
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.batch import PostIn
from contactcenter.channels.chat.events import message_posted, typing
from contactcenter.channels.chat.schemas import Ack, Send, SenderKind, Sent, Start, StartIn, TypingIn
from contactcenter.channels.chat.writer import ChatWriter
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.http import ApiError
from contactcenter.realtime.channels import FrameSpec
from contactcenter.realtime.events import TOPIC_REALTIME
from contactcenter.realtime.schemas import CLOSE_RATE, ErrorFrame
from contactcenter.realtime.service import FrameContext


class ChatFrames:
    def __init__(self, writer: ChatWriter) -> None:
        self.writer = writer  # every socket of this process writes messages through it

    def specs(self) -> list[FrameSpec]:
        return [
            FrameSpec(Start, self.start),
            FrameSpec(Send, self.send),
            FrameSpec(Ack, self.ack),
            FrameSpec(TypingIn, self.typing),
        ]

    async def typing(self, ctx: FrameContext, frame: TypingIn) -> None:
        conn = ctx.conn
        # Typing comes twice per message or so: the state this socket was last sent answers without a read.
        conv: ConversationOut | None = conn.known.get(frame.conversation_id)
        if conv is None or not conn.owns(conv):
            conv = await ctx.conversation(frame.conversation_id)
        if conv is None or conv.status == "closed":
            return
        event = typing(
            conv.id,
            customer_id=conv.customer_id,
            agent_id=conv.agent_id,
            sender=conn.who.side,
            name=conn.who.name if conn.is_agent else conv.customer_name,
            state=frame.state,
        )
        try:
            await ctx.bus.publish_event(TOPIC_REALTIME, event)
        except Exception:
            return  # typing indicators are throwaway

    async def start(self, ctx: FrameContext, frame: Start) -> None:
        conn = ctx.conn
        if conn.is_agent:
            conn.fail("forbidden", "only customers start chats", ref="start")
            return
        admitted = await self._admit(ctx, frame)
        if isinstance(admitted, limits.Refusal):
            refusal = ErrorFrame(
                code=admitted.code, detail=admitted.detail, ref="start", retry_after=admitted.retry_after
            )
            conn.push(refusal)
            return
        try:
            async with ctx.db.write_gate(), ctx.db.session() as s:
                conv = await chat.start_conversation(
                    s,
                    ctx.bus,
                    customer_id=conn.who.id,
                    region=ctx.settings.default_phone_region,
                    data=StartIn(
                        name=frame.name, email=frame.email, topic=frame.topic, page_url=frame.page_url, lang=frame.lang
                    ),
                    queue=frame.queue,
                    stored=(lambda cid: limits.started(ctx.bus, admitted, cid)) if admitted is not None else None,
                )
        except ApiError as exc:
            if admitted is not None:
                await limits.started(ctx.bus, admitted, None)
            conn.fail(exc.code, str(exc.detail), ref="start")
            return
        if admitted is not None:
            await limits.started(ctx.bus, admitted, conv.id)
        await conn.track(conv, conn.delivered.get(conv.id, 0))

    async def _admit(self, ctx: FrameContext, frame: Start) -> limits.Refusal | limits.Admitted | None:
        """The flood limits (docs/security.md): a visitor whose chat is open only gets that chat back."""
        if await limits.customer_has_open_chat(ctx.db, customer_id=ctx.conn.who.id, channel=chat.CHANNEL):
            return None
        client = ctx.conn.ws.client
        return await limits.check_start(
            ctx.bus,
            ctx.db,
            ctx.settings,
            customer_id=ctx.conn.who.id,
            address=client.host if client else "unknown",
            queue=frame.queue,
        )

    async def send(self, ctx: FrameContext, frame: Send) -> None:
        conn = ctx.conn
        if not conn.sends.take():
            conn.fail(
                "rate_limited",
                "too many messages; wait a moment and resend",
                ref=frame.client_id,
                close=CLOSE_RATE if conn.sends.flooding else None,
            )
            return
        if not frame.body.strip() and not frame.attachments:
            conn.fail("empty_message", "a message needs text or an attachment", ref=frame.client_id)
            return
        if frame.private and not conn.is_agent:
            conn.fail("forbidden", "only agents write private notes", ref=frame.client_id)
            return
        # A conversation this socket follows was checked when it started following it.
        if frame.conversation_id not in conn.delivered and await ctx.conversation(frame.conversation_id) is None:
            return
        if conn.who.role in ("supervisor", "admin") and not await self._may_write(ctx, frame):
            return
        conv_id = frame.conversation_id
        if conn.who.side == "customer" and ctx.local_hits(f"chat:msg:{conn.who.id}", 10) > 60:
            conn.fail("rate_limited", "too many messages from this visitor", ref=frame.client_id)
            return
        sender = SenderKind.agent if conn.is_agent else SenderKind.customer
        try:
            if frame.attachments:  # rare, and checked against the uploads: the one-by-one path
                async with ctx.db.session() as s:
                    msg, dup = await messages.post_message(
                        s,
                        ctx.bus,
                        conversation_id=conv_id,
                        client_id=frame.client_id,
                        body=frame.body,
                        sender=sender,
                        sender_id=conn.who.id,
                        sender_name=conn.who.name,
                        private=frame.private,
                        attachment_ids=frame.attachments,
                    )
            else:
                msg, dup = await self.writer.post(
                    PostIn(
                        conversation_id=conv_id,
                        sender=sender,
                        sender_id=conn.who.id,
                        sender_name=conn.who.name,
                        body=frame.body,
                        client_id=frame.client_id,
                        private=frame.private,
                    )
                )
        except ApiError as exc:
            conn.fail(exc.code, str(exc.detail), ref=frame.client_id)
            return
        conn.push(Sent(conversation_id=conv_id, client_id=frame.client_id, seq=msg.seq, duplicate=dup))
        # The sender's own copy arrives in order like any other message (the bus may be slower); the
        # audience is not used for a delivery to this one socket.
        await conn.deliver(message_posted(msg, customer_id=0, agent_id=None))

    async def _may_write(self, ctx: FrameContext, frame: Send) -> bool:
        """A supervisor writes into another agent's chat only while following it to whisper (private notes)
        or after joining it (barge, which the customer is told of): never unannounced."""
        conn = ctx.conn
        watch = conn.monitoring.get(frame.conversation_id)
        if watch is None:
            conv = conn.known.get(frame.conversation_id) or await ctx.conversation(frame.conversation_id)
            if conv is None:
                return False
            if conv.agent_id == conn.who.id:
                return True
        elif watch.may_send(private=frame.private):
            return True
        conn.fail(
            "not_joined",
            "follow the conversation to whisper to its agent, or join it, before writing in it",
            ref=frame.client_id,
        )
        return False

    async def ack(self, ctx: FrameContext, frame: Ack) -> None:
        conn = ctx.conn
        delivered = conn.delivered.get(frame.conversation_id)
        if delivered is None or frame.seq > delivered:
            # Not something this socket was sent: check against the database (history read over HTTP).
            conv = await ctx.conversation(frame.conversation_id)
            if conv is None:
                return
            async with ctx.db.session() as s:
                last = (await chat.with_positions(s, conv)).last_seq
            if frame.seq > last:
                conn.fail("bad_ack", f"seq {frame.seq} was never sent", ref=frame.conversation_id)
                return
        if frame.seq > conn.acked.get(frame.conversation_id, 0):
            conn.acked[frame.conversation_id] = frame.seq
        # Read positions are coalesced by the process's writer: one write per conversation and side
        # every READ_FLUSH_S, all in one transaction.
        self.writer.mark_read(
            conversation_id=frame.conversation_id,
            reader=SenderKind.agent if conn.is_agent else SenderKind.customer,
            seq=frame.seq,
        )

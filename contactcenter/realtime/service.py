"""What each client frame does, once the socket said hello."""

from __future__ import annotations

import structlog

from contactcenter.bus import Bus
from contactcenter.channels.chat import messages
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.batch import PostIn
from contactcenter.channels.chat.events import TOPIC_REALTIME, Typing
from contactcenter.channels.chat.models import Conversation
from contactcenter.channels.chat.schemas import ConversationOut, SenderKind, StartIn
from contactcenter.channels.chat.writer import ChatWriter
from contactcenter.db import Database
from contactcenter.http import ApiError
from contactcenter.realtime import routing_frames
from contactcenter.realtime.connection import Connection
from contactcenter.realtime.schemas import (
    CLOSE_BAD_FRAME,
    CLOSE_RATE,
    Ack,
    AgentStateIn,
    ClientFrame,
    CloseConversation,
    Hello,
    OfferAnswer,
    Ping,
    Pong,
    Send,
    Sent,
    Start,
    TypingIn,
)
from contactcenter.settings import Settings

log = structlog.get_logger("realtime")


class FrameHandler:
    def __init__(self, conn: Connection, db: Database, bus: Bus, settings: Settings, writer: ChatWriter) -> None:
        self.conn, self.db, self.bus, self.settings, self.writer = conn, db, bus, settings, writer

    async def _conversation(self, conversation_id: str) -> Conversation | None:
        async with self.db.session() as s:
            try:
                conv = await chat.get_conversation(s, conversation_id=conversation_id)
            except ApiError:
                conv = None
        if conv is None or not self.conn.owns(conv):
            # Same answer for "missing" and "not yours": ids of others' conversations reveal nothing.
            self.conn.fail("conversation_not_found", "no such conversation for you", ref=conversation_id)
            return None
        return conv

    async def handle(self, frame: ClientFrame) -> None:
        conn = self.conn
        if not conn.frames.take():
            conn.fail("rate_limited", "too many frames; slow down", close=CLOSE_RATE if conn.frames.flooding else None)
            return
        if isinstance(frame, Ping):
            conn.push(Pong(t=frame.t))
        elif isinstance(frame, Hello):
            conn.fail("out_of_order", "hello was already received", close=CLOSE_BAD_FRAME)
        elif isinstance(frame, Send):
            await self._send(frame)
        elif isinstance(frame, Ack):
            await self._ack(frame)
        elif isinstance(frame, TypingIn):
            await self._typing(frame)
        elif isinstance(frame, Start):
            await self._start(frame)
        elif isinstance(frame, AgentStateIn | OfferAnswer):
            await routing_frames.handle(conn, self.db, self.bus, frame)
        elif isinstance(frame, CloseConversation):
            conv = await self._conversation(frame.conversation_id)
            if conv is not None:
                async with self.db.session() as s:
                    await chat.close_conversation(s, self.bus, conversation_id=conv.id, by=conn.who.side)

    async def _typing(self, frame: TypingIn) -> None:
        conn = self.conn
        # Typing comes twice per message or so: the state this socket was last sent answers without a read.
        conv: Conversation | ConversationOut | None = conn.known.get(frame.conversation_id)
        if conv is None or not conn.owns(conv):
            conv = await self._conversation(frame.conversation_id)
        if conv is None or conv.status == "closed":
            return
        await self._publish_quietly(
            Typing(
                conversation_id=conv.id,
                customer_id=conv.customer_id,
                agent_id=conv.agent_id,
                sender=conn.who.side,
                name=conn.who.name if conn.is_agent else conv.customer_name,
                state=frame.state,
            )
        )

    async def _hits(self, key: str, window_s: int) -> int:
        # Shared limits live on the bus; while it is down the per-socket buckets still hold, and a
        # customer's message matters more than the cross-socket count: fail open.
        try:
            return await self.bus.hit(key, window_s)
        except Exception:
            return 0

    async def _publish_quietly(self, event: Typing) -> None:
        try:
            await self.bus.publish_event(TOPIC_REALTIME, event)
        except Exception:
            return  # typing indicators are throwaway

    async def _start(self, frame: Start) -> None:
        conn = self.conn
        if conn.is_agent:
            conn.fail("forbidden", "only customers start chats", ref="start")
            return
        if await self._hits(f"chat:start:{conn.who.id}", 60) > 10:
            conn.fail("rate_limited", "too many new chats; wait a minute", ref="start")
            return
        async with self.db.session() as s:
            out = await chat.start_conversation(
                s,
                self.bus,
                customer_id=conn.who.id,
                capacity=self.settings.chat_capacity,
                region=self.settings.default_phone_region,
                data=StartIn(name=frame.name, email=frame.email, topic=frame.topic, page_url=frame.page_url),
            )
            conv = await chat.get_conversation(s, conversation_id=out.id)
        await conn.track(conv, conn.delivered.get(conv.id, 0))

    async def _send(self, frame: Send) -> None:
        conn = self.conn
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
        if frame.conversation_id not in conn.delivered and await self._conversation(frame.conversation_id) is None:
            return
        conv_id = frame.conversation_id
        if conn.who.side == "customer" and await self._hits(f"chat:msg:{conn.who.id}", 10) > 60:
            conn.fail("rate_limited", "too many messages from this visitor", ref=frame.client_id)
            return
        sender = SenderKind.agent if conn.is_agent else SenderKind.customer
        try:
            if frame.attachments:  # rare, and checked against the uploads: the one-by-one path
                async with self.db.session() as s:
                    msg, dup = await messages.post_message(
                        s,
                        self.bus,
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
        # The sender's own copy arrives in order like any other message (the bus may be slower).
        await conn.deliver(msg)

    async def _ack(self, frame: Ack) -> None:
        conn = self.conn
        delivered = conn.delivered.get(frame.conversation_id)
        if delivered is None or frame.seq > delivered:
            # Not something this socket was sent: check against the database (history read over HTTP).
            conv = await self._conversation(frame.conversation_id)
            if conv is None:
                return
            if frame.seq > conv.last_seq:
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

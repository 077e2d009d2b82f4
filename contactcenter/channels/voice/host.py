"""The media side of voice (decision 57): a process that bridges calls. It is present on the bus while it runs
(a lease it renews), takes the requests web processes forward to it on its own topic, and answers each on
the sender's reply topic. A web process in `inprocess` mode is a host too and calls `handle` directly for
the calls it holds; `contactcenter voice-worker` runs a host and nothing else (worker.py).

What may be done to which call was checked by the web process that got the frame (frames.py): a request
here is trusted, and only the call's own state (is it live, is there a leg) is checked."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import structlog

from contactcenter.bus import Bus, BusMessage
from contactcenter.bus.listen import listen
from contactcenter.channels.voice import service
from contactcenter.channels.voice.answer import AnswerWatch
from contactcenter.channels.voice.bridge import BadSdp, Call
from contactcenter.channels.voice.events import HOSTS, VoiceReply, VoiceRequest, host_topic
from contactcenter.channels.voice.recording import Checked
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import Database
from contactcenter.http import ApiError
from contactcenter.routing import service as routing
from contactcenter.routing.schemas import TransferIn
from contactcenter.settings import Settings

log = structlog.get_logger("voice")


async def _noop(call: Call, by: str, reason: str, checked: Checked | None) -> None:
    return None


def _error(req: VoiceRequest, code: str, detail: str) -> VoiceReply:
    return VoiceReply(id=req.id, error=code, detail=detail)


class Host:
    def __init__(self, db: Database, bus: Bus, settings: Settings) -> None:
        self.db, self.bus, self.settings = db, bus, settings
        self.id = uuid.uuid4().hex
        self.watch = AnswerWatch(db, bus, settings)
        self.subscribed = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.pending: set[asyncio.Task[None]] = set()
        self.served = 0  # requests forwarded by other processes and answered

    async def start(self) -> None:
        # Present before anything can be placed here: a call on a host nobody sees would be reaped.
        await self.bus.mark_present(HOSTS, self.id, self.settings.voice_worker_ttl_s)
        self.watch.start()
        self.tasks = [
            asyncio.create_task(self._heartbeat(), name="voice-host-lease"),
            asyncio.create_task(self._listen(), name="voice-host-requests"),
        ]
        async with asyncio.timeout(10):
            await self.subscribed.wait()
        log.info("voice_host_started", host=self.id)

    async def stop(self) -> None:
        """End this host's calls (logged as `shutdown`), then leave."""
        for call in list(service.calls.values()):
            if call.owner is self.db:  # another app of this process (tests) keeps its own
                await call.end("system", "shutdown")
        await self.watch.stop()
        for task in [*self.tasks, *self.pending]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.bus.mark_absent(HOSTS, self.id)

    def holds(self, conversation_id: str) -> bool:
        call = service.calls.get(conversation_id)
        return call is not None and call.owner is self.db

    def load(self) -> int:
        return sum(1 for c in service.calls.values() if c.owner is self.db)

    async def _heartbeat(self) -> None:
        ttl = self.settings.voice_worker_ttl_s
        while True:
            await asyncio.sleep(ttl / 4)
            try:
                await self.bus.mark_present(HOSTS, self.id, ttl)
            except Exception as exc:  # Redis away: renewed on the next beat (a lease outlives three misses)
                log.warning("voice_lease_failed", error=repr(exc))

    async def _listen(self) -> None:
        async def on_message(msg: BusMessage) -> None:
            try:
                req = VoiceRequest.model_validate_json(msg.data)
            except ValueError:
                log.warning("bad_voice_request", size=len(msg.data))
                return
            task = asyncio.create_task(self._serve(req), name=f"voice-request-{req.op}")
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)

        await listen(self.bus, [host_topic(self.id)], on_message, what="voice host", subscribed=self.subscribed)

    async def _serve(self, req: VoiceRequest) -> None:
        reply = await self.handle(req)
        self.served += 1
        try:
            await self.bus.publish(req.reply_to, reply.model_dump_json())
        except Exception as exc:  # the sender times out and says so to its socket
            log.warning("publish_failed", what="voice.reply", error=repr(exc))

    async def handle(self, req: VoiceRequest) -> VoiceReply:
        try:
            if req.op == "call":
                return await self._call(req)
            call = service.calls.get(req.conversation_id)
            if call is None or call.ended or call.owner is not self.db:
                return _error(req, "call_not_found", "this call has ended")
            return await self._on(call, req)
        except Exception as exc:
            log.exception("voice_request_failed", op=req.op, conversation_id=req.conversation_id)
            return _error(req, "voice_failed", f"the call could not do that: {exc.__class__.__name__}")

    async def _call(self, req: VoiceRequest) -> VoiceReply:
        settings, data = self.settings, req.call
        if data is None or req.sdp is None:
            return _error(req, "invalid_frame", "a call needs the customer's frame")
        if self.load() >= settings.voice_max_calls:
            return _error(req, "busy", "no line is free; try again in a moment")
        # The offer is checked before anything is stored: a bad one leaves no conversation behind.
        call = Call(
            "",
            req.user_id,
            ice_urls=service.ice_urls(settings),
            recording=None,
            on_end=_noop,
            connect_timeout_s=settings.voice_connect_timeout_s,
        )
        try:
            answer = await call.customer_offer(req.sdp)
        except BadSdp as exc:
            return _error(req, "bad_sdp", str(exc))

        async def ended(c: Call, by: str, reason: str, checked: Checked | None) -> None:
            await service.finish(self.db, self.bus, c, by=by, reason=reason, checked=checked)

        def filed(conv: ConversationOut) -> None:
            call.conversation_id = conv.id
            if settings.voice_record:
                call.recording_path = service.recording_path(settings, conv.id)
            call.on_end, call.owner = ended, self.db
            service.calls[conv.id] = call

        try:
            async with self.db.write_gate(), self.db.session() as s:
                conv = await service.start_call(
                    s,
                    self.bus,
                    customer_id=req.user_id,
                    data=data,
                    region=settings.default_phone_region,
                    host_id=self.id,
                    filed=filed,
                )
        except ApiError as exc:
            await call.end("customer", "refused")
            return _error(req, exc.code, str(exc.detail))
        return VoiceReply(id=req.id, sdp=answer, conversation=conv, state=service.state_of(call))

    async def _on(self, call: Call, req: VoiceRequest) -> VoiceReply:
        ok = VoiceReply(id=req.id)
        if req.op == "answer" and req.sdp is not None:
            try:
                answer = await call.agent_offer(req.user_id, req.sdp)
            except BadSdp as exc:
                return _error(req, "bad_sdp", str(exc))
            return ok.model_copy(update={"sdp": answer, "state": service.state_of(call, agent_name=req.name)})
        if req.op == "hold":
            call.hold(req.on)
            return ok.model_copy(update={"state": service.state_of(call, agent_name=req.name)})
        if req.op == "mute":
            call.mute(req.side, req.on)
            return ok.model_copy(update={"state": service.state_of(call)})
        if req.op == "hangup":
            await call.end(req.side, "hangup")
            return ok
        if req.op == "transfer":
            return await self._transfer(call, req)
        if req.op == "monitor":
            return await self._monitor(call, req)
        return _error(req, "invalid_frame", f"{req.op} needs an SDP offer")

    async def _transfer(self, call: Call, req: VoiceRequest) -> VoiceReply:
        try:
            data = TransferIn(queue=req.queue, agent_id=req.agent_id, note=req.note)
        except ValueError as exc:
            return _error(req, "invalid_frame", str(exc))
        try:
            async with self.db.session() as s:
                await routing.transfer(
                    s, self.bus, contact_id=call.conversation_id, data=data, by=req.user_id, own_only=req.own_only
                )
        except ApiError as exc:
            return _error(req, exc.code, str(exc.detail))
        await call.drop_agent()
        return VoiceReply(id=req.id, state=service.state_of(call))

    async def _monitor(self, call: Call, req: VoiceRequest) -> VoiceReply:
        mine = call.supervisor is not None and call.supervisor.user_id == req.user_id
        answer: str | None = None
        if not req.on:
            if mine:
                await call.drop_supervisor()
        elif req.sdp is not None:
            try:
                answer = await call.supervisor_offer(req.user_id, req.sdp, req.mode)
            except BadSdp as exc:
                return _error(req, "bad_sdp", str(exc))
        elif mine:
            call.supervisor_mode = req.mode
        else:
            return _error(req, "no_leg", "send your SDP offer first (voice_monitor with sdp)")
        joined = req.name if req.on and req.mode == "barge" else None
        state = service.state_of(call, agent_name=req.agent_name, joined_by=joined)
        return VoiceReply(id=req.id, sdp=answer, state=state)

"""The web side of voice (decision 57): where a checked frame goes. A call this process bridges is handled here
(host.py, no bus); one bridged elsewhere is forwarded to its process's topic and the reply awaited on this
process's own. A new call goes to this process's host (`inprocess`) or to the least loaded voice worker
(`external`). Every web process also looks for calls whose process is gone (its lease ran out) and ends them
as `worker_lost`: the conversation closes, the agent is freed, the touch is logged."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid

import structlog
from sqlalchemy import func, select

from contactcenter.bus import Bus, BusMessage
from contactcenter.bus.listen import listen
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.channels.voice import recording, service
from contactcenter.channels.voice.events import HOSTS, VoiceReply, VoiceRequest, host_topic, reply_topic
from contactcenter.channels.voice.host import Host
from contactcenter.channels.voice.models import CallHost
from contactcenter.channels.voice.schemas import VoiceState
from contactcenter.conversations import service as conversations
from contactcenter.db import Database
from contactcenter.settings import Settings

log = structlog.get_logger("voice")
LOST = service.LOST


class Lines:
    def __init__(self, db: Database, bus: Bus, settings: Settings, host: Host | None) -> None:
        self.db, self.bus, self.settings, self.host = db, bus, settings, host
        self.id = uuid.uuid4().hex
        self.waiting: dict[str, asyncio.Future[VoiceReply]] = {}
        self.subscribed = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self._listen(), name="voice-lines-replies"),
            asyncio.create_task(self._reaper(), name="voice-lines-reaper"),
        ]
        async with asyncio.timeout(10):
            await self.subscribed.wait()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for fut in self.waiting.values():
            fut.cancel()

    def request(self, op: str, **fields: object) -> VoiceRequest:
        return VoiceRequest.model_validate(
            {"id": uuid.uuid4().hex, "reply_to": reply_topic(self.id), "op": op, **fields}
        )

    # --- where a request goes -----------------------------------------------------------------------------

    async def place(self, req: VoiceRequest) -> VoiceReply:
        """A new call: on this process's host, or on the voice worker with the fewest calls."""
        if self.host is not None:
            return await self.host.handle(req)
        alive = await self._alive()
        if not alive:
            return VoiceReply(id=req.id, error="no_voice_worker", detail="no voice worker is running; try again later")
        async with self.db.session() as s:
            rows = await s.execute(
                select(CallHost.host_id, func.count())
                .where(CallHost.ended_at.is_(None), CallHost.host_id.in_(alive))
                .group_by(CallHost.host_id)
            )
            load = {h: int(n) for h, n in rows.all()}
        fewest = min(load.get(h, 0) for h in alive)
        return await self._send(random.choice([h for h in alive if load.get(h, 0) == fewest]), req)

    async def to_call(self, req: VoiceRequest) -> VoiceReply:
        """A request for a live call, wherever it is bridged; `call_not_found` when it is nowhere."""
        if self.host is not None and self.host.holds(req.conversation_id):
            return await self.host.handle(req)
        async with self.db.session() as s:
            owner = await s.scalar(
                select(CallHost.host_id).where(
                    CallHost.conversation_id == req.conversation_id, CallHost.ended_at.is_(None)
                )
            )
        if owner is None or (self.host is not None and owner == self.host.id):
            return VoiceReply(id=req.id, error="call_not_found", detail="no live call for this conversation")
        if owner not in await self._alive():
            await self.lost(req.conversation_id)
            return VoiceReply(id=req.id, error="call_not_found", detail="this call's voice worker has stopped")
        return await self._send(owner, req)

    async def _alive(self) -> list[str]:
        return sorted(await self.bus.present(HOSTS))

    async def _send(self, host_id: str, req: VoiceRequest) -> VoiceReply:
        fut: asyncio.Future[VoiceReply] = asyncio.get_running_loop().create_future()
        self.waiting[req.id] = fut
        try:
            await self.bus.publish(host_topic(host_id), req.model_dump_json())
            async with asyncio.timeout(self.settings.voice_request_timeout_s):
                return await fut
        except TimeoutError:
            log.warning("voice_request_unanswered", op=req.op, host=host_id, conversation_id=req.conversation_id)
            return VoiceReply(id=req.id, error="voice_unavailable", detail="the call's voice worker did not answer")
        except Exception as exc:  # the bus is away
            log.warning("voice_request_failed", op=req.op, error=repr(exc))
            return VoiceReply(id=req.id, error="voice_unavailable", detail="the voice workers cannot be reached")
        finally:
            self.waiting.pop(req.id, None)

    async def _listen(self) -> None:
        async def on_message(msg: BusMessage) -> None:
            try:
                reply = VoiceReply.model_validate_json(msg.data)
            except ValueError:
                return
            fut = self.waiting.get(reply.id)
            if fut is not None and not fut.done():
                fut.set_result(reply)

        await listen(self.bus, [reply_topic(self.id)], on_message, what="voice replies", subscribed=self.subscribed)

    # --- calls whose process is gone ------------------------------------------------------------------------

    async def _reaper(self) -> None:
        every = self.settings.voice_worker_ttl_s / 2
        while True:
            await asyncio.sleep(every)
            try:
                await self.reap()
            except Exception as exc:  # the database or the bus is away: looked at again on the next round
                log.warning("voice_reap_failed", error=repr(exc))

    async def reap(self) -> None:
        async with self.db.session() as s:
            open_calls = (
                await s.execute(select(CallHost.conversation_id, CallHost.host_id).where(CallHost.ended_at.is_(None)))
            ).all()
        if not open_calls:
            return
        alive = set(await self._alive())
        for conversation_id, host_id in open_calls:
            if host_id not in alive and not (self.host is not None and host_id == self.host.id):
                await self.lost(conversation_id)

    async def lost(self, conversation_id: str) -> None:
        """End a call whose process is gone: once, by whichever process claims it first."""
        async with self.db.write_gate(), self.db.session() as s:
            if not await service.claim_end(s, conversation_id, LOST):
                await s.commit()
                return
            conv = await conversations.get(s, conversation_id=conversation_id)
            # What was recorded until the process stopped is kept (when the recordings folder is shared).
            try:
                kept = recording.salvage(service.recording_path(self.settings, conversation_id))
            except OSError as exc:  # a folder not shared, a full disk: the call still ends, the file stays
                log.warning("voice_salvage_failed", conversation_id=conversation_id, error=repr(exc))
                kept = None
            summary = "Call cut off: the process bridging it stopped"
            if kept is not None:
                summary += f"; its recording until then was kept ({kept.seconds:.0f} s)"
            touch = await ccr.add_touch(
                s,
                touch=TouchIn(
                    customer_id=conv.customer_id,
                    channel=Channel.voice,
                    kind=TouchKind.call,
                    direction=Direction.internal,
                    agent_id=conv.agent_id,
                    conversation_id=conv.id,
                    summary=summary,
                    payload={
                        "ended_by": "system",
                        "reason": LOST,
                        "recording": kept is not None,
                        # Not checked against the talk time (that process's count is gone); only its length.
                        "recording_ok": None,
                        "recording_partial": kept is not None,
                        "recording_s": round(kept.seconds, 2) if kept is not None else None,
                    },
                ),
            )
            await s.commit()
            log.error("voice_call_lost", conversation_id=conversation_id)
            with contextlib.suppress(Exception):
                await ccr.publish_touches(self.bus, [touch])
            await service.tell(
                self.bus,
                conv,
                VoiceState(
                    conversation_id=conv.id, state="ended", ended_by="system", reason=LOST, recording=kept is not None
                ),
            )
            if conv.status != "closed":
                await conversations.close(s, self.bus, conversation_id=conv.id, by="system")

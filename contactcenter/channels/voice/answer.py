"""A call routed to an agent who never answers it (their console froze, they walked away): after
CC_VOICE_ANSWER_TIMEOUT_S the agent is set away ("Missed a call") and the call goes back to its queue for the
next agent, ahead of nothing it was not already ahead of; after CC_VOICE_ANSWER_ATTEMPTS such misses it ends
as `no_answer`. Each process that bridges calls (host.py) watches the calls whose media it holds (decisions
41, 57), from the conversations core's events; a call of its own closed elsewhere ends here too."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from contactcenter.bus import Bus, BusMessage
from contactcenter.bus.listen import listen
from contactcenter.channels.voice import service
from contactcenter.conversations import service as conversations
from contactcenter.conversations.events import TOPIC_CONVERSATIONS, ConversationChanged, changed
from contactcenter.db import Database
from contactcenter.routing import presence
from contactcenter.routing import service as routing
from contactcenter.routing.schemas import StateIn, TransferIn
from contactcenter.settings import Settings

log = structlog.get_logger("voice")
MISSED_REASON = "Missed a call"


class AnswerWatch:
    def __init__(self, db: Database, bus: Bus, settings: Settings) -> None:
        self.db, self.bus, self.settings = db, bus, settings
        self.timers: dict[str, asyncio.TimerHandle] = {}  # conversation id -> the check for its agent
        self.misses: dict[str, int] = {}
        self.task: asyncio.Task[None] | None = None
        self.pending: set[asyncio.Task[None]] = set()
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        self.task = asyncio.create_task(self._listen(), name="answer-watch:voice")

    async def stop(self) -> None:
        for t in self.timers.values():
            t.cancel()
        self.timers.clear()
        for task in [self.task, *self.pending]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _listen(self) -> None:
        # While the bus is away, calls assigned meanwhile are checked on the next event.
        async def on_message(msg: BusMessage) -> None:
            if (event := changed(msg)) is not None:
                self.seen(event)

        await listen(self.bus, [TOPIC_CONVERSATIONS], on_message, what="voice answer watch", subscribed=self.subscribed)

    def seen(self, event: ConversationChanged) -> None:
        conv = event.conversation
        if conv.channel != service.CHANNEL:
            return
        # Whose media it is, is asked when the timer fires: the first assignment can be announced before the
        # process that took the customer's offer has filed the call.
        old = self.timers.pop(conv.id, None)
        if old is not None:
            old.cancel()
        if conv.status == "closed":
            self.misses.pop(conv.id, None)
            # Closed elsewhere (the core's close frame on another process): the media here ends too.
            call = service.calls.get(conv.id)
            if call is not None and call.owner is self.db:
                call.end_soon("agent", "closed")
        elif conv.status == "assigned" and conv.agent_id is not None:
            agent_id = conv.agent_id
            self.timers[conv.id] = asyncio.get_running_loop().call_later(
                self.settings.voice_answer_timeout_s, self._fire, conv.id, agent_id, conv.queue
            )

    def _fire(self, conversation_id: str, agent_id: int, queue: str) -> None:
        self.timers.pop(conversation_id, None)
        task = asyncio.create_task(self.check(conversation_id, agent_id, queue))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def check(self, conversation_id: str, agent_id: int, queue: str) -> None:
        call = service.calls.get(conversation_id)
        if call is None or call.owner is not self.db:
            self.misses.pop(conversation_id, None)
            return  # not a call of this app's process
        if call.ended or (call.agent is not None and call.agent.user_id == agent_id):
            return  # answered (or over) in time
        misses = self.misses[conversation_id] = self.misses.get(conversation_id, 0) + 1
        log.warning("voice_not_answered", conversation_id=conversation_id, agent=agent_id, misses=misses)
        try:
            async with self.db.session() as s:
                # Away first, so the call is not offered straight back to the agent who let it ring.
                await presence.set_state(
                    s, self.bus, agent_id=agent_id, data=StateIn(state="away", reason=MISSED_REASON), by=agent_id
                )
                if misses >= self.settings.voice_answer_attempts:
                    await call.end("system", "no_answer")
                    return
                await routing.transfer(
                    s,
                    self.bus,
                    contact_id=conversation_id,
                    data=TransferIn(queue=queue, note=f"not answered in {self.settings.voice_answer_timeout_s:g} s"),
                    by=agent_id,
                    own_only=False,
                )
        except Exception as exc:  # routing or the database is away: the call keeps ringing; the log says why
            log.error("voice_requeue_failed", conversation_id=conversation_id, error=repr(exc))
            return
        await call.drop_agent()  # the customer hears the music while the call finds its next agent
        async with self.db.session() as s:
            conv = await conversations.get(s, conversation_id=conversation_id)
        await service.tell(self.bus, conv, service.state_of(call))

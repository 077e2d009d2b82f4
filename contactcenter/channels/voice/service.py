"""Voice calls as conversations: a call opens a routed `voice` conversation (with its CCR touch); its end
closes the conversation and logs the call with its durations and recording. The live calls of this process
are kept here by conversation id (the media of a call lives in one process: decision 41); which process
holds each call is in `voice_calls` (decision 57)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.channels.voice.bridge import Call
from contactcenter.channels.voice.events import to_call
from contactcenter.channels.voice.models import CallHost
from contactcenter.channels.voice.recording import Checked
from contactcenter.channels.voice.schemas import VoiceCall, VoiceState
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut, OpenIn
from contactcenter.db import Database, utcnow
from contactcenter.http import ApiError
from contactcenter.realtime.events import TOPIC_REALTIME
from contactcenter.routing.model import Channel as Medium
from contactcenter.settings import Settings

CHANNEL = "voice"
LOST = "worker_lost"  # a call's end reason when the process bridging it is gone (lines.py)
log = structlog.get_logger("voice")
# conversation id -> the call bridged by this process (conversation ids are UUIDs: apps in one test process
# never share one)
calls: dict[str, Call] = {}


def ice_urls(settings: Settings) -> list[str]:
    return [u.strip() for u in settings.voice_ice_urls.split(",") if u.strip()]


def recording_path(settings: Settings, conversation_id: str) -> Path:
    return settings.voice_recordings_dir / f"{conversation_id}.wav"


def state_of(call: Call, agent_name: str | None = None, **extra: str | None) -> VoiceState:
    c, a = call.customer, call.agent
    return VoiceState(
        conversation_id=call.conversation_id,
        state=call.state,
        customer_muted=bool(c and c.muted),
        agent_muted=bool(a and a.muted),
        recording=call.recorder is not None,
        agent_name=agent_name,
        **extra,
    )


async def tell(bus: Bus, conv: ConversationOut, frame: VoiceState) -> None:
    """The call's state to its customer, its agent and supervisors following it (after any commit)."""
    try:
        await bus.publish_event(
            TOPIC_REALTIME, to_call(conv.id, customer_id=conv.customer_id, agent_id=conv.agent_id, frame=frame)
        )
    except Exception as exc:  # the state is shown again on the next change
        log.warning("publish_failed", what="voice_state", error=repr(exc))


async def start_call(
    session: AsyncSession,
    bus: Bus,
    *,
    customer_id: int,
    data: VoiceCall,
    region: str,
    host_id: str,
    filed: Callable[[ConversationOut], None],
) -> ConversationOut:
    """A new voice conversation, logged in the CCR and routed, with the row saying `host_id` bridges it.
    `filed` runs once it is stored and before it is routed (an agent's answer can come at once). 409 when
    the customer has a call open."""
    if await conversations.open_for_customer(session, customer_id=customer_id, channel=CHANNEL):
        raise ApiError(409, "call_in_progress", "this visitor already has a call open")
    name = (data.name or "").strip() or ccr.VISITOR_NAME
    await ccr.fill_from_contact(session, customer_id=customer_id, name=data.name, email=None, region=region)
    conv = await conversations.stage_open(
        session,
        data=OpenIn(
            customer_id=customer_id,
            channel=CHANNEL,
            customer_name=name,
            queue=data.queue,
            topic=data.topic,
            page_url=data.page_url,
            lang=data.lang,
        ),
    )
    touch = await ccr.add_touch(
        session,
        touch=TouchIn(
            customer_id=customer_id,
            channel=Channel.voice,
            kind=TouchKind.call,
            direction=Direction.inbound,
            conversation_id=conv.id,
            summary=f"Call started{': ' + data.topic if data.topic else ''}",
            payload={"name": name, "page_url": data.page_url, "lang": data.lang},
        ),
    )
    session.add(CallHost(conversation_id=conv.id, host_id=host_id))
    await session.commit()
    filed(conv)
    await _publish(bus, [touch])
    return await conversations.opened(session, bus, conversation=conv)


async def _publish(bus: Bus, touches: list[Touch]) -> None:
    try:
        await ccr.publish_touches(bus, touches)
    except Exception as exc:  # stored already: timelines catch up from the database
        log.warning("publish_failed", what="ccr.touch_logged", error=repr(exc))


def _mmss(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


async def finish(db: Database, bus: Bus, call: Call, *, by: str, reason: str, checked: Checked | None) -> None:
    """After both legs are down: the conversation closes (unless it already has) and the call is logged with
    its durations and recording; both sides hear that it ended."""
    calls.pop(call.conversation_id, None)
    duration = call.stats.ticks * 0.02
    async with db.write_gate(), db.session() as s:
        if not await claim_end(s, call.conversation_id, reason):
            # Another process took this process for gone and ended the call already (lines.py).
            log.warning("voice_end_taken", conversation_id=call.conversation_id, reason=reason)
            await s.commit()
            return
        conv = await conversations.get(s, conversation_id=call.conversation_id)
        summary = f"Call of {_mmss(duration)}, talk {_mmss(call.talk_s)}, ended by {by}"
        if reason != "hangup":
            summary += f" ({reason})"
        if checked is not None:
            summary += ", recorded" if checked.ok else ", recording failed its check"
        touch = await ccr.add_touch(
            s,
            touch=TouchIn(
                customer_id=conv.customer_id,
                channel=Channel.voice,
                kind=TouchKind.call,
                direction=Direction.internal,
                agent_id=conv.agent_id,
                conversation_id=conv.id,
                summary=summary[:500],
                payload={
                    "duration_s": round(duration, 2),
                    "talk_s": round(call.talk_s, 2),
                    "ended_by": by,
                    "reason": reason,
                    "agents": call.stats.agents,
                    "customer_missing_ticks": call.stats.customer_missing,
                    "agent_missing_ticks": call.stats.agent_missing,
                    "frames_expected": call.stats.frames_expected,
                    "frames_received": call.stats.frames_received,
                    "loss_pct": round(call.loss_pct, 3),
                    "recording": checked is not None,
                    "recording_ok": checked.ok if checked is not None else None,
                    "recording_s": round(checked.seconds, 2) if checked is not None else None,
                },
            ),
        )
        await s.commit()
        await _publish(bus, [touch])
        await tell(bus, conv, state_of(call, ended_by=by, reason=reason))
        if conv.status != "closed":
            await conversations.close(s, bus, conversation_id=conv.id, by=by)
    if checked is not None and not checked.ok:
        log.error("voice_recording_check_failed", conversation_id=call.conversation_id, detail=checked.detail)


async def claim_end(session: AsyncSession, conversation_id: str, reason: str) -> bool:
    """Mark the call ended (in the caller's transaction); False when someone did already."""
    res = await session.execute(
        update(CallHost)
        .where(CallHost.conversation_id == conversation_id, CallHost.ended_at.is_(None))
        .values(ended_at=utcnow(), reason=reason[:32])
    )
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]


async def _on_close(session: AsyncSession, conversation_id: str) -> str | None:
    # Closed by another path (the core's close frame, a supervisor): this process's call ends too. A call
    # bridged by another process (or another app of this one: tests) ends there, on the closing's event
    # (answer.py).
    call = calls.get(conversation_id)
    if call is None or getattr(call.owner, "engine", None) is not session.bind:
        return None
    call.end_soon("agent", "closed")
    return f"after {_mmss(call.talk_s)} of talk"


# Calls that ended because the line or our side failed (LOST: the process bridging it died; "shutdown": the
# server stopping): the customer is not asked to rate the agent for them.
BROKEN = frozenset({"lost", "no_media", "no_answer", "shutdown", LOST})


async def _rateable(session: AsyncSession, conversation_id: str) -> bool:
    reason = await session.scalar(select(CallHost.reason).where(CallHost.conversation_id == conversation_id))
    return reason not in BROKEN


conversations.register_channel(
    conversations.ChannelSpec(
        name=CHANNEL,
        label="Call",
        medium=Medium.voice,
        touch_channel=Channel.voice,
        on_close=_on_close,
        rateable=_rateable,
    )
)

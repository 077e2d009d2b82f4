"""Co-browse sessions: consent (agent requests, customer accepts, either stops), the relay of the
customer's scanned events to the conversation's agent, and the session's CCR touch when it ends."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import orjson
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.cobrowse.events import Side, to_side
from contactcenter.cobrowse.models import CobrowseSession
from contactcenter.cobrowse.scan import TooDeep, scan
from contactcenter.cobrowse.schemas import (
    FULL_SNAPSHOT,
    META,
    CobrowsePointer,
    EventsFrame,
    PointerFrame,
    RrwebEvent,
    SessionOut,
    SnapshotNeeded,
    StateFrame,
    WarningFrame,
)
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import Database, utcnow
from contactcenter.http import ApiError
from contactcenter.realtime.events import TOPIC_REALTIME

log = structlog.get_logger("cobrowse")
LIVE = ("requested", "on")
MAX_PAGES = 200
By = Literal["customer", "agent", "closed", "transfer"]  # closed/transfer: its conversation, under it
# Each batch of events needs its session's state: this process keeps what it read for CACHE_S (a read per
# frame was the relay's main cost). Its own changes drop the entry at once; a change made in another process
# (an agent's stop there) is seen here within CACHE_S, and the widget stops on the cobrowse_state it gets.
CACHE_S = 1.0
CACHE_MAX = 10_000
_cache: dict[str, tuple[float, SessionOut | None]] = {}


def _forget(conversation_id: str) -> None:
    _cache.pop(conversation_id, None)


async def _current(db: Database, conversation_id: str) -> SessionOut | None:
    now = time.monotonic()
    hit = _cache.get(conversation_id)
    if hit is not None and now - hit[0] < CACHE_S:
        return hit[1]
    async with db.session() as s:
        row = await _live(s, conversation_id)
        found = SessionOut.model_validate(row) if row is not None else None
    if found is not None and found.state == "on":  # a refusal is always read afresh
        _remember(found, now)
    return found


def _remember(found: SessionOut, now: float) -> None:
    if len(_cache) >= CACHE_MAX:
        _cache.clear()
    # Aged by a random part of CACHE_S: sessions that started together (a burst of snapshots) do not all
    # expire, and read the database, in the same instant every second.
    _cache[found.conversation_id] = (now - random.uniform(0, CACHE_S / 2), found)


async def _live(session: AsyncSession, conversation_id: str, *, lock: bool = False) -> CobrowseSession | None:
    q = select(CobrowseSession).where(
        CobrowseSession.conversation_id == conversation_id, CobrowseSession.state.in_(LIVE)
    )
    if lock:  # PostgreSQL: a second ender waits, then finds it ended (SQLite has one writer: the write gate)
        q = q.with_for_update()
    return (await session.scalars(q.limit(1))).first()


async def live_session(session: AsyncSession, *, conversation_id: str) -> SessionOut | None:
    """The conversation's session that is requested or on, if any."""
    row = await _live(session, conversation_id)
    return SessionOut.model_validate(row) if row is not None else None


async def _tell(bus: Bus, conv: ConversationOut, side: Side, *frames: Any) -> None:
    events = [
        to_side(conv.id, customer_id=conv.customer_id, agent_id=conv.agent_id, side=side, frame=f) for f in frames
    ]
    await bus.publish_events(TOPIC_REALTIME, events)


def _state(row: CobrowseSession) -> StateFrame:
    by = row.ended_by if row.ended_by in ("customer", "agent") else None
    control = row.control if row.control in ("asked", "on") and row.state == "on" else "off"
    return StateFrame(conversation_id=row.conversation_id, session_id=row.id, state=row.state, by=by, control=control)


async def request(session: AsyncSession, bus: Bus, *, conv: ConversationOut, agent_id: int) -> SessionOut:
    """The conversation's agent asks; asked again while on, the customer is asked for a fresh snapshot."""
    if conv.agent_id != agent_id:
        raise ApiError(403, "not_your_conversation", "only the conversation's agent co-browses")
    if conv.status == "closed":
        raise ApiError(409, "conversation_closed", "the conversation is closed")
    row = await _live(session, conv.id)
    if row is None:
        row = CobrowseSession(
            id=str(uuid.uuid4()), conversation_id=conv.id, customer_id=conv.customer_id, agent_id=agent_id,
            state="requested", pages=[],
        )  # fmt: skip
        session.add(row)
        await session.commit()
        _forget(conv.id)
    out = SessionOut.model_validate(row)
    if row.state == "on":
        await _tell(bus, conv, "agent", _state(row))
        await _tell(bus, conv, "customer", SnapshotNeeded(conversation_id=conv.id, session_id=row.id))
    else:
        await _tell(bus, conv, "both", _state(row))
    return out


async def accept(
    session: AsyncSession, bus: Bus, *, conv: ConversationOut, customer_id: int, session_id: str
) -> SessionOut:
    """The customer consents (or, on a new page of the site, says it records again: a fresh snapshot follows)."""
    row = await _live(session, conv.id)
    if row is None or row.id != session_id or conv.customer_id != customer_id:
        raise ApiError(404, "cobrowse_not_found", "no co-browse request for this conversation")
    if row.state == "requested":
        row.state, row.started_at = "on", utcnow()
        await session.commit()
        _forget(conv.id)
    await _tell(bus, conv, "both", _state(row))
    return SessionOut.model_validate(row)


async def stop(session: AsyncSession, bus: Bus, *, conv: ConversationOut, by: By) -> SessionOut | None:
    """Either side ends it (a request the customer declines, too), or its conversation's close; a session that
    was on becomes a touch, once (the row is locked: two enders on two processes log one)."""
    row = await _live(session, conv.id, lock=True)
    if row is None:
        return None
    was_on = row.state == "on"
    row.state, row.ended_at, row.ended_by = "ended", utcnow(), by
    if row.end_control(row.ended_at):  # control ends with the session
        log.info("cobrowse_control_revoked", conversation_id=conv.id, session_id=row.id, by=by, reason="ended")
    if was_on and row.started_at is not None:
        seconds = round((row.ended_at - row.started_at).total_seconds(), 1)
        summary = f"Co-browsed {len(row.pages)} page(s) for {seconds:.0f} s"
        if row.control_grants:
            summary += f"; the agent had control {row.control_grants} time(s), {row.control_s:.0f} s in all"
        touch = TouchIn(
            customer_id=row.customer_id, channel=Channel.web, kind=TouchKind.cobrowse, direction=Direction.outbound,
            agent_id=row.agent_id, conversation_id=conv.id, summary=summary,
            payload={"session_id": row.id, "duration_s": seconds, "pages": list(row.pages), "ended_by": by,
                     "redactions": row.redactions, "control_grants": row.control_grants,
                     "control_s": row.control_s},
        )  # fmt: skip
        await ccr.log_touch(session, bus, touch=touch)  # commits the session's end with it
    else:
        await session.commit()
    _forget(conv.id)
    await _tell(bus, conv, "both", _state(row))
    return SessionOut.model_validate(row)


async def point(db: Database, bus: Bus, *, conv: ConversationOut, agent_id: int, frame: CobrowsePointer) -> None:
    """The agent's pointer or highlight, relayed to the customer while the session is on (nothing is kept)."""
    if conv.agent_id != agent_id:
        raise ApiError(403, "not_your_conversation", "only the conversation's agent points")
    current = await _current(db, conv.id)
    if current is None or current.state != "on":
        raise ApiError(409, "cobrowse_off", "co-browsing is not on for this conversation")
    out = PointerFrame(
        conversation_id=conv.id, session_id=current.id, kind=frame.kind, x=frame.x, y=frame.y, w=frame.w, h=frame.h
    )
    await _tell(bus, conv, "customer", out)


def page_of(href: object) -> str | None:
    """A page's address without its query and fragment (they may carry personal data)."""
    if not isinstance(href, str) or not href:
        return None
    parts = urlsplit(href[:2000])
    if parts.scheme not in ("http", "https"):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Limits:
    event_bytes: int
    snapshot_bytes: int


@dataclass
class Relayed:
    relayed: int
    redacted: list[str]


async def relay(
    db: Database, bus: Bus, *, conv: ConversationOut, customer_id: int, events: list[RrwebEvent], limits: Limits
) -> Relayed:
    """Check, scan and relay a batch of the customer's events to the conversation's agent."""
    if conv.customer_id != customer_id:
        raise ApiError(404, "conversation_not_found", "no such conversation for you")
    current = await _current(db, conv.id)
    if current is None or current.state != "on":
        raise ApiError(409, "cobrowse_off", "co-browsing is not on for this conversation")
    raw = [e.model_dump() for e in events]
    sizes = [len(orjson.dumps(e)) for e in raw]
    has_snapshot = any(e.type == FULL_SNAPSHOT for e in events)
    too_big = sum(sizes) > limits.snapshot_bytes or any(
        size > limits.event_bytes for e, size in zip(events, sizes, strict=True) if e.type != FULL_SNAPSHOT
    )
    if too_big:
        await _degrade(db, bus, conv, current, total=sum(sizes), limits=limits)
        raise ApiError(413, "cobrowse_too_big", "this page is too large to share; the agent was told")
    if current.degraded and not has_snapshot:
        return Relayed(0, [])  # meaningless without the snapshot that did not fit
    try:
        result = scan(raw)
    except TooDeep as exc:
        raise ApiError(422, "cobrowse_bad_events", str(exc)) from None
    pages = list(current.pages)
    for e in result.value:
        page = page_of(e["data"].get("href")) if e["type"] == META else None
        if page is not None and (not pages or pages[-1] != page) and len(pages) < MAX_PAGES:
            pages.append(page)
    kinds = sorted(result.found)
    if pages != current.pages or kinds or (current.degraded and has_snapshot):
        async with db.write_gate(), db.session() as s:
            stored = await s.get(CobrowseSession, current.id)
            if stored is not None:
                stored.pages, stored.degraded = pages, False if has_snapshot else stored.degraded
                stored.redactions += sum(result.found.values())
                await s.commit()
                # What this process just wrote is the session's state: no read on its next event.
                _forget(conv.id)
                if stored.state == "on":
                    _remember(SessionOut.model_validate(stored), time.monotonic())
            else:
                _forget(conv.id)
    frames: list[Any] = [EventsFrame(conversation_id=conv.id, session_id=current.id, events=result.value)]
    if kinds:
        # The log says what and how many, never the text.
        log.warning("cobrowse_redacted", conversation_id=conv.id, session_id=current.id, kinds=dict(result.found))
        frames.append(
            WarningFrame(
                conversation_id=conv.id, session_id=current.id, code="redacted", kinds=kinds,
                detail="something that looked like " + " / ".join(k.replace("_", " ") for k in kinds)
                + " was masked before it reached you",
            )
        )  # fmt: skip
    await _tell(bus, conv, "agent", *frames)
    return Relayed(len(events), kinds)


async def _degrade(
    db: Database, bus: Bus, conv: ConversationOut, current: SessionOut, *, total: int, limits: Limits
) -> None:
    log.warning("cobrowse_too_big", conversation_id=conv.id, session_id=current.id, size=total,
                limit=limits.snapshot_bytes)  # fmt: skip
    async with db.write_gate(), db.session() as s:
        stored = await s.get(CobrowseSession, current.id)
        if stored is not None:
            stored.degraded = True
            await s.commit()
    _forget(conv.id)
    detail = f"the customer's page is too large to share ({total // 1024} KiB); the view is paused"
    await _tell(bus, conv, "agent", WarningFrame(conversation_id=conv.id, session_id=current.id, code="too_big",
                                                 detail=detail))  # fmt: skip

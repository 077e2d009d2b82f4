"""Conversations of every channel: open, read, assign, requeue, close with a wrap-up outcome.

Channels register here (`register_channel`) and routing is given one set of hooks for every channel, so a
new channel only says what routing medium it is and what happens to its own rows when a conversation
closes. Other capabilities get ConversationOut schemas, never rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import service as auth
from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel as TouchChannel
from contactcenter.ccr.schemas import Direction, TouchIn, TouchKind
from contactcenter.conversations import audience as audience_mod
from contactcenter.conversations.events import TOPIC_CONVERSATIONS, ConversationChanged
from contactcenter.conversations.models import Conversation
from contactcenter.conversations.priority import contact_priority
from contactcenter.conversations.reads import OPEN as OPEN  # re-exported: channels read conversations here
from contactcenter.conversations.reads import open_for_agent as open_for_agent
from contactcenter.conversations.reads import open_for_customer as open_for_customer
from contactcenter.conversations.schemas import ConversationOut, OpenIn, OutcomeCount, OutcomeOut
from contactcenter.db import utcnow
from contactcenter.http import ApiError
from contactcenter.routing import service as routing
from contactcenter.routing.model import Channel as Medium

log = structlog.get_logger("conversations")
# What a channel does to its own rows as the conversation closes (same transaction); returns a phrase for
# the timeline ("after 12 messages") or None.
OnClose = Callable[[AsyncSession, str], Awaitable[str | None]]
# Whether the customer of a closed conversation is asked to rate it (CSAT): a channel says no for one that
# broke on our side (a call cut off), which rates the line, not the agent. None: always asked.
Rateable = Callable[[AsyncSession, str], Awaitable[bool]]


@dataclass(frozen=True)
class ChannelSpec:
    name: str  # the value of Conversation.channel
    label: str  # "Chat", for people
    medium: Medium  # how routing weighs it against an agent's capacity
    touch_channel: TouchChannel  # the CCR channel its touches are filed under
    on_close: OnClose | None = None
    rateable: Rateable | None = None


_channels: dict[str, ChannelSpec] = {}


def register_channel(spec: ChannelSpec) -> None:
    """A channel package says what its conversations are (at import; idempotent)."""
    _channels[spec.name] = spec


def channel(name: str) -> ChannelSpec | None:
    return _channels.get(name)


async def announce(bus: Bus, event: ConversationChanged) -> None:
    """Publish after the commit; a bus outage must not undo what is stored (sockets catch up from it)."""
    try:
        await bus.publish_event(TOPIC_CONVERSATIONS, event)
    except Exception as exc:
        log.warning("publish_failed", what=event.type, error=repr(exc))


def out(c: Conversation) -> ConversationOut:
    return ConversationOut.model_validate(c)


async def _row(session: AsyncSession, conversation_id: str) -> Conversation | None:
    if "\x00" in conversation_id:  # PostgreSQL would refuse the query: no such conversation
        return None
    return await session.get(Conversation, conversation_id, populate_existing=True)


async def find(session: AsyncSession, *, conversation_id: str) -> ConversationOut | None:
    """The conversation, or None."""
    row = await _row(session, conversation_id)
    return out(row) if row is not None else None


async def find_many(session: AsyncSession, *, ids: Sequence[str]) -> dict[str, ConversationOut]:
    """The conversations among `ids` that exist, by id (one query)."""
    wanted = [i for i in ids if "\x00" not in i]
    if not wanted:
        return {}
    rows = await session.scalars(select(Conversation).where(Conversation.id.in_(wanted)))
    return {c.id: out(c) for c in rows}


async def get(session: AsyncSession, *, conversation_id: str) -> ConversationOut:
    """The conversation, or 404."""
    found = await find(session, conversation_id=conversation_id)
    if found is None:
        raise ApiError(404, "conversation_not_found", f"no conversation {conversation_id}")
    return found


async def listing(
    session: AsyncSession, *, status: str, agent_id: int | None, limit: int = 200
) -> list[ConversationOut]:
    """Newest first: "open" (assigned), "queued" or "closed"; only `agent_id`'s when given."""
    q = select(Conversation).where(Conversation.status == ("assigned" if status == "open" else status))
    if agent_id is not None:
        q = q.where(Conversation.agent_id == agent_id)
    return [out(c) for c in await session.scalars(q.order_by(Conversation.created_at.desc()).limit(limit))]


async def stage_open(session: AsyncSession, *, data: OpenIn) -> ConversationOut:
    """Add a queued conversation to the caller's transaction (the channel adds its rows, then commits and
    calls `opened`). 422 for an unregistered channel or a queue routing does not have."""
    if data.channel not in _channels:
        raise ApiError(422, "unknown_channel", f"no channel {data.channel!r} is registered")
    queue = data.queue or routing.DEFAULT_QUEUE
    if not await routing.has_queue(session, queue=queue):
        raise ApiError(422, "queue_not_found", f"no queue {queue!r}")
    conv = Conversation(
        id=str(uuid.uuid4()),
        customer_id=data.customer_id,
        channel=data.channel,
        queue=queue,
        customer_name=data.customer_name,
        topic=data.topic,
        page_url=data.page_url,
        lang=data.lang,
        status="queued",
    )
    session.add(conv)
    await session.flush()
    return out(conv)


async def opened(
    session: AsyncSession, bus: Bus, *, conversation: ConversationOut, priority: int = 0
) -> ConversationOut:
    """After the commit of stage_open: announce the conversation and give it to routing, at `priority` (the
    channel's ask) plus the customer's points (priority.py), stored so a routing restart keeps its place."""
    await announce(bus, ConversationChanged(conversation=conversation))
    spec = _channels[conversation.channel]
    total = await contact_priority(session, customer_id=conversation.customer_id, asked=priority)
    if total != conversation.priority:
        await session.execute(update(Conversation).where(Conversation.id == conversation.id).values(priority=total))
        await session.commit()
    try:
        await routing.enter(
            session, bus, contact_id=conversation.id, channel=spec.medium, queue=conversation.queue, priority=total
        )
    except Exception as exc:  # routing down: it stays queued and re-enters when an agent comes online
        log.warning("routing_unavailable", error=repr(exc))
    return await get(session, conversation_id=conversation.id)


async def stage_reopen(session: AsyncSession, *, conversation_id: str) -> ConversationOut | None:
    """A closed conversation waits again (a customer wrote back), in the caller's transaction; None when
    it was not closed. After the commit, `opened` announces it and gives it to routing."""
    res = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status == "closed")
        .values(
            status="queued",
            agent_id=None,
            agent_name=None,
            assigned_at=None,
            closed_at=None,
            outcome=None,
            outcome_note=None,
        )
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await find(session, conversation_id=conversation_id)


async def assign(session: AsyncSession, bus: Bus, *, conversation_id: str, agent_id: int) -> bool:
    """Give a queued conversation to an agent; false if someone else got it first (atomic on any backend)."""
    name = await auth.display_name(session, user_id=agent_id)
    res = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status == "queued")
        .values(status="assigned", agent_id=agent_id, agent_name=name, assigned_at=utcnow())
    )
    await session.commit()
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await announce(bus, ConversationChanged(conversation=await get(session, conversation_id=conversation_id)))
    return True


async def requeue(
    session: AsyncSession, bus: Bus, *, conversation_id: str, previous_agent_id: int | None, queue: str | None = None
) -> None:
    """A transfer: the conversation waits again, in `queue` when given (stored, so a routing restart puts it
    back there); the previous agent's console drops it."""
    values: dict[str, object] = {"status": "queued", "agent_id": None, "agent_name": None, "assigned_at": None}
    if queue is not None:
        values["queue"] = queue
    await session.execute(
        update(Conversation).where(Conversation.id == conversation_id, Conversation.status == "assigned").values(values)
    )
    await session.commit()
    conv = await get(session, conversation_id=conversation_id)
    await announce(bus, ConversationChanged(conversation=conv, previous_agent_id=previous_agent_id))


def outcomes(codes: str) -> list[OutcomeOut]:
    """The configured wrap-up outcomes ("code=Label,..." as in CC_WRAP_UP_CODES)."""
    found = []
    for part in codes.split(","):
        code, _, label = part.strip().partition("=")
        if code.strip():
            found.append(OutcomeOut(code=code.strip(), label=(label or code).strip()))
    return found


async def close(
    session: AsyncSession,
    bus: Bus,
    *,
    conversation_id: str,
    by: str,
    outcome: str | None = None,
    note: str = "",
    allowed: Sequence[OutcomeOut] = (),
) -> ConversationOut:
    """Close a conversation (idempotent), with an outcome from `allowed`, and log it on the timeline."""
    labels = {o.code: o.label for o in allowed}
    if outcome is not None and outcome not in labels:
        raise ApiError(422, "unknown_outcome", f"outcome must be one of {sorted(labels)}")
    conv = await _row(session, conversation_id)
    if conv is None:
        raise ApiError(404, "conversation_not_found", f"no conversation {conversation_id}")
    if conv.status == "closed":
        return out(conv)
    spec = _channels.get(conv.channel)
    detail = await spec.on_close(session, conv.id) if spec is not None and spec.on_close is not None else None
    conv.status, conv.closed_at = "closed", utcnow()
    conv.outcome, conv.outcome_note = outcome, (note or None)
    label = spec.label if spec is not None else conv.channel
    summary = f"{label} closed by {by}" + (f" {detail}" if detail else "")
    if outcome is not None:
        summary += f": {labels[outcome]}" + (f" ({note})" if note else "")
    touch = await ccr.add_touch(
        session,
        touch=TouchIn(
            customer_id=conv.customer_id,
            channel=spec.touch_channel if spec is not None else TouchChannel.system,
            kind=TouchKind.conversation,
            direction=Direction.internal,
            agent_id=conv.agent_id,
            conversation_id=conv.id,
            summary=summary[:500],
            payload={"closed_by": by, "outcome": outcome, "note": note or None},
        ),
    )
    await session.commit()
    closed = out(conv)
    try:
        await ccr.publish_touches(bus, [touch])
    except Exception as exc:
        log.warning("publish_failed", what="ccr.touch_logged", error=repr(exc))
    await announce(bus, ConversationChanged(conversation=closed))
    try:  # the agent's room frees up (or, if it was waiting, the queue shortens)
        await routing.leave(session, bus, contact_id=conv.id)
    except Exception as exc:
        log.warning("routing_unavailable", error=repr(exc))
    return closed


async def outcome_counts(session: AsyncSession, *, since: datetime) -> list[OutcomeCount]:
    """How many conversations closed with each outcome since `since` ("none" for those without)."""
    rows = await session.execute(
        select(Conversation.outcome, func.count())
        .where(Conversation.status == "closed", Conversation.closed_at >= since)
        .group_by(Conversation.outcome)
    )
    counts = [OutcomeCount(outcome=str(o or "none"), count=int(n)) for o, n in rows]
    return sorted(counts, key=lambda c: (-c.count, c.outcome))


# Who hears a conversation's items, read inside the caller's transaction (audience.py: the chat writer's hot
# path, on SQLAlchemy or on a raw sqlite3 connection).
Audience = audience_mod.Audience
audience = audience_mod.audience
audience_sqlite3 = audience_mod.audience_sqlite3
audience_asyncpg = audience_mod.audience_asyncpg


# --- routing: one set of hooks for every channel ---------------------------------------------------------


async def _assign_hook(session: AsyncSession, bus: Bus, conversation_id: str, agent_id: int) -> bool:
    return await assign(session, bus, conversation_id=conversation_id, agent_id=agent_id)


async def _requeue_hook(
    session: AsyncSession, bus: Bus, conversation_id: str, previous: int | None, queue: str | None
) -> None:
    await requeue(session, bus, conversation_id=conversation_id, previous_agent_id=previous, queue=queue)


async def _customer_of(session: AsyncSession, conversation_id: str) -> int | None:
    return await session.scalar(select(Conversation.customer_id).where(Conversation.id == conversation_id))


async def _rows_for_routing(session: AsyncSession, status: str, agent_id: int | None = None) -> list[routing.Held]:
    q = select(
        Conversation.id, Conversation.queue, Conversation.channel, Conversation.agent_id, Conversation.priority
    ).where(Conversation.status == status)
    if agent_id is not None:
        q = q.where(Conversation.agent_id == agent_id)
    rows = await session.execute(q.order_by(Conversation.created_at, Conversation.id))
    found = []
    for cid, queue, name, agent, priority in rows.all():
        spec = _channels.get(str(name))
        if spec is None:  # a channel no longer installed: nobody could answer it
            log.warning("conversation_of_unknown_channel", conversation=cid, channel=name)
            continue
        found.append(routing.Held(str(cid), str(queue), spec.medium, agent, int(priority or 0)))
    return found


async def _pending(session: AsyncSession) -> list[routing.Held]:
    return await _rows_for_routing(session, "queued")


async def _assigned(session: AsyncSession, agent_id: int) -> list[routing.Held]:
    return await _rows_for_routing(session, "assigned", agent_id)


routing.register_contacts(
    routing.ContactHooks(
        assign=_assign_hook, requeue=_requeue_hook, customer_of=_customer_of, pending=_pending, assigned=_assigned
    )
)

"""Many messages (or read positions) in one transaction: what the per-process ChatWriter runs.

The result for each message is what `messages.post_message` would give it alone; the writer falls back to
that one-by-one path whenever a batch fails as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus, Event
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.channels.chat.events import message_posted, read_up_to
from contactcenter.channels.chat.models import ChatMessage, ChatThread
from contactcenter.channels.chat.schemas import MessageOut, SenderKind
from contactcenter.channels.chat.service import announce_many, message_out
from contactcenter.conversations import service as conversations
from contactcenter.db import utcnow
from contactcenter.http import ApiError

_messages = cast(Table, ChatMessage.__table__)
_threads = cast(Table, ChatThread.__table__)


@dataclass(frozen=True)
class PostIn:
    """One text message to store (attachments take the one-by-one path)."""

    conversation_id: str
    sender: SenderKind
    sender_id: int
    sender_name: str
    body: str
    client_id: str
    private: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.conversation_id, self.sender.value, self.client_id)


Posted = tuple[MessageOut, bool] | ApiError
Numbered = tuple[int, int, int | None]  # a conversation's last seq after the batch, its customer, its agent
Stored = dict[tuple[str, str, str], tuple[MessageOut, int, int | None]]  # key -> (message, customer, agent)


class Result:
    """What a writer's own-connection batch (sqlite_writer, pg_writer) decided inside its transaction."""

    __slots__ = ("failed", "found", "now", "stored", "touch_ids", "touches")

    def __init__(self) -> None:
        self.found: dict[tuple[str, str, str], MessageOut] = {}
        self.failed: dict[str, ApiError] = {}
        self.stored: Stored = {}
        self.touches: list[TouchIn] = []
        self.touch_ids: list[int] = []
        self.now = utcnow()


async def post_messages(session: AsyncSession, bus: Bus, *, posts: Sequence[PostIn]) -> list[Posted]:
    """Store messages in one transaction, numbered per conversation in the order given; then announce them.

    Per post: (message, was_duplicate), or the ApiError that post alone would have raised. Raises (after
    which the caller retries one by one) when the transaction fails, e.g. a client id raced in elsewhere."""
    found = await _existing(session, posts)
    fresh, counts = fresh_posts(posts, found)
    numbered: dict[str, Numbered] = {}
    if counts:
        # One executemany hands out every open thread's numbers and, as in post_message, holds the rows
        # (SQLite: the database) against other writers and the close until the commit, so the read after it
        # is ours.
        t = _threads.c
        await session.execute(
            update(_threads)
            .where(t.conversation_id == bindparam("b_id"), t.closed.is_(False))
            .values(last_seq=t.last_seq + bindparam("b_n")),
            [{"b_id": cid, "b_n": n} for cid, n in counts.items()],
        )
        rows = await session.execute(
            select(t.conversation_id, t.last_seq).where(t.conversation_id.in_(list(counts)), t.closed.is_(False))
        )
        lasts: dict[str, int] = {str(cid): int(last) for cid, last in rows}
        who = await conversations.audience(session, ids=list(counts))
        numbered = {cid: (last, who[cid][1], who[cid][2]) for cid, last in lasts.items() if cid in who}
    else:
        who = {}
    missing = [c for c in counts if c not in numbered]
    failed = refusals(missing, set(who))
    now = utcnow()
    stored, touches = number(fresh, counts, numbered, now)
    touch_ids: list[int] = []
    if stored:
        await session.execute(insert(_messages), [_row(out, fresh[k]) for k, (out, _, _) in stored.items()])
        touch_ids = await ccr.add_touches(session, touches=touches, now=now)
    await session.commit()
    await announce_stored(bus, stored, touches, touch_ids, now)
    return results_for(posts, found, failed, stored)


def fresh_posts(
    posts: Sequence[PostIn], found: Mapping[tuple[str, str, str], MessageOut]
) -> tuple[dict[tuple[str, str, str], PostIn], dict[str, int]]:
    """The posts not stored before (each client id once) and how many numbers each conversation needs."""
    fresh: dict[tuple[str, str, str], PostIn] = {}
    for p in posts:
        if p.key not in found:
            fresh.setdefault(p.key, p)  # the same client id twice in one batch is stored once
    counts: dict[str, int] = {}
    for p in fresh.values():
        counts[p.conversation_id] = counts.get(p.conversation_id, 0) + 1
    return fresh, counts


def refusals(missing: Sequence[str], present: set[str]) -> dict[str, ApiError]:
    """Why conversations that got no numbers refuse messages: closed, or not there at all."""
    return {
        cid: ApiError(409, "conversation_closed", "this conversation is closed")
        if cid in present
        else ApiError(404, "conversation_not_found", f"no conversation {cid}")
        for cid in missing
    }


def number(
    fresh: Mapping[tuple[str, str, str], PostIn],
    counts: Mapping[str, int],
    numbered: Mapping[str, Numbered],
    now: datetime,
) -> tuple[Stored, list[TouchIn]]:
    """Give each fresh post of an open conversation its number (in the order given) and its CCR touch."""
    next_seq = {cid: last - counts[cid] + 1 for cid, (last, _, _) in numbered.items()}
    stored: Stored = {}
    touches: list[TouchIn] = []
    for key, p in fresh.items():
        if p.conversation_id not in numbered:
            continue
        seq = next_seq[p.conversation_id]
        next_seq[p.conversation_id] = seq + 1
        _, customer, agent = numbered[p.conversation_id]
        out = MessageOut(
            conversation_id=p.conversation_id,
            seq=seq,
            sender=p.sender,
            sender_name=p.sender_name,
            body=p.body,
            private=p.private,
            client_id=p.client_id,
            at=now,
        )
        stored[key] = (out, customer, agent)
        touches.append(_touch(p, out, customer))
    return stored, touches


async def announce_stored(
    bus: Bus, stored: Stored, touches: Sequence[TouchIn], touch_ids: Sequence[int], now: datetime
) -> None:
    """After the commit: the touches to the CCR's listeners, each message to its conversation's sockets."""
    if not stored:
        return
    try:
        await ccr.publish_added(bus, ids=touch_ids, touches=touches, now=now)
    except Exception:  # receivers of touch events read the timeline again; the messages are safe
        pass
    await announce_many(bus, [message_posted(out, customer_id=c, agent_id=a) for out, c, a in stored.values()])


def results_for(
    posts: Sequence[PostIn],
    found: Mapping[tuple[str, str, str], MessageOut],
    failed: Mapping[str, ApiError],
    stored: Stored,
) -> list[Posted]:
    results: list[Posted] = []
    answered: set[tuple[str, str, str]] = set()
    for p in posts:
        if p.key in found:
            results.append((found[p.key], True))
        elif p.conversation_id in failed:
            results.append(failed[p.conversation_id])
        else:  # a second copy in the same batch is a duplicate of the first
            results.append((stored[p.key][0], p.key in answered))
            answered.add(p.key)
    return results


async def _existing(session: AsyncSession, posts: Sequence[PostIn]) -> dict[tuple[str, str, str], MessageOut]:
    keys = {p.key for p in posts}
    rows = await session.scalars(
        select(ChatMessage).where(
            ChatMessage.conversation_id.in_({k[0] for k in keys}),
            ChatMessage.client_id.in_({k[2] for k in keys}),
        )
    )
    return {k: message_out(m) for m in rows if (k := (m.conversation_id, m.sender_kind, m.client_id)) in keys}


def _row(out: MessageOut, p: PostIn) -> dict[str, object]:
    return {
        "conversation_id": out.conversation_id,
        "seq": out.seq,
        "sender_kind": p.sender.value,
        "sender_id": p.sender_id,
        "sender_name": p.sender_name,
        "body": p.body,
        "private": p.private,
        "attachments": [],
        "client_id": p.client_id,
        "created_at": out.at,
    }


def _touch(p: PostIn, out: MessageOut, customer_id: int) -> TouchIn:
    direction = (
        Direction.internal
        if p.private
        else (Direction.inbound if p.sender is SenderKind.customer else Direction.outbound)
    )
    # Built from values already checked (the frame's schema, the stored conversation): no second validation.
    return TouchIn.model_construct(
        customer_id=customer_id,
        channel=Channel.chat,
        kind=TouchKind.message,
        direction=direction,
        occurred_at=out.at,
        agent_id=p.sender_id if p.sender is SenderKind.agent else None,
        conversation_id=p.conversation_id,
        summary=(("Note: " if p.private else "") + p.body)[:500] or "(attachment)",
        payload={"seq": out.seq, "attachments": 0},
    )


async def mark_read_many(session: AsyncSession, bus: Bus, *, reads: Mapping[tuple[str, SenderKind], int]) -> None:
    """Move many read positions forward (never back, never past the last message) in one transaction."""
    if not reads:
        return
    t = _threads.c
    for reader, column in ((SenderKind.customer, "customer_read_seq"), (SenderKind.agent, "agent_read_seq")):
        params = [{"b_id": cid, "b_seq": seq} for (cid, who), seq in reads.items() if who is reader]
        if not params:
            continue
        col = t[column]
        await session.execute(
            update(_threads)
            .where(t.conversation_id == bindparam("b_id"), col < bindparam("b_seq"), t.last_seq >= bindparam("b_seq"))
            .values({column: bindparam("b_seq")}),
            params,
        )
    ids = list({cid for cid, _ in reads})
    seqs = await session.execute(
        select(t.conversation_id, t.customer_read_seq, t.agent_read_seq).where(t.conversation_id.in_(ids))
    )
    found = await conversations.audience(session, ids=ids)
    rows = [(cid, found[cid][1], found[cid][2], c, a) for cid, c, a in seqs if cid in found]
    await session.commit()
    await announce_reads(bus, reads, rows)


ReadRow = tuple[str, int, int | None, int, int]  # conversation, customer, agent, customer's and agent's seq


async def announce_reads(bus: Bus, reads: Mapping[tuple[str, SenderKind], int], rows: Sequence[ReadRow]) -> None:
    """After the commit: each read position this batch stored, to the conversation's sockets."""
    events: list[Event] = []
    for cid, customer, agent, customer_seq, agent_seq in rows:
        for reader, now_at in ((SenderKind.customer, customer_seq), (SenderKind.agent, agent_seq)):
            # Announce where this batch's position is the one stored (a receipt said twice is harmless).
            if reads.get((cid, reader)) == now_at:
                side: Literal["customer", "agent"] = "customer" if reader is SenderKind.customer else "agent"
                events.append(read_up_to(cid, customer_id=customer, agent_id=agent, reader=side, seq=now_at))
    await announce_many(bus, events)

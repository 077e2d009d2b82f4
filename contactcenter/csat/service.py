"""Customer satisfaction: asking a conversation's customer once it closed, taking one rating per
conversation, the figures per agent and queue, and a customer's ratings as rule facts.

The ask is a row (`csat_ratings` without a score) written when the conversations core announces a close;
a rating fills it in with one conditional UPDATE, so of two answers racing only one is taken (409 for the
other) on either backend. Each rating is a CCR touch, committed with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import service as auth
from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel as TouchChannel
from contactcenter.ccr.schemas import Direction, TouchIn, TouchKind
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut, ConversationStatus
from contactcenter.csat.models import CsatRating
from contactcenter.csat.schemas import AskOut, Figures, Period, RatingOut, StatsOut
from contactcenter.http import ApiError

log = structlog.get_logger("csat")
STARS = {1: "very poor", 2: "poor", 3: "fair", 4: "good", 5: "very good"}


def widget_channels(setting: str) -> frozenset[str]:
    """CC_CSAT_WIDGET_CHANNELS as a set of channel names."""
    return frozenset(c.strip() for c in setting.split(",") if c.strip())


def askable(conv: ConversationOut) -> bool:
    """A closed conversation an agent took part in (one given up in the queue has nobody to rate)."""
    return conv.status == ConversationStatus.closed and conv.agent_id is not None


async def _stage_ask(session: AsyncSession, conv: ConversationOut, now: datetime) -> bool:
    """Insert the ask unless the conversation has one already; True when this call inserted it."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(CsatRating).values(
        conversation_id=conv.id,
        customer_id=conv.customer_id,
        agent_id=conv.agent_id,
        queue=conv.queue,
        channel=conv.channel,
        asked_at=conv.closed_at or now,
    )
    done = await session.execute(stmt.on_conflict_do_nothing(index_elements=["conversation_id"]))
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def ask(session: AsyncSession, *, conv: ConversationOut, now: datetime) -> bool:
    """Record that this closed conversation's customer is asked; True only for the first caller (of every
    process hearing the close), who then tells the customer."""
    if not askable(conv):
        return False
    inserted = await _stage_ask(session, conv, now)
    await session.commit()
    return inserted


def _open_until(conv: ConversationOut, rate_days: int) -> datetime | None:
    return conv.closed_at + timedelta(days=rate_days) if conv.closed_at is not None else None


async def _rateable(
    session: AsyncSession, *, conversation_id: str, customer_id: int | None, now: datetime, rate_days: int
) -> ConversationOut:
    conv = await conversations.find(session, conversation_id=conversation_id)
    # Someone else's conversation and a missing one get the same answer: ids reveal nothing.
    if conv is None or (customer_id is not None and conv.customer_id != customer_id):
        raise ApiError(404, "conversation_not_found", "no such conversation for you")
    if not askable(conv):
        code = "conversation_open" if conv.status != ConversationStatus.closed else "not_rateable"
        raise ApiError(409, code, "only a closed conversation with an agent is rated")
    until = _open_until(conv, rate_days)
    if until is not None and until <= now:
        raise ApiError(410, "rating_closed", "this conversation closed too long ago to be rated")
    return conv


async def status(
    session: AsyncSession, *, conversation_id: str, customer_id: int | None, now: datetime, rate_days: int
) -> AskOut:
    """Where the rating of a conversation stands, for its customer (`customer_id` None: a signed link)."""
    conv = await _rateable(
        session, conversation_id=conversation_id, customer_id=customer_id, now=now, rate_days=rate_days
    )
    row = await session.get(CsatRating, conversation_id)
    name = await auth.display_name(session, user_id=conv.agent_id) if conv.agent_id is not None else None
    return AskOut(
        conversation_id=conv.id,
        channel=conv.channel,
        agent_name=name,
        closed_at=conv.closed_at,
        open_until=_open_until(conv, rate_days),
        score=row.score if row is not None else None,
        rated_at=row.rated_at if row is not None else None,
        declined_at=row.declined_at if row is not None else None,
    )


async def _refusal(session: AsyncSession, conversation_id: str) -> ApiError:
    """Why a decline found the ask answered: rated, or declined already."""
    await session.rollback()
    row = await session.get(CsatRating, conversation_id)
    if row is not None and row.score is None and row.declined_at is not None:
        return ApiError(409, "already_declined", "the customer said no thanks to rating this conversation")
    return ApiError(409, "already_rated", "this conversation has been rated already")


async def decline(
    session: AsyncSession, *, conversation_id: str, customer_id: int, now: datetime, rate_days: int
) -> AskOut:
    """The customer's "No thanks", once (409 `already_declined`, or `already_rated`): the widget does not ask
    again. Only for the customer's own closed conversation (404 else, as for a rating)."""
    conv = await _rateable(
        session, conversation_id=conversation_id, customer_id=customer_id, now=now, rate_days=rate_days
    )
    await _stage_ask(session, conv, now)
    done = await session.execute(
        update(CsatRating)
        .where(CsatRating.conversation_id == conv.id, CsatRating.score.is_(None), CsatRating.declined_at.is_(None))
        .values(declined_at=now)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise await _refusal(session, conv.id)
    await session.commit()
    return await status(session, conversation_id=conv.id, customer_id=customer_id, now=now, rate_days=rate_days)


async def rate(
    session: AsyncSession,
    bus: Bus,
    *,
    conversation_id: str,
    customer_id: int | None,
    score: int,
    comment: str,
    now: datetime,
    rate_days: int,
) -> RatingOut:
    """Take the one rating of a closed conversation: 404 not the customer's, 409 `already_rated`, 410 too
    late. After "No thanks" a rating is still taken (the email's link, a change of mind) and counts as a
    rating, no longer as declined. `customer_id` None: the caller proved the conversation by a signed link."""
    if not 1 <= score <= 5:
        raise ApiError(422, "invalid_score", "score is 1 to 5")
    conv = await _rateable(
        session, conversation_id=conversation_id, customer_id=customer_id, now=now, rate_days=rate_days
    )
    await _stage_ask(session, conv, now)  # the close was not heard (a bus outage): ask now
    text = comment.strip() or None
    done = await session.execute(
        update(CsatRating)
        .where(CsatRating.conversation_id == conv.id, CsatRating.score.is_(None))
        .values(score=score, comment=text, rated_at=now)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        await session.rollback()
        raise ApiError(409, "already_rated", "this conversation has been rated already")
    spec = conversations.channel(conv.channel)
    summary = f"Rated the {spec.label.lower() if spec else conv.channel} {score}/5 ({STARS[score]})"
    if text:
        summary += f": {text}"
    touch = await ccr.add_touch(
        session,
        touch=TouchIn(
            customer_id=conv.customer_id,
            channel=spec.touch_channel if spec is not None else TouchChannel.system,
            kind=TouchKind.rating,
            direction=Direction.inbound,
            occurred_at=now,
            agent_id=conv.agent_id,
            conversation_id=conv.id,
            summary=summary[:500],
            payload={"score": score, "comment": text, "queue": conv.queue},
        ),
    )
    await session.commit()
    try:
        await ccr.publish_touches(bus, [touch])
    except Exception as exc:  # stored is stored; the timeline reads it on its next load
        log.warning("publish_failed", what="ccr.touch_logged", error=repr(exc))
    return RatingOut(
        conversation_id=conv.id, channel=conv.channel, queue=conv.queue, score=score, comment=text, rated_at=now
    )


def period_start(period: Period, now: datetime) -> datetime:
    if period == Period.today:
        return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return now - timedelta(days=7)


def _figures(key: str, name: str, count: int, total: Any, satisfied: Any, declined: Any = 0) -> Figures:
    n = int(count)
    return Figures(
        key=key,
        name=name,
        count=n,
        average=round(float(total) / n, 2) if n else 0.0,
        satisfied_pct=round(100.0 * float(satisfied) / n, 1) if n else 0.0,
        declined=int(declined or 0),
    )


async def stats(session: AsyncSession, *, period: Period, now: datetime) -> StatsOut:
    """Ratings given in the period, overall, per agent and per queue (most ratings first)."""
    since = period_start(period, now)
    n, total = func.count(CsatRating.score), func.coalesce(func.sum(CsatRating.score), 0)
    satisfied = func.coalesce(func.sum(case((CsatRating.score >= 4, 1), else_=0)), 0)
    declined_only = CsatRating.score.is_(None) & (CsatRating.declined_at >= since)
    declined = func.coalesce(func.sum(case((declined_only, 1), else_=0)), 0)
    # Rated (even after a "No thanks") or declined only: each conversation's answer in the period counts once.
    given = (CsatRating.score.is_not(None) & (CsatRating.rated_at >= since)) | (CsatRating.declined_at >= since)
    figures = (n, total, satisfied, declined)
    overall = (await session.execute(select(*figures).where(given))).one()
    by_agent = await session.execute(select(CsatRating.agent_id, *figures).where(given).group_by(CsatRating.agent_id))
    by_queue = await session.execute(select(CsatRating.queue, *figures).where(given).group_by(CsatRating.queue))
    agents = []
    for agent_id, *counts in by_agent:
        name = (await auth.display_name(session, user_id=agent_id)) if agent_id is not None else None
        agents.append(_figures(str(agent_id), name or f"agent {agent_id}", *counts))
    queues = [_figures(q, q, *counts) for q, *counts in by_queue]
    order = lambda f: (-f.count, f.name)  # noqa: E731
    return StatsOut(
        period=period,
        since=since,
        overall=_figures("all", "All", *overall),
        agents=sorted(agents, key=order),
        queues=sorted(queues, key=order),
    )


async def customer_facts(session: AsyncSession, *, customer_id: int, now: datetime) -> dict[str, Any]:
    """The rule facts csat.last, csat.avg, csat.count, csat.days_since_last for one customer (and those
    merged into it)."""
    holders = ccr.holding_ids(customer_id)
    given = (CsatRating.customer_id.in_(holders), CsatRating.score.is_not(None))
    last = (
        await session.execute(
            select(CsatRating.score, CsatRating.rated_at).where(*given).order_by(CsatRating.rated_at.desc()).limit(1)
        )
    ).first()
    figures = select(func.count(CsatRating.score), func.avg(CsatRating.score)).where(*given)
    count, avg = (await session.execute(figures)).one()
    return {
        "last": last[0] if last else None,
        "avg": round(float(avg), 2) if avg is not None else None,
        "count": int(count),
        "days_since_last": max(0, (now - last[1]).days) if last and last[1] else None,
    }

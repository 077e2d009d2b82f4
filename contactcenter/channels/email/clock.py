"""The first-response clock: it starts at the customer's first message of a thread (or the message that
reopens it), at that message's arrival; only a person's reply reaching the relay stops it (not an
acknowledgement, a note, a reply still waiting in the outbox, or a failed one). Later customer messages
neither restart nor move it. It counts staffed time only: its due time is the target's worth of the
conversation's queue's business hours after the start (routing/hours.py), and outside them it shows paused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.channels.email.models import EmailClock, EmailMessage
from contactcenter.channels.email.schemas import ClockOut, Reason
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.routing.hours import Calendars, business_hours
from contactcenter.settings import Settings

STARTS = (Reason.new.value, Reason.reopened.value, Reason.split_off.value)


@dataclass(frozen=True)
class ClockPolicy:
    target: timedelta  # of staffed time
    warn: timedelta  # of wall time before the due time: the warning shows
    calendars: Calendars


def policy_of(settings: Settings) -> ClockPolicy:
    """The configured clock (ValueError naming the setting when its hours or holidays are malformed)."""
    s = settings
    try:
        default = business_hours(s.email_hours, s.email_timezone, s.holidays)
        queues = {
            q: business_hours(h.hours or s.email_hours, s.email_timezone, ",".join((s.holidays, h.holidays)))
            for q, h in s.email_queue_hours.items()
        }
    except ValueError as exc:
        raise ValueError(f"CC_EMAIL_HOURS / CC_EMAIL_QUEUE_HOURS / CC_HOLIDAYS: {exc}") from None
    target, warn = timedelta(hours=s.email_first_response_h), timedelta(hours=s.email_first_response_warn_h)
    return ClockPolicy(target, warn, Calendars(default, queues))


async def stage_starts(
    session: AsyncSession, *, rows: Sequence[EmailMessage], policy: ClockPolicy
) -> dict[str, tuple[datetime, bool]]:
    """Start a clock for each row that opens (or reopens) a thread from a person; in the filing transaction.
    Automatic mail (bounces, auto-replies, lists) waits for nobody. Returns, per conversation whose clock
    started, its due time and whether its queue keeps business hours (the acknowledgement names the time)."""
    starting = [r for r in rows if r.reason in STARTS and not r.automatic]
    if not starting:
        return {}
    convs = await conversations.find_many(session, ids=list({r.conversation_id for r in starting}))
    running = set(
        await session.scalars(
            select(EmailClock.conversation_id).where(
                EmailClock.conversation_id.in_({r.conversation_id for r in starting}), EmailClock.stopped_at.is_(None)
            )
        )
    )
    rows_in: list[dict[str, object]] = []
    started: dict[str, tuple[datetime, bool]] = {}
    for r in starting:
        if r.conversation_id in running:  # e.g. a reopened conversation whose first answer is still owed
            continue
        running.add(r.conversation_id)
        cal = policy.calendars.of(q.queue if (q := convs.get(r.conversation_id)) else None)
        started[r.conversation_id] = (cal.add(r.received_at, policy.target), cal.keeps_hours)
        rows_in.append(
            {
                "conversation_id": r.conversation_id,
                "email_message_id": r.id,
                "started_at": r.received_at,
                "due_at": started[r.conversation_id][0],
            }
        )
    if rows_in:  # one executemany, no ORM unit of work (decision 35)
        await session.execute(insert(EmailClock), rows_in)
    return started


async def stop(session: AsyncSession, *, conversation_id: str, out_id: int, at: datetime) -> bool:
    """A person's reply was sent: the conversation's running clock stops (in the caller's transaction)."""
    done = await session.execute(
        update(EmailClock)
        .where(EmailClock.conversation_id == conversation_id, EmailClock.stopped_at.is_(None))
        .values(stopped_at=at, stopped_by=out_id)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def _out(c: EmailClock, now: datetime, conv: ConversationOut | None, policy: ClockPolicy) -> ClockOut:
    left = (c.due_at - (c.stopped_at or now)).total_seconds()
    warn = policy.warn
    return ClockOut(
        conversation_id=c.conversation_id,
        started_at=c.started_at,
        due_at=c.due_at,
        stopped_at=c.stopped_at,
        seconds_left=round(left),
        warning=c.stopped_at is None and 0 <= left <= warn.total_seconds(),
        overdue=left < 0,
        paused=c.stopped_at is None and not policy.calendars.of(conv.queue if conv else None).is_open(now),
        agent_id=conv.agent_id if conv else None,
        agent_name=conv.agent_name if conv else None,
        customer_name=conv.customer_name if conv else "",
        topic=conv.topic if conv else None,
        status=conv.status.value if conv else "",
    )


async def of_conversation(
    session: AsyncSession, *, conversation_id: str, now: datetime, policy: ClockPolicy
) -> ClockOut | None:
    """The conversation's latest clock (running, or how its last one ended)."""
    c = await session.scalar(
        select(EmailClock).where(EmailClock.conversation_id == conversation_id).order_by(EmailClock.id.desc()).limit(1)
    )
    if c is None:
        return None
    return _out(c, now, await conversations.find(session, conversation_id=conversation_id), policy)


async def running(
    session: AsyncSession,
    *,
    now: datetime,
    agent_id: int | None,
    overdue_only: bool,
    policy: ClockPolicy,
    limit: int = 500,
) -> list[ClockOut]:
    """Running clocks, soonest breach first (overdue ones lead); only `agent_id`'s conversations when given."""
    q = select(EmailClock).where(EmailClock.stopped_at.is_(None))
    if overdue_only:
        q = q.where(EmailClock.due_at < now)
    rows = list(await session.scalars(q.order_by(EmailClock.due_at).limit(limit)))
    convs = await conversations.find_many(session, ids=[c.conversation_id for c in rows])
    out = [_out(c, now, convs.get(c.conversation_id), policy) for c in rows]
    out = [o for o in out if o.status != "closed"]  # closed without an answer: nobody is waiting on it
    return [o for o in out if agent_id is None or o.agent_id == agent_id]

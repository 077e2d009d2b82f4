"""What happens to a callback after it is asked for: the customer (by the signed link) or a supervisor
cancels it, the customer moves it to another slot; the supervisors' list and the promise-kept figure."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Direction, TouchKind
from contactcenter.channels.callback import slots
from contactcenter.channels.callback.models import CallbackRequest
from contactcenter.channels.callback.schemas import PENDING, CallbackOut, PromiseOut, Status
from contactcenter.channels.callback.service import free_seat, hours, out, publish, row_of, touch
from contactcenter.conversations import service as conversations
from contactcenter.http import ApiError
from contactcenter.settings import Settings


async def cancel(session: AsyncSession, bus: Bus, *, callback_id: str, by: str, now: datetime) -> CallbackOut:
    """Cancel a pending callback (its seat freed; an attempt waiting in routing leaves it); 409 if over."""
    row = await row_of(session, callback_id=callback_id)
    if row.status not in PENDING:
        raise ApiError(409, "callback_not_pending", f"this callback is {row.status}")
    was_open = row.status == Status.open.value
    row.status, row.slot_seat, row.closed_at, row.note = Status.cancelled.value, None, now, f"cancelled by {by}"
    t = await ccr.add_touch(
        session,
        touch=touch(
            row,
            kind=TouchKind.callback_request,
            direction=Direction.internal,
            summary=f"Callback cancelled by {by}",
            now=now,
        ),
    )
    if was_open and row.conversation_id:  # closes it in routing too; commits this transaction
        await conversations.close(session, bus, conversation_id=row.conversation_id, by=by)
    await session.commit()
    await publish(bus, [t])
    return out(row)


async def reschedule(
    session: AsyncSession, bus: Bus, *, callback_id: str, start: datetime, settings: Settings, now: datetime
) -> CallbackOut:
    """Move a callback that has not entered routing yet to another slot the centre can keep."""
    row = await row_of(session, callback_id=callback_id)
    if row.status != Status.booked.value:
        raise ApiError(409, "callback_not_booked", f"this callback is {row.status}; it can no longer be moved")
    slot = slots.check(hours(settings), start, now=now, days_ahead=settings.callback_days_ahead)
    row.slot_seat = None  # give up the old seat first: the same slot again is allowed
    await session.flush()
    row.slot_seat = await free_seat(session, queue=row.queue, start=slot[0], capacity=settings.callback_slot_capacity)
    row.slot_start, row.slot_end = slot
    row.due_at = slot[0] - timedelta(seconds=settings.callback_lead_s)
    row.window_end = slot[1]
    t = await ccr.add_touch(
        session,
        touch=touch(
            row,
            kind=TouchKind.callback_request,
            direction=Direction.inbound,
            now=now,
            summary=f"Callback moved to {slot[0].astimezone(hours(settings).zone):%a %d %b %H:%M}",
        ),
    )
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(409, "slot_full", "that slot is fully booked; pick another") from exc
    await publish(bus, [t])
    return out(row)


async def pending(session: AsyncSession, *, limit: int = 500) -> list[CallbackOut]:
    """Every callback not over yet, the soonest due first (the supervisors' list)."""
    rows = await session.scalars(
        select(CallbackRequest)
        .where(CallbackRequest.status.in_(PENDING))
        .order_by(CallbackRequest.due_at, CallbackRequest.id)
        .limit(limit)
    )
    return [out(r) for r in rows]


async def promise(session: AsyncSession, *, since: datetime, now: datetime) -> PromiseOut:
    """Promise kept: of the callbacks asked for since `since` whose window has ended or that were started,
    how many were started by the end of their window (cancelled ones do not count)."""
    rows = await session.execute(
        select(CallbackRequest.started_at, CallbackRequest.window_end).where(
            CallbackRequest.created_at >= since,
            CallbackRequest.status != Status.cancelled.value,
            (CallbackRequest.window_end <= now) | CallbackRequest.started_at.is_not(None),
        )
    )
    pairs = rows.all()
    kept = sum(1 for started, end in pairs if started is not None and started <= end)
    pct = round(100 * kept / len(pairs), 1) if pairs else None
    return PromiseOut(since=since, due=len(pairs), kept=kept, kept_pct=pct)

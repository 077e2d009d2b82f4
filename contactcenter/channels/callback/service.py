"""Web callback requests: stored (with their CCR touch) before the customer is told anything, idempotent
by the client's key, booked into slots the centre can keep.
Routing entry (scheduler.py), outcomes (outcomes.py), cancel and reschedule (manage.py) work on the
same rows."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.identity import normalize_phone
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.channels.callback import links, slots
from contactcenter.channels.callback.models import CallbackRequest
from contactcenter.channels.callback.schemas import (
    CallbackOut,
    Confirmation,
    CustomerView,
    Mode,
    RequestIn,
    SlotOut,
    Status,
)
from contactcenter.conversations import service as conversations
from contactcenter.http import ApiError
from contactcenter.routing import service as routing
from contactcenter.routing import views
from contactcenter.routing.model import Channel as Medium
from contactcenter.settings import Settings

CHANNEL = "callback"
log = structlog.get_logger("callback")


@lru_cache(maxsize=8)
def _hours(spec: str, zone: str, minutes: int, holidays: str) -> slots.Hours:
    return slots.parse_hours(spec, zone, minutes, holidays)


def hours(settings: Settings) -> slots.Hours:
    """The configured opening hours less the centre's holidays (a ValueError at start-up if CC_CALLBACK_HOURS or
    CC_HOLIDAYS is malformed)."""
    s = settings
    return _hours(s.callback_hours, s.callback_timezone, s.callback_slot_minutes, s.holidays)


def out(row: CallbackRequest) -> CallbackOut:
    return CallbackOut.model_validate(row)


def customer_view(row: CallbackRequest) -> CustomerView:
    hint = f"{row.phone[:3]}…{row.phone[-2:]}" if row.phone else None
    return CustomerView(
        reference=row.reference,
        status=Status(row.status),
        mode=Mode(row.mode),
        phone_hint=hint,
        slot_start=row.slot_start,
        slot_end=row.slot_end,
        attempts=row.attempts,
    )


async def row_of(session: AsyncSession, *, callback_id: str) -> CallbackRequest:
    """The request, or 404."""
    row = None if "\x00" in callback_id else await session.get(CallbackRequest, callback_id, populate_existing=True)
    if row is None:
        raise ApiError(404, "callback_not_found", f"no callback {callback_id}")
    return row


async def get(session: AsyncSession, *, callback_id: str) -> CallbackOut:
    """The request as staff see it, or 404."""
    return out(await row_of(session, callback_id=callback_id))


async def by_conversation(session: AsyncSession, *, conversation_id: str) -> CallbackOut | None:
    """The request a callback conversation is an attempt of."""
    row = await session.scalar(select(CallbackRequest).where(CallbackRequest.conversation_id == conversation_id))
    return out(row) if row is not None else None


def touch(
    row: CallbackRequest,
    *,
    kind: TouchKind,
    direction: Direction,
    summary: str,
    now: datetime,
    agent_id: int | None = None,
    **payload: object,
) -> TouchIn:
    """A CCR touch about this callback (request, attempt, cancellation)."""
    return TouchIn(
        customer_id=row.customer_id,
        channel=Channel.callback,
        kind=kind,
        direction=direction,
        occurred_at=now,
        agent_id=agent_id,
        conversation_id=row.conversation_id,
        summary=summary[:500],
        payload={"callback_id": row.id, "reference": row.reference, **payload},
    )


async def publish(bus: Bus, touches: Sequence[Touch]) -> None:
    try:
        await ccr.publish_touches(bus, touches)
    except Exception as exc:  # stored already: timelines catch up from the database
        log.warning("publish_failed", what="ccr.touch_logged", error=repr(exc))


async def free_seat(session: AsyncSession, *, queue: str, start: datetime, capacity: int) -> int:
    taken = set(
        await session.scalars(
            select(CallbackRequest.slot_seat).where(
                CallbackRequest.queue == queue,
                CallbackRequest.slot_start == start,
                CallbackRequest.slot_seat.is_not(None),
            )
        )
    )
    free = [n for n in range(capacity) if n not in taken]
    if not free:
        raise ApiError(409, "slot_full", "that slot is fully booked; pick another")
    return free[0]


async def _by_key(session: AsyncSession, customer_id: int, key: str) -> CallbackRequest | None:
    return await session.scalar(
        select(CallbackRequest).where(
            CallbackRequest.customer_id == customer_id, CallbackRequest.idempotency_key == key
        )
    )


async def request(
    session: AsyncSession,
    bus: Bus,
    *,
    customer_id: int,
    data: RequestIn,
    settings: Settings,
    now: datetime,
    admit: Callable[[], Awaitable[None]] | None = None,
) -> tuple[CallbackOut, bool]:
    """Store a callback request (committed, with its touch) or find the one this key already made; returns
    it and whether it is new. Past, out-of-hours or full slots, bad numbers and unknown queues: 4xx.
    `admit` runs once a new request is found valid, before it is stored (the caller's rate limit)."""
    found = await _by_key(session, customer_id, data.idempotency_key)
    if found is not None:
        return out(found), False
    phone = normalize_phone(data.phone or "", settings.default_phone_region) if data.mode is Mode.phone else None
    queue = data.queue or routing.DEFAULT_QUEUE
    if not await routing.has_queue(session, queue=queue):
        raise ApiError(422, "queue_not_found", f"no queue {queue!r}")
    slot = None
    if data.slot_start is not None:
        slot = slots.check(hours(settings), data.slot_start, now=now, days_ahead=settings.callback_days_ahead)
    if admit is not None:
        await admit()
    for _ in range(3):  # a seat taken by a concurrent booking: look again
        seat = None
        if slot is not None:
            seat = await free_seat(session, queue=queue, start=slot[0], capacity=settings.callback_slot_capacity)
        row = CallbackRequest(
            id=str(uuid.uuid4()),
            reference="CB-" + secrets.token_hex(4).upper(),
            customer_id=customer_id,
            idempotency_key=data.idempotency_key,
            name=data.name.strip(),
            phone=phone,
            mode=data.mode.value,
            topic=data.topic,
            queue=queue,
            lang=data.lang,
            page_url=data.page_url,
            slot_start=slot[0] if slot else None,
            slot_end=slot[1] if slot else None,
            slot_seat=seat,
            status=Status.booked.value,
            due_at=slot[0] - timedelta(seconds=settings.callback_lead_s) if slot else now,
            window_end=slot[1] if slot else now + timedelta(seconds=settings.callback_asap_window_s),
            attempts=0,
            created_at=now,
        )
        when = f"for {slot[0].astimezone(hours(settings).zone):%a %d %b %H:%M}" if slot else "as soon as possible"
        try:
            session.add(row)
            await ccr.fill_from_contact(
                session, customer_id=customer_id, name=data.name, email=None, region=settings.default_phone_region
            )
            t = await ccr.add_touch(
                session,
                touch=touch(
                    row,
                    kind=TouchKind.callback_request,
                    direction=Direction.inbound,
                    summary=f"Callback requested {when}" + (f": {data.topic}" if data.topic else ""),
                    now=now,
                    mode=row.mode,
                    phone=phone,
                    slot_start=row.slot_start.isoformat() if row.slot_start else None,
                ),
            )
            await session.commit()
        except IntegrityError:
            await session.rollback()
            found = await _by_key(session, customer_id, data.idempotency_key)
            if found is not None:  # the same request, retried at the same moment
                return out(found), False
            continue
        await publish(bus, [t])
        return out(row), True
    raise ApiError(409, "slot_full", "that slot is fully booked; pick another")


async def confirm(bus: Bus, *, row: CallbackRequest, settings: Settings, now: datetime) -> Confirmation:
    """What the customer is told: the request, its place in the queue while it waits, the signed link."""
    expires = int((now + timedelta(hours=settings.callback_link_hours)).timestamp())
    position, estimate = None, None
    if row.status == Status.open.value and row.conversation_id:
        try:
            seen = await views.contact(bus, contact_id=row.conversation_id)
            position, estimate = seen.position, seen.estimate
        except ApiError:  # routing does not hold it (yet): no figure rather than a wrong one
            pass
    return Confirmation(
        **customer_view(row).model_dump(),
        id=row.id,
        position=position,
        estimate=estimate,
        link_token=links.sign(settings.secret_key.get_secret_value(), callback_id=row.id, expires=expires),
        link_expires_at=datetime.fromtimestamp(expires, UTC),
    )


async def free_slots(session: AsyncSession, *, queue: str, settings: Settings, now: datetime) -> list[SlotOut]:
    """The slots still bookable in a queue, soonest first."""
    found = slots.upcoming(hours(settings), now=now, days_ahead=settings.callback_days_ahead)
    if not found:
        return []
    rows = await session.execute(
        select(CallbackRequest.slot_start, func.count())
        .where(
            CallbackRequest.queue == queue,
            CallbackRequest.slot_seat.is_not(None),
            CallbackRequest.slot_start >= found[0][0],
        )
        .group_by(CallbackRequest.slot_start)
    )
    taken = {start.astimezone(UTC): int(n) for start, n in rows.all() if start is not None}
    cap = settings.callback_slot_capacity
    return [SlotOut(start=s, end=e, free=cap - taken.get(s, 0)) for s, e in found if taken.get(s, 0) < cap]


async def _on_close(session: AsyncSession, conversation_id: str) -> str | None:
    # Same transaction as the close. An outcome recorded here (outcomes.py) has moved the request on already;
    # a callback closed any other way (the generic wrap-up) ends without one, so it is never retried blindly.
    row = await session.scalar(select(CallbackRequest).where(CallbackRequest.conversation_id == conversation_id))
    if row is None:
        return None
    if row.status == Status.open.value:
        row.status, row.note = Status.closed.value, "closed without a callback outcome"
        row.closed_at = datetime.now(UTC)
    return f"(attempt {row.attempts})"


conversations.register_channel(
    conversations.ChannelSpec(
        name=CHANNEL,
        label="Callback",
        medium=Medium.callback,
        touch_channel=Channel.callback,
        on_close=_on_close,
    )
)

"""The outbox: deliveries enqueued once per event and subscriber, claimed by one worker at a time, and moved
on after each attempt (delivered, due again after the backoff, dead); replay. Re-exported by service.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.http import ApiError
from contactcenter.webhooks import policy
from contactcenter.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscriber
from contactcenter.webhooks.schemas import DeliveryOut, Outbound, WebhookBody

log = structlog.get_logger("webhooks")


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds until its lease ends: what it needs to send one attempt."""

    id: int
    msg_id: str
    url: str
    secret: str
    payload: str
    attempts: int


@dataclass(frozen=True)
class Result:
    """How one attempt went: a status code, or an error before any status (timeout, refused, blocked)."""

    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    retry_after: str | None = None
    fatal: bool = False  # no point retrying (the address is not allowed)


def msg_id(subscriber_id: int, key: str) -> str:
    """The same in every process for one event and subscriber: `webhook-id` stays stable whoever enqueues."""
    return "msg_" + hashlib.sha256(f"{subscriber_id}\n{key}".encode()).hexdigest()[:32]


def body(event: Outbound) -> str:
    return WebhookBody(type=event.type, timestamp=event.timestamp, data=event.data).model_dump_json()


async def enqueue(session: AsyncSession, *, event: Outbound, subscriber_ids: list[int], now: datetime) -> int:
    """One pending delivery per subscriber, unless this event is already in its outbox; returns how many
    were added (every process hears the event: the unique key lets the first one in and nobody else)."""
    if not subscriber_ids:
        return 0
    payload = body(event)
    rows: list[dict[str, Any]] = [
        {
            "msg_id": msg_id(sid, event.key),
            "subscriber_id": sid,
            "event_key": event.key,
            "event_type": str(event.type),
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "next_at": now,
            "created_at": now,
        }
        for sid in subscriber_ids
    ]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(WebhookDelivery).values(rows).on_conflict_do_nothing()
    done = await session.execute(stmt)
    await session.commit()
    added: int = done.rowcount  # type: ignore[attr-defined]
    return added


async def claim(session: AsyncSession, *, now: datetime, lease_s: float, limit: int) -> list[Claimed]:
    """Take up to `limit` due deliveries of active subscribers for one attempt each: their due time moves to
    the end of the lease, so no other worker (process) takes them meanwhile; a worker that dies lets them
    fall due again when the lease ends."""
    active = select(WebhookSubscriber.id).where(WebhookSubscriber.active.is_(True))
    due = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_at <= now,
            WebhookDelivery.subscriber_id.in_(active),
        )
        .order_by(WebhookDelivery.next_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer (and the write gate)
    )
    # Two statements, not UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED): PostgreSQL may
    # run that subquery more than once and took every due row, not n (seen in tests/webhooks).
    ids = list(await session.scalars(due))
    if ids:
        # Conditional: on SQLite another process may have claimed one between the two statements.
        stmt = (
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.status == "pending", WebhookDelivery.next_at <= now)
            .values(next_at=now + timedelta(seconds=lease_s))
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
        ids = list((await session.execute(stmt)).scalars())
    await session.commit()
    if not ids:
        return []
    q = (
        select(WebhookDelivery, WebhookSubscriber.url, WebhookSubscriber.secret)
        .join(WebhookSubscriber, WebhookSubscriber.id == WebhookDelivery.subscriber_id)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.id)
    )
    return [
        Claimed(id=d.id, msg_id=d.msg_id, url=url, secret=secret, payload=d.payload, attempts=d.attempts)
        for d, url, secret in (await session.execute(q)).all()
    ]


def _outcome(result: Result, attempt: int, backoff: policy.Backoff) -> str:
    code = result.status_code
    if code is not None and 200 <= code < 300:
        return "delivered"
    if result.fatal or (code is not None and not policy.retryable(code)) or attempt >= backoff.max_attempts:
        return "dead"
    return "retry"


async def record(
    session: AsyncSession, *, claimed: Claimed, result: Result, now: datetime, backoff: policy.Backoff
) -> str:
    """Log the attempt and move the delivery on: delivered, due again after the backoff, or dead."""
    attempt = claimed.attempts + 1
    outcome = _outcome(result, attempt, backoff)
    values: dict[str, Any] = {"attempts": attempt, "last_status": result.status_code, "last_error": result.error}
    if outcome == "delivered":
        values |= {"status": "delivered", "delivered_at": now}
    elif outcome == "dead":
        values |= {"status": "dead"}
    else:
        wait = backoff.delay(attempt, retry_after=policy.retry_after_s(result.retry_after, now))
        values |= {"next_at": now + timedelta(seconds=wait)}
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claimed.id, WebhookDelivery.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.add(
        WebhookAttempt(
            delivery_id=claimed.id,
            at=now,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
            outcome=outcome,
        )
    )
    await session.commit()
    if outcome == "dead":
        log.warning("webhook_dead", delivery=claimed.id, status=result.status_code, error=result.error)
    return outcome


async def replay(session: AsyncSession, *, delivery_id: int, now: datetime) -> DeliveryOut:
    """A dead delivery back in the outbox, due now, with a fresh set of attempts (same `webhook-id`)."""
    done = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "dead")
        .values(status="pending", attempts=0, next_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    if done.rowcount != 1:  # type: ignore[attr-defined]
        row = await session.get(WebhookDelivery, delivery_id)
        if row is None:
            raise ApiError(404, "delivery_not_found", "no such delivery")
        raise ApiError(409, "not_dead", f"only a dead delivery can be replayed; this one is {row.status}")
    row = await session.get(WebhookDelivery, delivery_id, populate_existing=True)
    assert row is not None
    return DeliveryOut.model_validate(row)

"""Webhook subscribers, the delivery outbox and its attempts: the only code that writes webhooks' tables."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import structlog
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.db import utcnow
from contactcenter.http import ApiError
from contactcenter.webhooks import policy
from contactcenter.webhooks.events import TOPIC_WEBHOOKS, DeliveriesDue, SubscribersChanged
from contactcenter.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscriber
from contactcenter.webhooks.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryStatus,
    EventType,
    Outbound,
    SubscriberCreated,
    SubscriberIn,
    SubscriberOut,
    SubscriberUpdate,
    WebhookBody,
)
from contactcenter.webhooks.signing import new_secret

log = structlog.get_logger("webhooks")


@dataclass(frozen=True)
class Target:
    """An active subscriber as the enqueue path needs it."""

    id: int
    types: frozenset[str]


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


def _types(row: WebhookSubscriber) -> list[EventType]:
    return [EventType(t) for t in row.event_types.get("types", []) if t in EventType.__members__.values()]


def _out(row: WebhookSubscriber, counts: dict[tuple[int, str], int] | None = None) -> SubscriberOut:
    c = counts or {}
    return SubscriberOut(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=_types(row),
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
        pending=c.get((row.id, "pending"), 0),
        dead=c.get((row.id, "dead"), 0),
    )


def _check_host(url: str, allowed: frozenset[str]) -> None:
    why = policy.refused_literal(url, allowed)
    if why is not None:
        raise ApiError(422, "url_not_allowed", f"{why}; see CC_WEBHOOK_ALLOWED_HOSTS (docs/security.md)")


async def _changed(bus: Bus) -> None:
    try:
        await bus.publish_event(TOPIC_WEBHOOKS, SubscribersChanged())
    except Exception as exc:  # other processes still reload on their own within their cache's lifetime
        log.warning("publish_failed", what="webhooks.subscribers_changed", error=repr(exc))


async def wake(bus: Bus) -> None:
    """Tell every process's worker that something is due now (after a replay's commit)."""
    try:
        await bus.publish_event(TOPIC_WEBHOOKS, DeliveriesDue())
    except Exception as exc:  # the workers find it at their next poll anyway
        log.warning("publish_failed", what="webhooks.deliveries_due", error=repr(exc))


async def create_subscriber(
    session: AsyncSession, bus: Bus, *, data: SubscriberIn, allowed: frozenset[str], limit: int
) -> SubscriberCreated:
    """A new subscriber with a fresh secret, returned this once."""
    _check_host(data.url, allowed)
    if (await session.scalar(select(func.count()).select_from(WebhookSubscriber)) or 0) >= limit:
        raise ApiError(409, "too_many_subscribers", f"at most {limit} subscribers (CC_WEBHOOK_MAX_SUBSCRIBERS)")
    row = WebhookSubscriber(
        url=data.url,
        description=data.description,
        event_types={"types": [str(t) for t in data.event_types or []]},
        secret=new_secret(),
        active=data.active,
    )
    session.add(row)
    await session.commit()
    await _changed(bus)
    log.info("webhook_subscriber_created", subscriber=row.id, host=policy.host_of(row.url))
    return SubscriberCreated(**_out(row).model_dump(), secret=row.secret)


async def _row(session: AsyncSession, subscriber_id: int) -> WebhookSubscriber:
    row = await session.get(WebhookSubscriber, subscriber_id)
    if row is None:
        raise ApiError(404, "subscriber_not_found", "no such webhook subscriber")
    return row


async def _counts(session: AsyncSession) -> dict[tuple[int, str], int]:
    q = (
        select(WebhookDelivery.subscriber_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status.in_(("pending", "dead")))
        .group_by(WebhookDelivery.subscriber_id, WebhookDelivery.status)
    )
    return {(sid, st): n for sid, st, n in (await session.execute(q)).all()}


async def list_subscribers(session: AsyncSession) -> list[SubscriberOut]:
    """Every subscriber (never its secret), with its pending and dead deliveries counted."""
    counts = await _counts(session)
    rows = await session.scalars(select(WebhookSubscriber).order_by(WebhookSubscriber.id))
    return [_out(r, counts) for r in rows]


async def update_subscriber(
    session: AsyncSession, bus: Bus, *, subscriber_id: int, data: SubscriberUpdate, allowed: frozenset[str]
) -> SubscriberOut:
    """Change the fields given; deactivating holds its pending deliveries until it is active again."""
    row = await _row(session, subscriber_id)
    if data.url is not None:
        _check_host(data.url, allowed)
        row.url = data.url
    if data.description is not None:
        row.description = data.description
    if data.event_types is not None:
        row.event_types = {"types": [str(t) for t in data.event_types]}
    if data.active is not None:
        row.active = data.active
    row.updated_at = utcnow()
    await session.commit()
    await _changed(bus)
    return _out(row, await _counts(session))


async def delete_subscriber(session: AsyncSession, bus: Bus, *, subscriber_id: int) -> None:
    """The subscriber, its deliveries and their attempts."""
    await _row(session, subscriber_id)
    ids = select(WebhookDelivery.id).where(WebhookDelivery.subscriber_id == subscriber_id)
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscriber_id == subscriber_id))
    await session.execute(delete(WebhookSubscriber).where(WebhookSubscriber.id == subscriber_id))
    await session.commit()
    await _changed(bus)


async def targets(session: AsyncSession) -> list[Target]:
    """The active subscribers and the event types each wants (the listener caches this)."""
    rows = await session.scalars(select(WebhookSubscriber).where(WebhookSubscriber.active.is_(True)))
    return [Target(id=r.id, types=frozenset(str(t) for t in _types(r))) for r in rows]


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


async def deliveries(
    session: AsyncSession, *, subscriber_id: int, status: DeliveryStatus | None, limit: int
) -> list[DeliveryOut]:
    """A subscriber's deliveries, newest first."""
    await _row(session, subscriber_id)
    q = select(WebhookDelivery).where(WebhookDelivery.subscriber_id == subscriber_id)
    if status is not None:
        q = q.where(WebhookDelivery.status == str(status))
    q = q.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)
    return [DeliveryOut.model_validate(r) for r in await session.scalars(q)]


async def delivery(session: AsyncSession, *, delivery_id: int) -> DeliveryDetail:
    """One delivery with its body and every attempt, oldest first."""
    row = await session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise ApiError(404, "delivery_not_found", "no such delivery")
    log_rows = await session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
    )
    return DeliveryDetail(
        **DeliveryOut.model_validate(row).model_dump(),
        payload=orjson.loads(row.payload),
        log=[AttemptOut.model_validate(a) for a in log_rows],
    )

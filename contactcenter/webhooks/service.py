"""Webhook subscribers, the delivery outbox and its attempts: the only code that writes webhooks' tables
(the outbox's writes live in outbox.py and are re-exported here)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.db import utcnow
from contactcenter.http import ApiError
from contactcenter.webhooks import policy
from contactcenter.webhooks.events import TOPIC_WEBHOOKS, DeliveriesDue, SubscribersChanged
from contactcenter.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscriber
from contactcenter.webhooks.outbox import Claimed, Result, body, claim, enqueue, msg_id, record, replay
from contactcenter.webhooks.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryStatus,
    EventType,
    SubscriberCreated,
    SubscriberIn,
    SubscriberOut,
    SubscriberUpdate,
)
from contactcenter.webhooks.signing import new_secret

__all__ = ["Claimed", "Result", "Target", "body", "claim", "enqueue", "msg_id", "record", "replay"]

log = structlog.get_logger("webhooks")


@dataclass(frozen=True)
class Target:
    """An active subscriber as the enqueue path needs it."""

    id: int
    types: frozenset[str]


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

"""A clock tests move by hand, and subscribers and events made through the webhooks service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from contactcenter.bus.memory import MemoryBus
from contactcenter.db import Database, utcnow
from contactcenter.webhooks import policy, service
from contactcenter.webhooks.models import WebhookAttempt, WebhookDelivery
from contactcenter.webhooks.schemas import EventType, Outbound, SubscriberIn
from contactcenter.webhooks.worker import Deliverer


@dataclass
class FakeClock:
    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now

    def to(self, when: datetime) -> None:
        assert when >= self.now
        self.now = when


async def subscriber(db: Database, url: str, types: list[EventType] | None = None) -> tuple[int, str]:
    """A subscriber for `types` (all by default); returns its id and secret."""
    async with db.session() as s:
        out = await service.create_subscriber(
            s,
            MemoryBus(),
            data=SubscriberIn(url=url, event_types=types or list(EventType)),
            allowed=frozenset({"127.0.0.1"}),
            limit=50,
        )
    return out.id, out.secret


def touch_event(n: int) -> Outbound:
    return Outbound(key=f"touch:{n}", type=EventType.touch_logged, timestamp=utcnow(), data={"touch_id": n})


async def enqueue(db: Database, event: Outbound, ids: list[int], clock: FakeClock) -> int:
    async with db.session() as s:
        return await service.enqueue(s, event=event, subscriber_ids=ids, now=clock())


def deliverer(db: Database, clock: FakeClock, *, attempts: int = 5, timeout_s: float = 1.5) -> Deliverer:
    backoff = policy.Backoff(base_s=2, max_s=60, max_attempts=attempts)
    return Deliverer(db, timeout_s=timeout_s, backoff=backoff, allowed=frozenset({"127.0.0.1"}), clock=clock)


async def rows(db: Database) -> list[WebhookDelivery]:
    async with db.session() as s:
        return list(await s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


async def attempts(db: Database, delivery_id: int) -> list[WebhookAttempt]:
    async with db.session() as s:
        q = select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
        return list(await s.scalars(q))


def later(when: datetime, s: float) -> datetime:
    return when + timedelta(seconds=s)

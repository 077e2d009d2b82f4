"""Webhooks' tables: subscribers, the outbox of deliveries (one row per event and subscriber), attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.ccr.models import BigId
from contactcenter.db import Base, utcnow
from contactcenter.db.base import JSONType


class WebhookSubscriber(Base):
    __tablename__ = "webhook_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200), default="")
    # {"types": ["conversation.started", ...]}: the event types it receives.
    event_types: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # "whsec_" + base64 of 32 random bytes (Standard Webhooks); shown once, at creation.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one subscriber. (subscriber_id, event_key) is unique: every process hears every event on
    the Redis bus and tries to enqueue it; the database keeps one."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "event_key", name="uq_webhook_deliveries_subscriber_event"),
        Index("ix_webhook_deliveries_due", "status", "next_at"),
        Index("ix_webhook_deliveries_subscriber_time", "subscriber_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The `webhook-id` header: the same on every attempt and on replay, so receivers can deduplicate.
    msg_id: Mapped[str] = mapped_column(String(40), unique=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscribers.id", ondelete="CASCADE"))
    event_key: Mapped[str] = mapped_column(String(160))
    event_type: Mapped[str] = mapped_column(String(40))
    # The exact body, kept as text so that every attempt signs and sends the same bytes.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # since it was enqueued or last replayed
    # When it is due; while a worker holds it, the end of that worker's lease.
    next_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(12))  # delivered | retry | dead

"""Webhook subscribers, deliveries and attempts as the admin API shows them; the body a receiver gets."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contactcenter.validation import Text

MAX_URL = 2048


class EventType(enum.StrEnum):
    conversation_started = "conversation.started"
    conversation_closed = "conversation.closed"
    touch_logged = "touch.logged"
    suggestion_accepted = "suggestion.accepted"
    sale_recorded = "sale.recorded"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    dead = "dead"


def check_url(value: str) -> str:
    """http(s) with a host, no credentials, no fragment (which hosts it may name: policy.py, per deployment)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError("the URL must be http:// or https://")
    if not parts.hostname:
        raise ValueError("the URL must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the URL must not carry credentials")
    if parts.fragment:
        raise ValueError("the URL must not have a fragment")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ValueError("the URL's port is not valid") from exc
    return value


class _Types(BaseModel):
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EventType))

    @field_validator("event_types")
    @classmethod
    def _unique(cls, v: list[EventType] | None) -> list[EventType] | None:
        return None if v is None else sorted(set(v))


class SubscriberIn(_Types):
    model_config = ConfigDict(extra="forbid")

    url: Text = Field(min_length=8, max_length=MAX_URL)
    event_types: list[EventType] | None = Field(min_length=1, max_length=len(EventType))
    description: Text = Field(default="", max_length=200)
    active: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)


class SubscriberUpdate(_Types):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    url: Text | None = Field(default=None, min_length=8, max_length=MAX_URL)
    description: Text | None = Field(default=None, max_length=200)
    active: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else check_url(v)


class SubscriberOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[EventType]
    active: bool
    created_at: datetime
    updated_at: datetime
    pending: int = 0
    dead: int = 0


class SubscriberCreated(SubscriberOut):
    """The only reply that carries the secret: keep it, it is not shown again."""

    secret: str


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: str


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    msg_id: str
    subscriber_id: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    log: list[AttemptOut]


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


class Outbound(BaseModel):
    """One event to send: `key` is its identity (the same in every process that hears it)."""

    model_config = ConfigDict(frozen=True)

    key: str
    type: EventType
    timestamp: datetime
    data: dict[str, Any]


class WebhookBody(BaseModel):
    """What a receiver gets (Standard Webhooks' payload shape: type, timestamp, data)."""

    type: EventType
    timestamp: datetime
    data: dict[str, Any]

"""Callback bodies and replies."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contactcenter.routing.schemas import EstimateOut
from contactcenter.validation import Text


class Mode(enum.StrEnum):
    phone = "phone"
    browser = "browser"  # "call me here in the browser"


class Status(enum.StrEnum):
    booked = "booked"
    open = "open"
    reached = "reached"
    failed = "failed"
    closed = "closed"
    cancelled = "cancelled"


PENDING = (Status.booked.value, Status.open.value)


class Outcome(enum.StrEnum):
    reached = "reached"
    no_answer = "no_answer"
    busy = "busy"
    wrong_number = "wrong_number"


class RequestIn(BaseModel):
    """The widget's "call me back" form. No `slot_start`: as soon as possible."""

    idempotency_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    name: Text = Field(min_length=1, max_length=120)
    mode: Mode = Mode.phone
    phone: Text | None = Field(default=None, max_length=40)
    topic: Text | None = Field(default=None, max_length=200)
    queue: str | None = Field(default=None, max_length=40, pattern=r"^[a-z0-9_-]+$")
    slot_start: datetime | None = None
    lang: str | None = Field(default=None, max_length=35)
    page_url: Text | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _phone_for_phone(self) -> RequestIn:
        if self.mode is Mode.phone and not (self.phone or "").strip():
            raise ValueError("a phone callback needs a phone number")
        return self


class RescheduleIn(BaseModel):
    slot_start: datetime


class OutcomeIn(BaseModel):
    outcome: Outcome
    note: Text = Field(default="", max_length=500)


class SlotOut(BaseModel):
    start: datetime
    end: datetime
    free: int


class CallbackOut(BaseModel):
    """A callback as staff see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    reference: str
    customer_id: int
    name: str
    mode: Mode
    phone: str | None
    topic: str | None
    queue: str
    slot_start: datetime | None
    slot_end: datetime | None
    status: Status
    due_at: datetime
    window_end: datetime
    attempts: int
    conversation_id: str | None
    last_outcome: str | None
    note: str | None
    created_at: datetime
    started_at: datetime | None
    closed_at: datetime | None


class CustomerView(BaseModel):
    """A callback as its customer sees it (the widget, the signed link): the number masked."""

    reference: str
    status: Status
    mode: Mode
    phone_hint: str | None
    slot_start: datetime | None
    slot_end: datetime | None
    attempts: int


class Confirmation(CustomerView):
    """The answer to a request: where it stands and the link to cancel or reschedule it."""

    id: str
    position: int | None = None
    estimate: EstimateOut | None = None
    link_token: str
    link_expires_at: datetime


class PromiseOut(BaseModel):
    """Callbacks started within their window (slot end, or the ASAP window) among those due so far."""

    since: datetime
    due: int
    kept: int
    kept_pct: float | None

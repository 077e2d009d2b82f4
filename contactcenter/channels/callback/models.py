"""Callback's table: one row per request, written before the customer is told anything."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow


class CallbackRequest(Base):
    __tablename__ = "callback_requests"
    __table_args__ = (
        # A retried request (same client key) finds the first one instead of making a second.
        UniqueConstraint("customer_id", "idempotency_key", name="uq_callback_requests_customer_key"),
        # One seat per booking in a slot: capacity holds across processes without a lock (NULLs never clash).
        UniqueConstraint("queue", "slot_start", "slot_seat", name="uq_callback_requests_seat"),
        Index("ix_callback_requests_status_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164; None: call in the browser
    mode: Mapped[str] = mapped_column(String(8))  # phone | browser
    topic: Mapped[str | None] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(40))
    lang: Mapped[str | None] = mapped_column(String(35))
    page_url: Mapped[str | None] = mapped_column(String(500))
    slot_start: Mapped[datetime | None]  # None: as soon as possible
    slot_end: Mapped[datetime | None]
    slot_seat: Mapped[int | None]
    # booked (waiting to be due) -> open (a conversation in routing) -> booked again (retry) or
    # reached | failed | closed | cancelled
    status: Mapped[str] = mapped_column(String(12), default="booked")
    due_at: Mapped[datetime]  # when it enters routing next
    window_end: Mapped[datetime]  # started by then: the promise was kept
    attempts: Mapped[int] = mapped_column(default=0)
    conversation_id: Mapped[str | None] = mapped_column(String(36), index=True)
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]  # the first attempt an agent took
    closed_at: Mapped[datetime | None]

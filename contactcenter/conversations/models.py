"""The conversation: one per contact, whatever its channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # The channel package that owns the contact's content ("chat", "callback", ...): it serves catch-up.
    channel: Mapped[str] = mapped_column(String(16), default="chat")
    queue: Mapped[str] = mapped_column(String(40), default="general")
    # queued -> assigned -> closed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    agent_id: Mapped[int | None] = mapped_column(index=True)
    # Copied at assignment so every reader (widget, console, events) shows who is answering.
    agent_name: Mapped[str | None] = mapped_column(String(120))
    customer_name: Mapped[str] = mapped_column(String(120))
    topic: Mapped[str | None] = mapped_column(String(200))
    page_url: Mapped[str | None] = mapped_column(String(500))
    # The customer's language (a BCP 47 tag from the widget), so the agent can answer in it.
    lang: Mapped[str | None] = mapped_column(String(35))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Wrap-up: one of the configured outcome codes, and the agent's note.
    outcome: Mapped[str | None] = mapped_column(String(40))
    outcome_note: Mapped[str | None] = mapped_column(String(500))
    # Routing priority 0-9, stored so a routing restart re-enters the contact where it was in the queue order.
    priority: Mapped[int] = mapped_column(default=0, server_default="0")

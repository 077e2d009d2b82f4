"""Which process bridges each call (decision 57): one row per call, written with its conversation, so a
frame arriving on any web process finds the process holding the media, and the calls of a process that
stopped without ending them can be found and ended. `ended_at` is set once, by whoever ends the call first
(its own process, or the process that found its owner gone): the UPDATE that sets it is the claim."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, UTCDateTime, utcnow


class CallHost(Base):
    __tablename__ = "voice_calls"
    __table_args__ = (Index("ix_voice_calls_open", "ended_at", "host_id"),)

    conversation_id: Mapped[str] = mapped_column(String(36), ForeignKey("conversations.id"), primary_key=True)
    host_id: Mapped[str] = mapped_column(String(64))  # the bridging process's id (its presence in the bus)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    reason: Mapped[str | None] = mapped_column(String(32), default=None)

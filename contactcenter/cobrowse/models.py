"""Co-browse's table: one row per session (consent and its outcome); the page content is never stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, UTCDateTime, utcnow
from contactcenter.db.base import JSONType


class CobrowseSession(Base):
    __tablename__ = "cobrowse_sessions"
    __table_args__ = (Index("ix_cobrowse_sessions_conversation_state", "conversation_id", "state"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    customer_id: Mapped[int]
    agent_id: Mapped[int]  # who asked
    state: Mapped[str] = mapped_column(String(16))  # requested | on | ended
    # A snapshot was over the limit: incremental events mean nothing to the agent until one fits.
    degraded: Mapped[bool] = mapped_column(default=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    ended_by: Mapped[str | None] = mapped_column(String(16), default=None)
    # Addresses (no query, no fragment) of the pages shared, in order; no content.
    pages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    redactions: Mapped[int] = mapped_column(default=0)
    # Remote control, a second consent (docs/cobrowse.md): off | asked | on, for whom, since when, and in
    # total (the CCR touch tells how often and how long the agent had control).
    control: Mapped[str] = mapped_column(String(8), default="off")
    control_agent_id: Mapped[int | None] = mapped_column(default=None)
    control_since: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    control_s: Mapped[float] = mapped_column(Float, default=0.0)
    control_grants: Mapped[int] = mapped_column(default=0)

    def end_control(self, now: datetime) -> bool:
        """Control (asked or on) ends; what it lasted is added to `control_s`. Whether it was on."""
        was_on = self.control == "on"
        if was_on and self.control_since is not None:
            self.control_s = round(self.control_s + (now - self.control_since).total_seconds(), 1)
        self.control, self.control_agent_id, self.control_since = "off", None, None
        return was_on

"""Customer satisfaction: one row per conversation whose customer was asked, holding the answer once given
(score 1-5 and an optional comment) or the customer's "No thanks" (declined_at). A row with neither is an ask
still open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, UTCDateTime, utcnow

MAX_COMMENT = 1000


class CsatRating(Base):
    __tablename__ = "csat_ratings"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="ck_csat_ratings_score"),
        Index("ix_csat_ratings_customer", "customer_id", "rated_at"),
        Index("ix_csat_ratings_rated", "rated_at"),
    )

    # One per conversation: the key is what makes a second rating, or a second ask, impossible.
    conversation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[int]
    agent_id: Mapped[int | None] = mapped_column(default=None)
    queue: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(default=None)
    comment: Mapped[str | None] = mapped_column(String(MAX_COMMENT), default=None)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    # "No thanks", once: not asked again; a rating after it (the email's link) still counts (decision 56).
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)

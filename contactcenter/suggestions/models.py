"""Rules with their published versions, and a record of every suggestion matched (shown or held out)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow


class Rule(Base):
    __tablename__ = "rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The version in force; rule_versions keeps every one ever published.
    version: Mapped[int]
    holdout_pct: Mapped[float] = mapped_column(default=0.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleVersion(Base):
    __tablename__ = "rule_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version", name="uq_rule_versions_rule_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64), ForeignKey("rules.id", ondelete="CASCADE"))
    version: Mapped[int]
    content: Mapped[dict[str, Any]]
    author: Mapped[str] = mapped_column(String(120))
    comment: Mapped[str] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a run of this version went past the time limit: it is out of force from then on (the newest
    # earlier version that was never stopped runs instead; decision 32).
    stopped_at: Mapped[datetime | None]
    stopped_reason: Mapped[str | None] = mapped_column(String(300))


class SuggestionRecord(Base):
    __tablename__ = "suggestion_records"
    __table_args__ = (
        # One record per row per conversation, however often the rules run during it.
        UniqueConstraint("conversation_id", "rule_id", "row_id", name="uq_suggestion_records_conv_rule_row"),
        Index("ix_suggestion_records_rule_version", "rule_id", "version"),
        Index("ix_suggestion_records_customer_time", "customer_id", "shown_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    row_id: Mapped[str] = mapped_column(String(64))
    # Plain ids: customers and conversations belong to other capabilities.
    customer_id: Mapped[int]
    conversation_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    offer: Mapped[str] = mapped_column(String(120))
    script_id: Mapped[str] = mapped_column(String(120))
    priority: Mapped[float]
    reason: Mapped[str] = mapped_column(String(500))
    # Held out: matched, recorded, never shown (the control group for uplift).
    held_out: Mapped[bool] = mapped_column(default=False)
    shown_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    dismissed_at: Mapped[datetime | None]
    dismiss_reason: Mapped[str | None] = mapped_column(String(500))
    acted_by: Mapped[int | None]
    converted_at: Mapped[datetime | None]
    conversion_product: Mapped[str | None] = mapped_column(String(120))
    conversion_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # "wrap_up" (the agent recorded it) or "order" (an order within the attribution window).
    conversion_source: Mapped[str | None] = mapped_column(String(16))

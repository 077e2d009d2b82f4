"""Visitors' consent answers: one row per purpose each time the answer or the policy version changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow


class VisitorConsent(Base):
    """A visitor's answer for one purpose under one policy version. Kept as a history (an answer is never
    overwritten), so what the visitor had agreed to at any time can be shown. Each row names the one it
    follows (`after_id`, 0 for the first): unique per visitor and purpose, so two answers sent at once
    cannot both follow the same one; the loser reads again and finds its answer already there."""

    __tablename__ = "visitor_consents"
    __table_args__ = (
        Index("ix_visitor_consents_customer_purpose", "customer_id", "purpose", "id"),
        UniqueConstraint("customer_id", "purpose", "after_id", name="uq_visitor_consents_chain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    visitor_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))  # consent.schemas.Purpose
    version: Mapped[str] = mapped_column(String(40))  # CC_CONSENT_POLICY_VERSION when the visitor answered
    granted: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    after_id: Mapped[int] = mapped_column(default=0)

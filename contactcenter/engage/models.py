"""Proactive invitations (issue 17 item 3): every invitation decided, shown or held out, with its answer; the
frequency cap per visitor as one row claimed by a conditional UPDATE; the planner's invitation rule sets,
kept as versions (decision 54)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow


class Invitation(Base):
    """One invitation the rules decided for a visitor: shown (`held_out` false) or recorded only."""

    __tablename__ = "engage_invitations"
    __table_args__ = (
        Index("ix_engage_invitations_customer", "customer_id", "created_at"),
        Index("ix_engage_invitations_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    rule_id: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))
    topic: Mapped[str] = mapped_column(String(120))
    offer: Mapped[str] = mapped_column(String(16))  # chat | callback | articles | none (held out)
    held_out: Mapped[bool]
    answer: Mapped[str | None] = mapped_column(String(16))  # accepted | dismissed, once
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class InviteCap(Base):
    """A visitor's frequency cap: the last invitation and the count of the day that began with day_start."""

    __tablename__ = "engage_caps"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    last_at: Mapped[datetime | None]
    day_start: Mapped[datetime | None]
    day_count: Mapped[int] = mapped_column(default=0)


class InviteRuleSet(Base):
    """A version of the invitation rules; the newest is in force (none stored: the defaults of rules.py)."""

    __tablename__ = "engage_rule_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    rules: Mapped[list[dict[str, Any]]] = mapped_column()
    author_id: Mapped[int | None]
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

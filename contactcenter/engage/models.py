"""Proactive invitations (issue 17 item 3): every invitation decided, shown or held out, with its answer; the
frequency cap per visitor as one row claimed by a conditional UPDATE; the planner's invitation rule sets,
kept as versions (decision 54)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
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


class BrowseSession(Base):
    """A consented visitor's browsing session, built from their page-view beacons (sessions.py): it ends when
    no page view comes for CC_ENGAGE_SESSION_GAP_MINUTES. At most one open row per visitor (the partial
    unique index), so concurrent beacons extend one session; a stale open row is closed by the next beacon."""

    __tablename__ = "engage_sessions"
    __table_args__ = (
        Index("ix_engage_sessions_started", "started_at"),
        Index(
            "ux_engage_sessions_open",
            "customer_id",
            unique=True,
            sqlite_where=text("is_open"),
            postgresql_where=text("is_open"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    started_at: Mapped[datetime]  # the first page view's opening (the widget's time, clamped)
    last_seen: Mapped[datetime]  # the last beacon received (the server's time)
    pages: Mapped[int] = mapped_column(default=0)
    product_pages: Mapped[int] = mapped_column(default=0)  # of those, on CC_ENGAGE_PRODUCT_PATHS
    is_open: Mapped[bool] = mapped_column(default=True)

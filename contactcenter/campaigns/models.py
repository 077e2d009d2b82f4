"""A campaign and its materialised target list (one row per targeted customer, hold-out decided once).

Customers, products and scripts are referred to by plain id or SKU: they belong to the CCR, integration and
the rules' folder.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)  # a slug: campaigns.ids in the rules' facts
    name: Mapped[str] = mapped_column(String(120))
    # {"tiers", "segments", "product", "product_via", "min_attrition_risk", "consented_only", "exclude_owners"}
    target: Mapped[dict[str, Any]]
    product_sku: Mapped[str] = mapped_column(String(40))  # what the agent offers
    script_id: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    holdout_pct: Mapped[float] = mapped_column(default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft, running, stopped
    # Which of the customer's campaigns is offered first (higher first, on the rules' priority scale).
    priority: Mapped[int] = mapped_column(default=50, server_default="50")
    target_size: Mapped[int | None]  # set when started
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]  # the first start: results count from it, through restarts
    stopped_at: Mapped[datetime | None]  # the last stop (cleared by a restart)


class CampaignTarget(Base):
    """A customer on a running (or stopped) campaign's list; held out: never offered it, counted all the same."""

    __tablename__ = "campaign_targets"
    __table_args__ = (Index("ix_campaign_targets_customer", "customer_id"),)

    campaign_id: Mapped[str] = mapped_column(
        String(48), ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(primary_key=True)
    held_out: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[datetime | None]  # set for customers a restart added (None: on the list since the start)


class CampaignEvent(Base):
    """The campaign's history: who created, edited, started, stopped and restarted it, and when."""

    __tablename__ = "campaign_events"
    __table_args__ = (Index("ix_campaign_events_campaign", "campaign_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(48), ForeignKey("campaigns.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(16))  # created, edited, started, stopped, restarted
    detail: Mapped[dict[str, Any]]  # e.g. {"changed": ["ends_on"]} or {"added": 3}

"""Analytics' own tables: stored associations, each customer's current figures, tier history, runs.

Products and customers are referred to by plain id (they belong to integration and the CCR).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow


class ProductAssociation(Base):
    """A PTP rule A -> B over customers' holdings (decision 36), from the latest full run."""

    __tablename__ = "product_associations"

    antecedent_id: Mapped[int] = mapped_column(primary_key=True)
    consequent_id: Mapped[int] = mapped_column(primary_key=True)
    support: Mapped[float]
    confidence: Mapped[float]
    lift: Mapped[float]
    baskets: Mapped[int]  # customers holding both
    antecedent_baskets: Mapped[int]  # customers holding A
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerValue(Base):
    """One customer's current figures: tier this period and last, attrition, next products (PTC)."""

    __tablename__ = "customer_values"

    customer_id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # spend in the current period
    tier: Mapped[str] = mapped_column(String(16))
    previous_tier: Mapped[str] = mapped_column(String(16))
    attrition_risk: Mapped[float]
    attrition_reason: Mapped[str | None] = mapped_column(String(200))
    last_order_at: Mapped[datetime | None]
    # [{"sku", "name", "score", "reason"}, ...], best first.
    ptc: Mapped[list[dict[str, Any]]]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class TierHistory(Base):
    """The tier a customer had in each period (a month label; a later run in the month replaces it)."""

    __tablename__ = "tier_history"

    customer_id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True, index=True)  # "2026-12"
    tier: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnalyticsRun(Base):
    """A full run: when, what it found, and the tier thresholds later per-customer recomputes reuse."""

    __tablename__ = "analytics_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    customers: Mapped[int]
    order_lines: Mapped[int]
    associations: Mapped[int]
    # {"current": {"platinum": 1200.0, ...}, "previous": {...}}: least value to reach each tier.
    thresholds: Mapped[dict[str, Any]]


class JobLease(Base):
    """Who runs a job now, until when: the full analytics run is taken by one process (or CLI) at a time; a
    holder that dies lets the lease lapse at `until`."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    until: Mapped[datetime]
    started_at: Mapped[datetime]

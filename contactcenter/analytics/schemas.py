"""Replies of the analytics capability (no database access here)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel


class AssociationOut(BaseModel):
    """PTP rule antecedent -> consequent over customers' holdings."""

    antecedent_sku: str
    antecedent_name: str
    consequent_sku: str
    consequent_name: str
    support: float
    confidence: float
    lift: float
    baskets: int
    antecedent_baskets: int
    computed_at: datetime


class NextProduct(BaseModel):
    """One PTC product: score 0-1 (the best rule's confidence) and the reason an agent reads."""

    sku: str
    name: str
    score: float
    reason: str


class TierPeriod(BaseModel):
    period: str
    tier: str
    value: Decimal


class CustomerFigures(BaseModel):
    customer_id: int
    value: Decimal
    tier: str
    previous_tier: str
    tier_dropped: bool
    attrition_risk: float
    attrition_reason: str | None
    last_order_at: datetime | None
    next_products: list[NextProduct]
    history: list[TierPeriod]
    computed_at: datetime


class RunOut(BaseModel):
    id: int
    started_at: datetime
    finished_at: datetime
    customers: int
    order_lines: int
    associations: int


class TierPeriodCounts(BaseModel):
    """How many customers held each tier in one period (a month label)."""

    period: str
    counts: dict[str, int]
    customers: int


class TierDistribution(BaseModel):
    tiers: list[str]  # lowest first
    periods: list[TierPeriodCounts]  # oldest first

"""What one pass over the order lines gathers per customer, and the rows written from it (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from contactcenter.analytics import ptc, tiers
from contactcenter.analytics.ptp import Rule
from contactcenter.settings import Settings


@dataclass(frozen=True, slots=True)
class Config:
    period_days: int = 182
    shares: tiers.Shares = field(default_factory=tiers.Shares)
    recency_days: int = 180
    min_baskets: int = 5
    next_products: int = 3

    @classmethod
    def from_settings(cls, s: Settings) -> Config:
        shares = tiers.Shares(s.analytics_platinum_pct / 100, s.analytics_gold_pct / 100, s.analytics_silver_pct / 100)
        return cls(
            period_days=s.analytics_period_days,
            shares=shares,
            recency_days=s.analytics_recency_days,
            min_baskets=s.analytics_min_baskets,
            next_products=s.analytics_next_products,
        )


@dataclass
class Holdings:
    """Per customer: products held (orders not cancelled, all time), spend this period and the one before,
    the newest order (filled by the caller)."""

    now: datetime
    period_days: int
    owned: defaultdict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    current: defaultdict[int, float] = field(default_factory=lambda: defaultdict(float))
    previous: defaultdict[int, float] = field(default_factory=lambda: defaultdict(float))
    last: dict[int, datetime] = field(default_factory=dict)
    lines: int = 0

    @property
    def period_starts(self) -> tuple[datetime, datetime]:
        """When this period and the previous one start (integration's order_lines buckets by them)."""
        return self.now - timedelta(days=self.period_days), self.now - timedelta(days=2 * self.period_days)

    def add(self, customer_id: int, product_id: int, amount: float, period: int) -> None:
        """One order line; period 0 = this one, 1 = the previous one, 2 = older."""
        self.lines += 1
        self.owned[customer_id].add(product_id)
        if period == 0:
            self.current[customer_id] += amount
        elif period == 1:
            self.previous[customer_id] += amount


def period_label(now: datetime) -> str:
    return now.strftime("%Y-%m")


def money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def customer_rows(
    h: Holdings,
    *,
    cut: Mapping[str, tiers.Thresholds],
    index: Mapping[int, Sequence[Rule]],
    names: Mapping[int, tuple[str, str]],
    config: Config,
) -> list[dict[str, Any]]:
    """One customer_values row per customer holding anything."""
    label = {pid: name for pid, (_, name) in names.items()}
    rows: list[dict[str, Any]] = []
    for cid, owned in h.owned.items():
        value = h.current.get(cid, 0.0)
        tier = tiers.tier_of(value, cut["current"])
        previous = tiers.tier_of(h.previous.get(cid, 0.0), cut["previous"])
        last = h.last.get(cid)
        days = None if last is None else max(0, (h.now - last).days)
        risk, why = tiers.attrition(
            tier=tier, previous=previous, days_since_order=days, recency_days=config.recency_days
        )
        picks = ptc.next_products(owned, index, limit=config.next_products)
        rows.append(
            {
                "customer_id": cid,
                "value": money(value),
                "tier": tier,
                "previous_tier": previous,
                "attrition_risk": risk,
                "attrition_reason": why,
                "last_order_at": last,
                "ptc": [
                    {
                        "sku": names.get(p.product_id, (str(p.product_id), ""))[0],
                        "name": label.get(p.product_id, ""),
                        "score": p.score,
                        "reason": ptc.reason(p.rule, label),
                    }
                    for p in picks
                ],
                "computed_at": h.now,
            }
        )
    return rows

"""Value tiers by spend over a period, and attrition risk from a tier drop or a long silence (pure).

Tiers are cut by rank: the top `platinum` share of the customers holding any order is platinum, the next
`gold` share gold, the next `silver` share silver, everyone else bronze. The cut is kept as the least value
that reaches each tier, so a single customer's recompute (after an order) uses the same cut as the full run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Lowest first, as the rules' facts order them (suggestions/facts.py TIERS).
TIERS = ("bronze", "silver", "gold", "platinum")
Thresholds = dict[str, float | None]  # tier -> least value reaching it; None: nobody reaches it


@dataclass(frozen=True, slots=True)
class Shares:
    """Fractions of the customers per tier, best first; the rest are bronze."""

    platinum: float = 0.05
    gold: float = 0.15
    silver: float = 0.30


def thresholds(values: Iterable[float], *, population: int, shares: Shares) -> Thresholds:
    """The least value of each tier's last customer by rank; customers with nothing spent reach no tier."""
    ranked = sorted((v for v in values if v > 0), reverse=True)
    out: Thresholds = {}
    cumulative = 0.0
    for name, share in (("platinum", shares.platinum), ("gold", shares.gold), ("silver", shares.silver)):
        cumulative += share
        n = min(round(cumulative * population), len(ranked))
        out[name] = ranked[n - 1] if n >= 1 else None
    return out


def tier_of(value: float, cut: Thresholds) -> str:
    """The best tier whose least value this reaches (ties go up: equal spend, equal tier)."""
    if value > 0:
        for name in ("platinum", "gold", "silver"):
            least = cut.get(name)
            if least is not None and value >= least:
                return name
    return "bronze"


def attrition(*, tier: str, previous: str, days_since_order: int | None, recency_days: int) -> tuple[float, str | None]:
    """Risk 0-1 and why: +0.3 per tier lost since the previous period, +0.6 past the recency threshold."""
    fell = max(0, TIERS.index(previous) - TIERS.index(tier))
    lapsed = days_since_order is not None and days_since_order > recency_days
    risk = min(0.95, 0.1 + 0.3 * fell + (0.6 if lapsed else 0.0))
    reasons = []
    if fell:
        reasons.append(f"tier fell from {previous} to {tier}")
    if lapsed:
        reasons.append(f"no order for {days_since_order} days")
    return round(risk, 2), "; ".join(reasons) or None

"""Tier cuts and attrition on edge cases (pure)."""

from __future__ import annotations

from contactcenter.analytics.tiers import Shares, attrition, thresholds, tier_of


def test_ties_share_a_tier_and_nothing_spent_is_bronze() -> None:
    cut = thresholds([50, 50, 40, 0, 0], population=5, shares=Shares(0.2, 0.2, 0.2))
    assert cut == {"platinum": 50, "gold": 50, "silver": 40}
    assert [tier_of(v, cut) for v in (50, 50, 40, 0)] == ["platinum", "platinum", "silver", "bronze"]


def test_a_tier_nobody_reaches() -> None:
    cut = thresholds([10, 5], population=4, shares=Shares(0.05, 0.15, 0.30))
    # 5 % of 4 rounds to nobody; 20 % to 1; 50 % to 2.
    assert cut == {"platinum": None, "gold": 10, "silver": 5}
    assert tier_of(10, cut) == "gold"
    assert thresholds([], population=0, shares=Shares()) == {"platinum": None, "gold": None, "silver": None}


def test_attrition() -> None:
    assert attrition(tier="gold", previous="gold", days_since_order=3, recency_days=180) == (0.1, None)
    assert attrition(tier="gold", previous="silver", days_since_order=None, recency_days=180) == (0.1, None)
    assert attrition(tier="gold", previous="platinum", days_since_order=181, recency_days=180) == (
        0.95,
        "tier fell from platinum to gold; no order for 181 days",
    )

"""Next products (pure): the best rule per product not held, never one held; lift 1 or less is no reason."""

from __future__ import annotations

from contactcenter.analytics.ptc import by_antecedent, next_products, reason
from contactcenter.analytics.ptp import Rule


def rule(a: int, c: int, confidence: float, lift: float = 2.0) -> Rule:
    return Rule(a, c, baskets=10, antecedent_baskets=2300, support=0.1, confidence=confidence, lift=lift)


RULES = [
    rule(1, 3, 0.9),
    rule(1, 4, 0.8),
    rule(2, 4, 0.95),
    rule(2, 1, 0.99),  # 1 is held
    rule(2, 5, 0.97, lift=1.0),  # no better than chance
    rule(1, 6, 0.5),
]


def test_best_rule_per_product_and_limits() -> None:
    index = by_antecedent(RULES)
    picks = next_products({1, 2}, index, limit=2)
    assert [(p.product_id, p.score, p.rule.antecedent) for p in picks] == [(4, 0.95, 2), (3, 0.9, 1)]
    assert [p.product_id for p in next_products({1, 2}, index, limit=1)] == [4]
    assert [p.product_id for p in next_products({1, 2}, index, limit=5)] == [4, 3, 6]
    assert next_products({7}, index) == []


def test_reason_reads_as_a_sentence() -> None:
    r = rule(1, 2, 0.41, lift=3.24)
    text = reason(r, {1: "Everyday account", 2: "Travel card"})
    assert text == "owns the Everyday account; 41 % of its 2,300 holders took the Travel card, lift 3.2"

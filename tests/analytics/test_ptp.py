"""PTP on a hand-checkable set of baskets: support, confidence and lift worked out by hand."""

from __future__ import annotations

import pytest

from contactcenter.analytics.ptp import associations

# 1 = Everyday account, 2 = Travel card, 3 = Savings. Five baskets.
BASKETS = [[1, 2], [1, 2], [1, 3], [3], [1, 2, 3, 2]]


def test_rules_known_in_advance() -> None:
    rules = {(r.antecedent, r.consequent): r for r in associations(BASKETS)}
    one_two = rules[(1, 2)]
    # {1,2} in 3 of 5 baskets; 1 in 4 baskets, 2 in 3 baskets.
    assert one_two.baskets == 3
    assert one_two.antecedent_baskets == 4
    assert one_two.support == pytest.approx(3 / 5)
    assert one_two.confidence == pytest.approx(3 / 4)
    assert one_two.lift == pytest.approx((3 / 4) / (3 / 5))
    two_one = rules[(2, 1)]
    assert two_one.confidence == pytest.approx(1.0)
    assert two_one.lift == pytest.approx(1.0 / (4 / 5))
    # {1,3} in 2 baskets; 3 in 3 baskets: 1 -> 3 confidence 2/4, lift (2/4)/(3/5).
    assert rules[(1, 3)].lift == pytest.approx((2 / 4) / (3 / 5))
    assert set(rules) == {(1, 2), (2, 1), (1, 3), (3, 1), (2, 3), (3, 2)}


def test_thresholds_and_empty() -> None:
    assert associations([]) == []
    kept = associations(BASKETS, min_baskets=2, min_confidence=0.6)
    assert {(r.antecedent, r.consequent) for r in kept} == {(1, 2), (2, 1), (3, 1)}

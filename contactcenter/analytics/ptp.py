"""Product-to-product (PTP) association rules A -> B from baskets, by plain pair co-occurrence counts.

Pairs are enough for the suggestions (one product owned, one offered), and counting pairs with a
Counter is one pass over the baskets: no candidate generation as in apriori.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True, slots=True)
class Rule:
    """A -> B: of the baskets holding A, `confidence` also hold B; lift = confidence / support(B)."""

    antecedent: int
    consequent: int
    baskets: int  # baskets holding both A and B
    antecedent_baskets: int  # baskets holding A
    support: float
    confidence: float
    lift: float


def associations(baskets: Iterable[Iterable[int]], *, min_baskets: int = 1, min_confidence: float = 0.0) -> list[Rule]:
    """Every rule A -> B whose pair appears in at least `min_baskets` baskets, best lift first."""
    items: Counter[int] = Counter()
    pairs: Counter[tuple[int, int]] = Counter()
    total = 0
    for basket in baskets:
        unique = sorted(set(basket))
        total += 1
        items.update(unique)
        pairs.update(combinations(unique, 2))
    rules: list[Rule] = []
    if total == 0:
        return rules
    for (a, b), both in pairs.items():
        if both < min_baskets:
            continue
        for x, y in ((a, b), (b, a)):
            confidence = both / items[x]
            if confidence < min_confidence:
                continue
            rules.append(
                Rule(
                    antecedent=x,
                    consequent=y,
                    baskets=both,
                    antecedent_baskets=items[x],
                    support=both / total,
                    confidence=confidence,
                    lift=confidence / (items[y] / total),
                )
            )
    rules.sort(key=lambda r: (-r.lift, -r.confidence, r.antecedent, r.consequent))
    return rules

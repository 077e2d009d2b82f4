"""Product-to-customer (PTC): the products a customer is most likely to want next, with a readable reason.

From the stored PTP rules of what the customer holds: each product not held scores the best confidence of
a rule leading to it (lift above `min_lift`, so only products that go *with* what they hold, not merely
popular ones); the reason names that rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contactcenter.analytics.ptp import Rule


@dataclass(frozen=True, slots=True)
class Pick:
    product_id: int
    score: float  # confidence of the best rule leading to it
    rule: Rule


def by_antecedent(rules: Sequence[Rule], *, per_product: int = 20, min_lift: float = 1.0) -> dict[int, list[Rule]]:
    """Rules indexed by what must be held, best confidence first, at most `per_product` each."""
    out: dict[int, list[Rule]] = {}
    for r in rules:
        if r.lift > min_lift:
            out.setdefault(r.antecedent, []).append(r)
    for a, rs in out.items():
        rs.sort(key=lambda r: (-r.confidence, -r.lift, r.consequent))
        del rs[per_product:]
        out[a] = rs
    return out


def next_products(owned: set[int], index: Mapping[int, Sequence[Rule]], *, limit: int = 3) -> list[Pick]:
    """The best `limit` products not held, by the best rule from a product held."""
    best: dict[int, Rule] = {}
    for a in owned:
        taken = 0
        for r in index.get(a, ()):  # best confidence first
            c = r.consequent
            if c in owned:
                continue
            seen = best.get(c)
            if seen is None or (r.confidence, r.lift, -r.antecedent) > (seen.confidence, seen.lift, -seen.antecedent):
                best[c] = r
            taken += 1
            # `limit` products from this one already beat any later rule of it: the rest cannot make the list.
            if taken == limit:
                break
    ranked = sorted(best.values(), key=lambda r: (-r.confidence, -r.lift, r.consequent))[:limit]
    return [Pick(product_id=r.consequent, score=round(r.confidence, 4), rule=r) for r in ranked]


def reason(rule: Rule, names: Mapping[int, str]) -> str:
    """'owns the Everyday account; 41 % of its 2,300 holders took the Travel card, lift 3.2'."""
    a = names.get(rule.antecedent, f"product {rule.antecedent}")
    b = names.get(rule.consequent, f"product {rule.consequent}")
    pct = round(rule.confidence * 100)
    return f"owns the {a}; {pct} % of its {rule.antecedent_baskets:,} holders took the {b}, lift {rule.lift:.1f}"

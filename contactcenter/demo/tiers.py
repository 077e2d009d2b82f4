"""Value tiers for the demo bank, until customer analytics compute them (the rules' tier facts read these)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

# Share of customers per tier, best first, by what they spent in the demo orders.
TIER_SHARES = (("platinum", 0.05), ("gold", 0.15), ("silver", 0.30), ("bronze", 0.50))
ORDER = [name for name, _ in TIER_SHARES]


def tier_profiles(spend: Mapping[int, Decimal], drifting: Mapping[int, bool]) -> dict[int, dict[str, Any]]:
    """Profile fields per customer id: value tier by spend rank; a customer who went quiet dropped a tier."""
    ranked = sorted(spend, key=lambda cid: (-spend[cid], cid))
    out: dict[int, dict[str, Any]] = {}
    start = 0
    for name, share in TIER_SHARES:
        end = len(ranked) if name == ORDER[-1] else start + round(share * len(ranked))
        for cid in ranked[start:end]:
            out[cid] = {"value_tier": name, "previous_tier": name, "attrition_risk": 0.1}
        start = end
    for cid, quiet in drifting.items():
        fields = out.get(cid)
        if quiet and fields is not None and fields["value_tier"] != ORDER[0]:
            # The attrition signal: last year's tier was one higher.
            fields["previous_tier"] = ORDER[ORDER.index(fields["value_tier"]) - 1]
            fields["attrition_risk"] = 0.7
    return out

"""What analytics gives others: the rules' facts (suggestions/facts.py providers: tiers, attrition, PTC,
PTP) and routing priority by value tier (a conversations priority source).

A customer analytics has not computed yet (no order, or before the first run) keeps the profile's tier
fields when present, as before analytics existed (imported customers, the rules' tests), else nulls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.analytics import service
from contactcenter.analytics.models import CustomerValue
from contactcenter.analytics.tiers import TIERS
from contactcenter.ccr.models import Customer
from contactcenter.conversations.priority import PriorityOf, parse_points


def _from_profile(profile: Mapping[str, Any]) -> dict[str, Any]:
    risk = profile.get("attrition_risk")
    return {
        "value_tier": profile.get("value_tier") if profile.get("value_tier") in TIERS else None,
        "previous_tier": profile.get("previous_tier") if profile.get("previous_tier") in TIERS else None,
        "attrition_risk": float(risk) if isinstance(risk, int | float) and not isinstance(risk, bool) else None,
        "attrition_reason": None,
        "next_products": [],
    }


async def stored_figures(session: AsyncSession, *, customer_id: int, profile: Mapping[str, Any]) -> dict[str, Any]:
    """value_tier, previous_tier, attrition_risk, attrition_reason, next_products ([{sku, score, reason}])."""
    v = await session.get(CustomerValue, customer_id)
    if v is None:
        return _from_profile(profile)
    return {
        "value_tier": v.tier,
        "previous_tier": v.previous_tier,
        "attrition_risk": v.attrition_risk,
        "attrition_reason": v.attrition_reason,
        "next_products": [{"sku": p["sku"], "score": p["score"], "reason": p["reason"]} for p in v.ptc],
    }


async def stored_associations(session: AsyncSession, *, owned: Sequence[str]) -> dict[str, list[str]]:
    """suggested: SKUs associated (lift above 1) with any product owned; with_newest: with the newest one."""
    suggested, with_newest = await service.associated_skus(session, skus=owned)
    return {"suggested": suggested, "with_newest": with_newest}


async def _tier_points(points: Mapping[str, int], session: AsyncSession, customer_id: int) -> int:
    v = await session.get(CustomerValue, customer_id)
    if v is not None:
        return points.get(v.tier, 0)
    c = await session.get(Customer, customer_id)  # not computed yet: the profile's tier, as the facts do
    tier = _from_profile(c.profile or {})["value_tier"] if c is not None else None
    return points.get(tier, 0) if tier else 0


def tier_priority(spec: str) -> PriorityOf:
    """Routing points for a customer's value tier, from CC_ROUTING_TIER_PRIORITY ("platinum=3,gold=2")."""
    return partial(_tier_points, parse_points(spec))

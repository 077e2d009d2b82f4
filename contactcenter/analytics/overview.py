"""Analytics across all customers, for the planner pages' charts: how many customers held each value tier in
each period (from the tier history), and the strongest product associations of the last run."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.analytics import tiers
from contactcenter.analytics.models import ProductAssociation, TierHistory
from contactcenter.analytics.schemas import AssociationOut, TierDistribution, TierPeriodCounts
from contactcenter.integration import service as integration

Rank = Literal["lift", "confidence"]


async def tier_distribution(session: AsyncSession, *, periods: int = 12) -> TierDistribution:
    """Customers per tier in each of the latest `periods` periods of the tier history, oldest first."""
    h = TierHistory
    latest = select(h.period).group_by(h.period).order_by(h.period.desc()).limit(periods).subquery()
    rows = await session.execute(
        select(h.period, h.tier, func.count())
        .where(h.period.in_(select(latest.c.period)))
        .group_by(h.period, h.tier)
        .order_by(h.period)
    )
    by_period: dict[str, dict[str, int]] = {}
    for period, tier, n in rows:
        counts = by_period.setdefault(period, dict.fromkeys(tiers.TIERS, 0))
        counts[tier] = counts.get(tier, 0) + int(n)
    return TierDistribution(
        tiers=list(tiers.TIERS),
        periods=[TierPeriodCounts(period=p, counts=c, customers=sum(c.values())) for p, c in by_period.items()],
    )


async def strongest_associations(session: AsyncSession, *, limit: int = 10, by: Rank = "lift") -> list[AssociationOut]:
    """The last run's strongest associations over the whole catalogue, by lift or by confidence (the other
    one breaks ties, then the products' ids)."""
    a = ProductAssociation
    first, second = (a.lift, a.confidence) if by == "lift" else (a.confidence, a.lift)
    rows = await session.scalars(
        select(a).order_by(first.desc(), second.desc(), a.antecedent_id, a.consequent_id).limit(limit)
    )
    names = await integration.product_names(session)
    out = []
    for r in rows:
        asku, aname = names.get(r.antecedent_id, (str(r.antecedent_id), ""))
        csku, cname = names.get(r.consequent_id, (str(r.consequent_id), ""))
        out.append(
            AssociationOut(
                antecedent_sku=asku,
                antecedent_name=aname,
                consequent_sku=csku,
                consequent_name=cname,
                support=r.support,
                confidence=r.confidence,
                lift=r.lift,
                baskets=r.baskets,
                antecedent_baskets=r.antecedent_baskets,
                computed_at=r.computed_at,
            )
        )
    return out

"""Customer analytics: the full run over every order, a customer's recompute after an order, and reads.

The full run reads the order lines once (integration's service), counts PTP pairs over customers' holdings,
cuts value tiers, and rewrites the stored figures in one transaction; a per-customer recompute reuses the
last run's associations and tier cut (decision 36).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.analytics import ptc, tiers
from contactcenter.analytics.figures import Config, Holdings, customer_rows, money, period_label
from contactcenter.analytics.models import AnalyticsRun, CustomerValue, ProductAssociation, TierHistory
from contactcenter.analytics.ptp import Rule, associations
from contactcenter.analytics.schemas import AssociationOut, CustomerFigures, NextProduct, RunOut, TierPeriod
from contactcenter.db import Base, utcnow
from contactcenter.integration import service as integration

# (stage, done, total): the CLI draws its progress bar from these.
Progress = Callable[[str, int, int], None]
CHUNK = 5_000


def _noop(stage: str, done: int, total: int) -> None:
    return None


async def _stored_rules(session: AsyncSession, *, antecedents: set[int]) -> list[Rule]:
    """The stored rules from these products, as plain Rules (columns, not ORM rows: thousands of them)."""
    a = ProductAssociation
    rows = await session.execute(
        select(
            a.antecedent_id, a.consequent_id, a.baskets, a.antecedent_baskets, a.support, a.confidence, a.lift
        ).where(a.antecedent_id.in_(sorted(antecedents)), a.lift > 1.0)
    )
    return [Rule(*row) for row in rows]


async def _insert(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]], progress: Progress
) -> None:
    # The table's Core insert (one executemany per chunk): the ORM's bulk insert went row by row here.
    table = Base.metadata.tables[model.__tablename__]
    name = model.__tablename__
    progress(f"writing {name}", 0, len(rows))
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(table), rows[start : start + CHUNK])
        progress(f"writing {name}", min(start + CHUNK, len(rows)), len(rows))


async def run_all(
    session: AsyncSession, *, config: Config, now: datetime | None = None, progress: Progress = _noop
) -> RunOut:
    """Recompute every association, tier, attrition risk and next product from all orders."""
    started = utcnow()
    now = now or started
    total = await integration.count_order_lines(session)
    progress("reading orders", 0, total)
    h = Holdings(now=now, period_days=config.period_days)
    async for cid, pid, amount, period in integration.order_lines(session, period_starts=h.period_starts):
        h.add(cid, pid, amount, period)
        if h.lines % 50_000 == 0:
            progress("reading orders", h.lines, total)
    h.last = await integration.last_orders(session)
    progress("reading orders", h.lines, total)
    progress("counting pairs", 0, 1)
    rules = associations(h.owned.values(), min_baskets=config.min_baskets)
    progress("counting pairs", 1, 1)
    population = len(h.owned)
    cut = {
        "current": tiers.thresholds(h.current.values(), population=population, shares=config.shares),
        "previous": tiers.thresholds(h.previous.values(), population=population, shares=config.shares),
    }
    names = await integration.product_names(session)
    progress("tiers and next products", 0, 1)
    rows = customer_rows(h, cut=cut, index=ptc.by_antecedent(rules), names=names, config=config)
    progress("tiers and next products", 1, 1)
    label = period_label(now)
    progress("clearing the last run", 0, 1)
    await session.execute(delete(ProductAssociation))
    await session.execute(delete(CustomerValue))
    await session.execute(delete(TierHistory).where(TierHistory.period == label))
    assoc_rows: list[dict[str, object]] = [
        {
            "antecedent_id": r.antecedent,
            "consequent_id": r.consequent,
            "support": r.support,
            "confidence": r.confidence,
            "lift": r.lift,
            "baskets": r.baskets,
            "antecedent_baskets": r.antecedent_baskets,
            "computed_at": now,
        }
        for r in rules
    ]
    progress("clearing the last run", 1, 1)
    await _insert(session, ProductAssociation, assoc_rows, progress)
    await _insert(session, CustomerValue, rows, progress)
    history: list[dict[str, object]] = [
        {"customer_id": r["customer_id"], "period": label, "tier": r["tier"], "value": r["value"], "computed_at": now}
        for r in rows
    ]
    await _insert(session, TierHistory, history, progress)
    run = AnalyticsRun(
        started_at=started,
        finished_at=utcnow(),
        customers=population,
        order_lines=h.lines,
        associations=len(rules),
        thresholds=cut,
    )
    session.add(run)
    await session.commit()
    return RunOut.model_validate(run, from_attributes=True)


async def recompute_customers(
    session: AsyncSession, *, customer_ids: Iterable[int], config: Config, now: datetime | None = None
) -> list[int]:
    """Recompute these customers' figures with the last run's cut and associations; [] before any run."""
    ids = sorted(set(customer_ids))
    run = await session.scalar(select(AnalyticsRun).order_by(AnalyticsRun.id.desc()).limit(1))
    if run is None or not ids:
        return []
    now = now or utcnow()
    h = Holdings(now=now, period_days=config.period_days)
    async for cid, pid, amount, period in integration.order_lines(
        session, period_starts=h.period_starts, customer_ids=ids
    ):
        h.add(cid, pid, amount, period)
    h.last = await integration.last_orders(session, customer_ids=ids)
    held = set().union(*h.owned.values()) if h.owned else set()
    index = ptc.by_antecedent(await _stored_rules(session, antecedents=held))
    names = await integration.product_names(session)
    rows = customer_rows(h, cut=run.thresholds, index=index, names=names, config=config)
    label = period_label(now)
    await session.execute(delete(CustomerValue).where(CustomerValue.customer_id.in_(ids)))
    await session.execute(delete(TierHistory).where(TierHistory.customer_id.in_(ids), TierHistory.period == label))
    if rows:
        await session.execute(insert(Base.metadata.tables[CustomerValue.__tablename__]), rows)
        history = [
            {
                "customer_id": r["customer_id"],
                "period": label,
                "tier": r["tier"],
                "value": r["value"],
                "computed_at": now,
            }
            for r in rows
        ]
        await session.execute(insert(Base.metadata.tables[TierHistory.__tablename__]), history)
    await session.commit()
    return ids


async def top_associations(session: AsyncSession, *, sku: str, limit: int = 5) -> list[AssociationOut]:
    """The strongest rules from this product (by lift, then confidence), from the last run."""
    names = await integration.product_names(session)
    by_sku = {s: pid for pid, (s, _) in names.items()}
    pid = by_sku.get(sku)
    if pid is None:
        return []
    rows = await session.scalars(
        select(ProductAssociation)
        .where(ProductAssociation.antecedent_id == pid)
        .order_by(
            ProductAssociation.lift.desc(), ProductAssociation.confidence.desc(), ProductAssociation.consequent_id
        )
        .limit(limit)
    )
    out = []
    for a in rows:
        csku, cname = names.get(a.consequent_id, (str(a.consequent_id), ""))
        out.append(
            AssociationOut(
                antecedent_sku=sku,
                antecedent_name=names[pid][1],
                consequent_sku=csku,
                consequent_name=cname,
                support=a.support,
                confidence=a.confidence,
                lift=a.lift,
                baskets=a.baskets,
                antecedent_baskets=a.antecedent_baskets,
                computed_at=a.computed_at,
            )
        )
    return out


async def associated_skus(session: AsyncSession, *, skus: Sequence[str], limit: int = 5) -> tuple[list[str], list[str]]:
    """SKUs associated (lift above 1) with any of these, and with the first of them, each by best lift; these
    left out. Two queries (the catalogue, the rules)."""
    wanted = list(dict.fromkeys(skus))
    if not wanted:
        return [], []
    names = await integration.product_names(session)
    ids = {s: pid for pid, (s, _) in names.items() if s in wanted}
    rows = await session.execute(
        select(ProductAssociation.antecedent_id, ProductAssociation.consequent_id, ProductAssociation.lift).where(
            ProductAssociation.antecedent_id.in_(ids.values()), ProductAssociation.lift > 1.0
        )
    )
    first = ids.get(wanted[0])
    best: dict[int, float] = {}
    newest: dict[int, float] = {}
    for a, c, lift in rows:
        best[c] = max(best.get(c, 0.0), lift)
        if a == first:
            newest[c] = lift

    def ranked(found: dict[int, float]) -> list[str]:
        order = sorted(found, key=lambda c: (-found[c], c))
        return [names[c][0] for c in order if c in names and names[c][0] not in wanted][:limit]

    return ranked(best), ranked(newest)


async def figures(session: AsyncSession, *, customer_id: int, history: int = 12) -> CustomerFigures | None:
    """A customer's stored figures, with their latest `history` periods; None before they were computed."""
    v = await session.get(CustomerValue, customer_id)
    if v is None:
        return None
    periods = await session.scalars(
        select(TierHistory)
        .where(TierHistory.customer_id == customer_id)
        .order_by(TierHistory.period.desc())
        .limit(history)
    )
    return CustomerFigures(
        customer_id=customer_id,
        value=money(float(v.value)),
        tier=v.tier,
        previous_tier=v.previous_tier,
        tier_dropped=tiers.TIERS.index(v.tier) < tiers.TIERS.index(v.previous_tier),
        attrition_risk=v.attrition_risk,
        attrition_reason=v.attrition_reason,
        last_order_at=v.last_order_at,
        next_products=[NextProduct.model_validate(p) for p in v.ptc],
        history=[TierPeriod(period=p.period, tier=p.tier, value=p.value) for p in periods],
        computed_at=v.computed_at,
    )


async def last_run(session: AsyncSession) -> RunOut | None:
    """The latest full run, if any."""
    run = await session.scalar(select(AnalyticsRun).order_by(AnalyticsRun.id.desc()).limit(1))
    return None if run is None else RunOut.model_validate(run, from_attributes=True)

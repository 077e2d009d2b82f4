"""A campaign's funnel per group (treated, held out): targeted, contacted, accepted, converted, and orders.

Contacted, accepted and converted come from the suggestion records the campaign left (one per conversation
in which it was suggested or held out), counted per customer; `ordered` counts orders of the product by
anyone on the list since the start, contacted or not, so the hold-out's comparison does not hang on who
happened to call. A restarted campaign keeps its list and its records, so nothing is counted twice or lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.campaigns.models import Campaign, CampaignTarget
from contactcenter.campaigns.schemas import GroupResults, ResultsOut
from contactcenter.campaigns.source import record_key
from contactcenter.ccr.models import Customer
from contactcenter.integration.models import Order, Product
from contactcenter.suggestions.models import SuggestionRecord as R

T = CampaignTarget


def _customers_where(cond: ColumnElement[bool]) -> Any:
    return func.count(distinct(case((cond, T.customer_id), else_=None)))


async def _funnel(session: AsyncSession, c: Campaign) -> dict[bool, dict[str, int]]:
    # A record's customer is the conversation's; a target merged away since has its records on the target.
    holder = func.coalesce(Customer.merged_into_id, Customer.id)
    rec = select(R.customer_id, R.accepted_at, R.converted_at).where(R.rule_id == record_key(c.id)).subquery()
    q = (
        select(
            T.held_out,
            func.count(distinct(T.customer_id)),
            _customers_where(rec.c.customer_id.is_not(None)),
            _customers_where(rec.c.accepted_at.is_not(None)),
            _customers_where(rec.c.converted_at.is_not(None)),
        )
        .join(Customer, Customer.id == T.customer_id)
        .outerjoin(rec, rec.c.customer_id == holder)
        .where(T.campaign_id == c.id)
        .group_by(T.held_out)
    )
    out = {g: {"targeted": 0, "contacted": 0, "accepted": 0, "converted": 0, "ordered": 0} for g in (False, True)}
    for held, targeted, contacted, accepted, converted in await session.execute(q):
        out[bool(held)].update(targeted=targeted, contacted=contacted, accepted=accepted, converted=converted)
    if c.started_at is not None:
        for held, ordered in await _ordered(session, c, c.started_at, c.stopped_at):
            out[bool(held)]["ordered"] = ordered
    return out


async def _ordered(
    session: AsyncSession, c: Campaign, since: datetime, until: datetime | None
) -> list[tuple[bool, int]]:
    holder = func.coalesce(Customer.merged_into_id, Customer.id)
    # From the first start (through any pause: what was offered before a stop can be bought during it), or
    # for a customer a restart added, from when they were added.
    joined = or_(and_(T.added_at.is_(None), Order.placed_at >= since), Order.placed_at >= T.added_at)
    window = [joined, Order.status != "cancelled", Product.sku == c.product_sku]
    if until is not None:
        window.append(Order.placed_at <= until)
    q = (
        select(T.held_out, func.count(distinct(T.customer_id)))
        .join(Customer, Customer.id == T.customer_id)
        .join(Order, or_(Order.customer_id == T.customer_id, Order.customer_id == holder))
        .join(Product, and_(Product.id == Order.product_id, *window))
        .where(T.campaign_id == c.id)
        .group_by(T.held_out)
    )
    return [(bool(h), int(n)) for h, n in await session.execute(q)]


def _group(f: dict[str, int]) -> GroupResults:
    contacted, targeted = f["contacted"], f["targeted"]
    return GroupResults(
        **f,
        conversion_rate=f["converted"] / contacted if contacted else None,
        order_rate=f["ordered"] / targeted if targeted else None,
    )


def _diff(a: float | None, b: float | None) -> float | None:
    return a - b if a is not None and b is not None else None


async def results(session: AsyncSession, c: Campaign) -> ResultsOut:
    f = await _funnel(session, c)
    treated, holdout = _group(f[False]), _group(f[True])
    return ResultsOut(
        campaign_id=c.id,
        targeted=treated.targeted + holdout.targeted,
        contacted=treated.contacted + holdout.contacted,
        accepted=treated.accepted,
        converted=treated.converted + holdout.converted,
        treated=treated,
        holdout=holdout,
        uplift=_diff(treated.conversion_rate, holdout.conversion_rate),
        order_uplift=_diff(treated.order_rate, holdout.order_rate),
    )

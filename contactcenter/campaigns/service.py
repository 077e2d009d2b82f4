"""Campaigns: define (a draft), preview the target list, start (the list is written), stop, read results."""

from __future__ import annotations

from collections.abc import Collection

import structlog
from sqlalchemy import insert, select
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.campaigns import targeting
from contactcenter.campaigns.events import TOPIC_CAMPAIGNS, CampaignChanged
from contactcenter.campaigns.models import Campaign, CampaignTarget
from contactcenter.campaigns.schemas import (
    CampaignIn,
    CampaignOut,
    ListedTarget,
    PreviewIn,
    PreviewOut,
    TargetIn,
    TargetRow,
)
from contactcenter.ccr.models import Customer
from contactcenter.db import utcnow
from contactcenter.http import ApiError
from contactcenter.integration.models import Product

log = structlog.get_logger("campaigns")
SAMPLE = 20


def out(c: Campaign) -> CampaignOut:
    return CampaignOut(
        id=c.id,
        name=c.name,
        target=TargetIn.model_validate(c.target),
        product_sku=c.product_sku,
        script_id=c.script_id,
        starts_on=c.starts_on,
        ends_on=c.ends_on,
        holdout_pct=c.holdout_pct,
        status=c.status,
        target_size=c.target_size,
        created_by=c.created_by,
        created_at=c.created_at,
        started_at=c.started_at,
        stopped_at=c.stopped_at,
    )


async def _check(session: AsyncSession, data: CampaignIn, scripts: Collection[str]) -> None:
    if data.script_id not in scripts:
        raise ApiError(422, "unknown_script", f"no sales script {data.script_id!r} in rules/scripts")
    for sku in {data.product_sku, data.target.product} - {None}:
        if await session.scalar(select(Product.id).where(Product.sku == sku)) is None:
            raise ApiError(422, "unknown_product", f"no product {sku!r} in the catalogue")


async def create(session: AsyncSession, data: CampaignIn, *, scripts: Collection[str], author: str) -> CampaignOut:
    await _check(session, data, scripts)
    c = Campaign(
        id=data.id,
        name=data.name,
        target=data.target.model_dump(),
        product_sku=data.product_sku,
        script_id=data.script_id,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        holdout_pct=data.holdout_pct,
        status="draft",
        created_by=author,
    )
    session.add(c)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise ApiError(409, "campaign_exists", f"a campaign {data.id!r} exists already") from None
    return out(c)


async def load(session: AsyncSession, campaign_id: str, *, lock: bool = False) -> Campaign:
    c = await session.get(Campaign, campaign_id, with_for_update=lock)
    if c is None:
        raise ApiError(404, "campaign_not_found", f"no campaign {campaign_id!r}")
    return c


async def get(session: AsyncSession, campaign_id: str) -> CampaignOut:
    return out(await load(session, campaign_id))


async def update(session: AsyncSession, campaign_id: str, data: CampaignIn, *, scripts: Collection[str]) -> CampaignOut:
    """A draft may change; a started campaign's list and figures would no longer match what it was."""
    if data.id != campaign_id:
        raise ApiError(422, "id_mismatch", "the body's id is not the campaign's")
    await _check(session, data, scripts)
    c = await load(session, campaign_id, lock=True)
    if c.status != "draft":
        raise ApiError(409, "campaign_started", "only a draft campaign can be changed")
    c.name, c.target, c.product_sku, c.script_id = data.name, data.target.model_dump(), data.product_sku, data.script_id
    c.starts_on, c.ends_on, c.holdout_pct = data.starts_on, data.ends_on, data.holdout_pct
    await session.commit()
    return out(c)


async def list_all(session: AsyncSession) -> list[CampaignOut]:
    rows = await session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id))
    return [out(c) for c in rows]


async def preview(session: AsyncSession, data: PreviewIn) -> PreviewOut:
    """The list a start would write now: its size and split, and its first customers."""
    size, held = 0, 0
    sample: list[TargetRow] = []
    async for row in targeting.matching(session, data.target, offered_sku=data.product_sku):
        size += 1
        # With the campaign's id the split is the one a start makes; without it, the share of the size.
        if data.id is not None:
            held += targeting.held_out(data.id, row.customer_id, data.holdout_pct)
        if len(sample) < SAMPLE:
            sample.append(row)
    if data.id is None:
        held = round(size * data.holdout_pct / 100)
    return PreviewOut(size=size, treated=size - held, held_out=held, sample=sample)


async def _move(session: AsyncSession, campaign_id: str, *, was: str, to: str, stamp: str) -> Campaign:
    """One conditional UPDATE first, so of two concurrent starts (or stops) one wins and the other is told."""
    now = utcnow()
    cond = [Campaign.id == campaign_id, Campaign.status == was]
    if to == "running":
        cond.append(Campaign.ends_on >= now.date())
    done = await session.execute(sa_update(Campaign).where(*cond).values({"status": to, stamp: now}))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        c = await load(session, campaign_id)
        if c.status == was:
            raise ApiError(409, "campaign_over", "the campaign's period is over")
        raise ApiError(409, f"campaign_{c.status}", f"campaign {campaign_id!r} is {c.status}")
    return await load(session, campaign_id)


async def start(session: AsyncSession, bus: Bus | None, campaign_id: str) -> CampaignOut:
    """Write the target list (hold-out decided per customer, once) and start; a second start is refused."""
    c = await _move(session, campaign_id, was="draft", to="running", stamp="started_at")
    target = TargetIn.model_validate(c.target)
    size, batch = 0, []
    async for row in targeting.matching(session, target, offered_sku=c.product_sku):
        held = targeting.held_out(c.id, row.customer_id, c.holdout_pct)
        batch.append({"campaign_id": c.id, "customer_id": row.customer_id, "held_out": held})
        size += 1
        if len(batch) >= targeting.BATCH:
            await session.execute(insert(CampaignTarget), batch)
            batch = []
    if batch:
        await session.execute(insert(CampaignTarget), batch)
    c.target_size = size
    await session.commit()
    log.info("campaign_started", campaign=c.id, targets=size)
    await _announce(bus, c)
    return out(c)


async def stop(session: AsyncSession, bus: Bus | None, campaign_id: str) -> CampaignOut:
    """No longer offered; the list and the figures stay."""
    c = await _move(session, campaign_id, was="running", to="stopped", stamp="stopped_at")
    await session.commit()
    await _announce(bus, c)
    return out(c)


async def _announce(bus: Bus | None, c: Campaign) -> None:
    if bus is None:
        return
    try:
        await bus.publish_event(TOPIC_CAMPAIGNS, CampaignChanged(campaign_id=c.id, status=c.status))
    except Exception as exc:  # the facts' TTL puts them right anyway
        log.warning("publish_failed", what="campaigns.changed", error=repr(exc))


async def targets(session: AsyncSession, campaign_id: str, *, after: int, limit: int) -> list[ListedTarget]:
    """A started campaign's written list, by customer id."""
    await load(session, campaign_id)
    rows = await session.execute(
        select(CampaignTarget.customer_id, Customer.display_name, CampaignTarget.held_out)
        .join(Customer, Customer.id == CampaignTarget.customer_id)
        .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.customer_id > after)
        .order_by(CampaignTarget.customer_id)
        .limit(limit)
    )
    return [ListedTarget(customer_id=c, name=n, held_out=h) for c, n, h in rows]

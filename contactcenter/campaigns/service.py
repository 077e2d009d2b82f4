"""Campaigns: define (a draft), edit (less once started), preview the target list, read the list.

Start, stop and restart are in lifecycle.py."""

from __future__ import annotations

from collections.abc import Collection

import structlog
from sqlalchemy import select
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.campaigns import history, targeting
from contactcenter.campaigns.events import announce
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
        priority=c.priority,
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
        priority=data.priority,
        status="draft",
        created_by=author,
    )
    session.add(c)
    history.record(session, data.id, by=author, action="created")
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


# Once started, the product, the start and the hold-out share are what the results and the hold-out split
# were computed from; a running campaign's target is what its list was written from.
FIXED = ("product_sku", "starts_on", "holdout_pct")
FIELDS = ("name", "target", "product_sku", "script_id", "starts_on", "ends_on", "holdout_pct", "priority")


def _changes(c: Campaign, data: CampaignIn) -> dict[str, object]:
    new = data.model_dump(include=set(FIELDS))
    new["target"] = data.target.model_dump()
    return {k: v for k, v in new.items() if getattr(c, k) != v}


async def update(
    session: AsyncSession, bus: Bus | None, campaign_id: str, data: CampaignIn, *, scripts: Collection[str], by: str
) -> CampaignOut:
    """A draft changes freely. A running campaign: its name, script, end date and priority. A stopped one:
    those and its target (applied to the customers a restart adds; those on the list stay)."""
    if data.id != campaign_id:
        raise ApiError(422, "id_mismatch", "the body's id is not the campaign's")
    await _check(session, data, scripts)
    c = await load(session, campaign_id, lock=True)
    changes = _changes(c, data)
    if c.status != "draft" and (fixed := [k for k in FIXED if k in changes]):
        raise ApiError(
            409,
            "campaign_started",
            f"{', '.join(fixed)} cannot change once a campaign has started (its results and hold-out were "
            "counted with them): create a new campaign instead",
        )
    if c.status == "running" and "target" in changes:
        raise ApiError(
            409,
            "campaign_running",
            "who a running campaign targets cannot change: stop it, change the target, then restart it "
            "(customers already on the list stay on it)",
        )
    if c.status == "running" and data.ends_on < utcnow().date():
        raise ApiError(422, "ends_in_past", "a running campaign's end date cannot be before today: stop it instead")
    if not changes:
        return out(c)
    # Conditional on the status read above: a concurrent start or restart makes this one a 409, not a change
    # of a target that the list was just written from (SQLite has no FOR UPDATE).
    done = await session.execute(
        sa_update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == c.status)
        .values(changes)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise ApiError(409, "campaign_changed", "the campaign was started or stopped meanwhile: reload it")
    history.record(session, campaign_id, by=by, action="edited", changed=sorted(changes))
    await session.commit()
    await session.refresh(c)
    if c.status == "running":
        await announce(bus, c.id, c.status)
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

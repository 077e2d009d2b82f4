"""A campaign's moves: start (the list is written), stop, restart (the list kept, newly matching customers
added). Each move is one conditional UPDATE first, so of two concurrent moves one wins and the other is told."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func, insert, select
from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.campaigns import history, targeting
from contactcenter.campaigns.events import announce
from contactcenter.campaigns.models import Campaign, CampaignTarget
from contactcenter.campaigns.schemas import CampaignOut, TargetIn
from contactcenter.campaigns.service import load, out
from contactcenter.ccr.models import Customer
from contactcenter.db import utcnow
from contactcenter.http import ApiError

log = structlog.get_logger("campaigns")
T = CampaignTarget


async def _move(session: AsyncSession, campaign_id: str, *, was: str, to: str, values: dict[str, Any]) -> Campaign:
    now = utcnow()
    cond = [Campaign.id == campaign_id, Campaign.status == was]
    if to == "running":
        cond.append(Campaign.ends_on >= now.date())
    done = await session.execute(sa_update(Campaign).where(*cond).values({"status": to, **values}))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        c = await load(session, campaign_id)
        if c.status == was:
            raise ApiError(409, "campaign_over", "the campaign's period is over: move its end date first")
        if to == "running" and c.status == "stopped":
            raise ApiError(409, "campaign_stopped", f"campaign {campaign_id!r} was stopped: restart it instead")
        raise ApiError(409, f"campaign_{c.status}", f"campaign {campaign_id!r} is {c.status}")
    return await load(session, campaign_id)


async def _known(session: AsyncSession, campaign_id: str, ids: list[int]) -> set[int]:
    """Of these (live) customers, those the list holds already, themselves or through a customer merged into
    them since: adding them again would count one person twice."""
    on = select(T.customer_id).where(T.campaign_id == campaign_id, T.customer_id.in_(ids))
    merged = (
        select(Customer.merged_into_id)
        .join(T, T.customer_id == Customer.id)
        .where(T.campaign_id == campaign_id, Customer.merged_into_id.in_(ids))
    )
    return {int(i) for i in await session.scalars(on.union(merged)) if i is not None}


async def _write(session: AsyncSession, c: Campaign, *, added_at: datetime | None, skip_known: bool) -> int:
    """Every customer the target takes now, hold-out decided by hash (the same answer at every restart)."""
    added = 0
    pending: list[int] = []

    async def flush() -> None:
        nonlocal added
        known = await _known(session, c.id, pending) if skip_known else set()
        rows = [
            {"campaign_id": c.id, "customer_id": i, "held_out": targeting.held_out(c.id, i, c.holdout_pct)}
            | {"added_at": added_at}
            for i in pending
            if i not in known
        ]
        if rows:
            await session.execute(insert(CampaignTarget), rows)
        added += len(rows)
        pending.clear()

    async for row in targeting.matching(session, TargetIn.model_validate(c.target), offered_sku=c.product_sku):
        pending.append(row.customer_id)
        if len(pending) >= targeting.BATCH:
            await flush()
    if pending:
        await flush()
    return added


async def _size(session: AsyncSession, campaign_id: str) -> int:
    return int(await session.scalar(select(func.count()).select_from(T).where(T.campaign_id == campaign_id)) or 0)


async def start(session: AsyncSession, bus: Bus | None, campaign_id: str, *, by: str) -> CampaignOut:
    """Write the target list and start a draft; a second start is refused."""
    c = await _move(session, campaign_id, was="draft", to="running", values={"started_at": utcnow()})
    c.target_size = await _write(session, c, added_at=None, skip_known=False)
    history.record(session, c.id, by=by, action="started", added=c.target_size, size=c.target_size)
    await session.commit()
    log.info("campaign_started", campaign=c.id, targets=c.target_size)
    await announce(bus, c.id, c.status)
    return out(c)


async def restart(session: AsyncSession, bus: Bus | None, campaign_id: str, *, by: str) -> CampaignOut:
    """Run a stopped campaign again. Everyone on the list stays, in the group they were in, with what they did
    (results count from the first start); customers the target takes now and the list lacks are added."""
    now = utcnow()
    c = await _move(session, campaign_id, was="stopped", to="running", values={"stopped_at": None})
    added = await _write(session, c, added_at=now, skip_known=True)
    c.target_size = await _size(session, c.id)
    history.record(session, c.id, by=by, action="restarted", added=added, size=c.target_size)
    await session.commit()
    log.info("campaign_restarted", campaign=c.id, added=added, targets=c.target_size)
    await announce(bus, c.id, c.status)
    return out(c)


async def stop(session: AsyncSession, bus: Bus | None, campaign_id: str, *, by: str) -> CampaignOut:
    """No longer offered; the list and the figures stay."""
    c = await _move(session, campaign_id, was="running", to="stopped", values={"stopped_at": utcnow()})
    history.record(session, c.id, by=by, action="stopped")
    await session.commit()
    await announce(bus, c.id, c.status)
    return out(c)

"""A campaign's history: one row per create, edit, start, stop and restart, with who and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.campaigns.models import CampaignEvent
from contactcenter.campaigns.schemas import EventOut


def record(session: AsyncSession, campaign_id: str, *, by: str, action: str, **detail: Any) -> None:
    """Added to the caller's transaction: the history says what happened only if it did."""
    session.add(CampaignEvent(campaign_id=campaign_id, by=by[:120], action=action, detail=detail))


async def events(session: AsyncSession, campaign_id: str) -> list[EventOut]:
    rows = await session.scalars(
        select(CampaignEvent).where(CampaignEvent.campaign_id == campaign_id).order_by(CampaignEvent.id)
    )
    return [EventOut(at=e.at, by=e.by, action=e.action, detail=e.detail) for e in rows]

"""A customer's profile and recent-touch summary in one round trip (the business rules' facts)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.ccr.models import Customer, Touch
from contactcenter.db import utcnow


class ContactHistory(BaseModel):
    customer_id: int
    name: str
    segment: str | None
    profile: dict[str, Any]
    last_channel: str | None
    last_at: datetime | None
    last_page: str | None
    count_90d: int
    last_outcome: str | None = None  # the wrap-up outcome of the latest earlier conversation closed with one


async def contact_history(
    session: AsyncSession, *, customer_id: int, exclude_conversation_id: str | None = None
) -> ContactHistory | None:
    """Profile plus the latest earlier touch, latest page view and 90-day count; one statement; None if missing."""
    conds = [Touch.customer_id == customer_id]
    if exclude_conversation_id is not None:
        # The contact under way is not "recent history".
        conds.append(or_(Touch.conversation_id.is_(None), Touch.conversation_id != exclude_conversation_id))
    latest = select(Touch).where(*conds).order_by(Touch.occurred_at.desc(), Touch.id.desc()).limit(1)
    last_channel = latest.with_only_columns(Touch.channel).scalar_subquery()
    last_at = latest.with_only_columns(Touch.occurred_at).scalar_subquery()
    last_page = (
        latest.where(Touch.kind == "page_view").with_only_columns(Touch.payload["path"].as_string()).scalar_subquery()
    )
    outcome = Touch.payload["outcome"].as_string()
    last_outcome = (
        latest.where(Touch.kind == "conversation", outcome.is_not(None)).with_only_columns(outcome).scalar_subquery()
    )
    since = utcnow() - timedelta(days=90)
    count = select(func.count()).select_from(Touch).where(*conds, Touch.occurred_at >= since).scalar_subquery()
    stmt = select(
        Customer.display_name, Customer.segment, Customer.profile, last_channel, last_at, last_page, count, last_outcome
    )
    row = (await session.execute(stmt.where(Customer.id == customer_id))).first()
    if row is None:
        return None
    name, segment, profile, channel, at, page, n, outcome_code = row
    return ContactHistory(
        customer_id=customer_id,
        name=name,
        segment=segment,
        profile=profile or {},
        last_channel=channel,
        last_at=at,
        last_page=page,
        count_90d=int(n or 0),
        last_outcome=outcome_code,
    )


async def sample_customer_ids(session: AsyncSession, *, limit: int) -> list[int]:
    """Up to `limit` live customers, newest first (a planner tries a draft rule on them)."""
    rows = await session.scalars(
        select(Customer.id).where(Customer.merged_into_id.is_(None)).order_by(Customer.id.desc()).limit(limit)
    )
    return list(rows)

"""What campaigns give the suggestions: the rules' `campaigns.ids` fact and a suggestion per running
campaign that targets the customer (suggestions/sources.py), whatever the channel of the contact.

A held-out customer's campaign is recorded held out (counted as contacted, never shown) and is left out of
`campaigns.ids`, so no rule shows it them either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.campaigns.models import Campaign, CampaignTarget
from contactcenter.ccr import service as ccr
from contactcenter.suggestions.sources import Candidate

PREFIX = "campaign:"  # the suggestion records' rule_id for a campaign (rule ids have no colon)
ROW = "campaign"


def record_key(campaign_id: str) -> str:
    return PREFIX + campaign_id


async def _running(session: AsyncSession, customer_id: int) -> list[tuple[Campaign, bool]]:
    today = datetime.now(UTC).date()
    rows = await session.execute(
        select(Campaign, CampaignTarget.held_out)
        .join(CampaignTarget, CampaignTarget.campaign_id == Campaign.id)
        .where(
            # The list names the customers as they were at the start; one merged since counts for its target.
            CampaignTarget.customer_id.in_(ccr.holding_ids(customer_id)),
            Campaign.status == "running",
            Campaign.starts_on <= today,
            Campaign.ends_on >= today,
        )
        # The planner's priority decides which of a customer's campaigns comes first (ties: by id).
        .order_by(Campaign.priority.desc(), Campaign.id)
    )
    seen: dict[str, tuple[Campaign, bool]] = {}
    for c, held in rows:
        seen[c.id] = (c, seen[c.id][1] and held if c.id in seen else held)  # treated if any of them is
    return list(seen.values())


async def campaign_ids(session: AsyncSession, *, customer_id: int) -> list[str]:
    """The rules' campaigns.ids: running campaigns offering to this customer (the hold-out left out), highest
    priority first."""
    return [c.id for c, held in await _running(session, customer_id) if not held]


async def campaign_offers(session: AsyncSession, *, customer_id: int, facts: dict[str, Any]) -> list[Candidate]:
    """One suggestion per running campaign targeting the customer, whose reason names the campaign, ranked
    among the rules' suggestions by the campaign's priority."""
    running = await _running(session, customer_id)
    if not running:
        return []
    out = []
    for c, held in running:
        # The PTC reason, when there is one, is shown beside it (SuggestionOut.ptc_reason).
        reason = f"On the “{c.name}” campaign's target list, until {c.ends_on.day} {c.ends_on:%b %Y}"
        out.append(
            Candidate(
                rule_id=record_key(c.id),
                row_id=ROW,
                version=1,
                title=c.name,
                offer=c.product_sku,
                script_id=c.script_id,
                priority=float(c.priority),
                reason=reason[:500],
                held_out=held,
            )
        )
    return out

"""The demo bank's running campaign, started by the seed once analytics have run (issue 16: campaigns visible
in the console and the planner pages after `make run`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.campaigns import lifecycle
from contactcenter.campaigns import service as campaigns
from contactcenter.campaigns.schemas import CampaignIn, TargetIn
from contactcenter.db import utcnow

SCRIPT = "home_insurance"


async def start_demo_campaign(session: AsyncSession, *, author: str) -> int:
    """Home insurance for customers who have it among their next products (PTC), 10 % held out; its list size
    (26 of the 300 demo customers)."""
    today = utcnow().date()
    data = CampaignIn(
        id="home-cover",
        name="Home insurance for likely buyers",
        target=TargetIn(product="HB-IN-HOME", product_via="ptc"),
        product_sku="HB-IN-HOME",
        script_id=SCRIPT,
        starts_on=today,
        ends_on=today + timedelta(days=60),
        holdout_pct=10,
    )
    await campaigns.create(session, data, scripts={SCRIPT}, author=author)
    started = await lifecycle.start(session, None, data.id, by=author)
    return started.target_size or 0

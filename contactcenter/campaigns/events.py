"""Events the campaigns capability publishes, after the commit."""

from __future__ import annotations

from typing import Literal

import structlog

from contactcenter.bus import Bus, Event

log = structlog.get_logger("campaigns")

TOPIC_CAMPAIGNS = "campaigns"


class CampaignChanged(Event):
    """A campaign started, stopped, restarted or was edited while running (its end date or priority moves it in
    or out of campaigns.ids, or within it): every process's rule facts are stale."""

    type: Literal["campaigns.changed"] = "campaigns.changed"
    campaign_id: str
    status: str


async def announce(bus: Bus | None, campaign_id: str, status: str) -> None:
    if bus is None:
        return
    try:
        await bus.publish_event(TOPIC_CAMPAIGNS, CampaignChanged(campaign_id=campaign_id, status=status))
    except Exception as exc:  # the facts' TTL puts them right anyway
        log.warning("publish_failed", what="campaigns.changed", error=repr(exc))

"""Events the campaigns capability publishes, after the commit."""

from __future__ import annotations

from typing import Literal

from contactcenter.bus import Event

TOPIC_CAMPAIGNS = "campaigns"


class CampaignChanged(Event):
    """A campaign started or stopped: every process's rule facts (campaigns.ids) are stale."""

    type: Literal["campaigns.changed"] = "campaigns.changed"
    campaign_id: str
    status: str

"""Events the analytics capability publishes, after the commit."""

from __future__ import annotations

from typing import Literal

from contactcenter.bus import Event

TOPIC_ANALYTICS = "analytics.figures"


class FiguresChanged(Event):
    """These customers' tier, attrition or next products were recomputed (empty list: a full run, everyone)."""

    type: Literal["analytics.figures_changed"] = "analytics.figures_changed"
    customer_ids: list[int]

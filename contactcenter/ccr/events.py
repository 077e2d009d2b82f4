"""Events the CCR publishes, after the database commit."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from contactcenter.bus import Event

TOPIC_TOUCHES = "ccr.touches"


def customer_topic(customer_id: int) -> str:
    return f"ccr.customer.{customer_id}"


class TouchLogged(Event):
    type: Literal["ccr.touch_logged"] = "ccr.touch_logged"
    touch_id: int
    customer_id: int
    channel: str
    kind: str
    occurred_at: datetime
    summary: str
    conversation_id: str | None = None


class CustomersMerged(Event):
    type: Literal["ccr.customers_merged"] = "ccr.customers_merged"
    source_id: int
    target_id: int

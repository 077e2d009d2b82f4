"""Events the integration capability publishes."""

from __future__ import annotations

from typing import Literal

from contactcenter.bus import Event

TOPIC_ORDERS = "integration.orders"


class OrderRecorded(Event):
    type: Literal["integration.order_recorded"] = "integration.order_recorded"
    order_id: int
    customer_id: int
    sku: str
    amount: str

"""Events the CCR publishes, after the database commit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import orjson

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


def touch_logged_json(
    *,
    touch_id: int,
    customer_id: int,
    channel: str,
    kind: str,
    occurred_at: datetime,
    summary: str,
    conversation_id: str | None,
) -> str:
    """`TouchLogged(...).model_dump_json()`, byte for byte, without building the model (the bulk path's cost)."""
    tz = occurred_at.tzinfo
    if tz is not UTC and tz is not None:
        off = occurred_at.utcoffset()
        if off is not None and off.seconds % 60:  # orjson rounds sub-minute offsets differently from pydantic
            return TouchLogged(
                touch_id=touch_id,
                customer_id=customer_id,
                channel=channel,
                kind=kind,
                occurred_at=occurred_at,
                summary=summary,
                conversation_id=conversation_id,
            ).model_dump_json()
    # Same keys in the same order as the model's fields; OPT_UTC_Z writes UTC as "Z", as pydantic does.
    return orjson.dumps(
        {
            "type": "ccr.touch_logged",
            "touch_id": touch_id,
            "customer_id": customer_id,
            "channel": channel,
            "kind": kind,
            "occurred_at": occurred_at,
            "summary": summary,
            "conversation_id": conversation_id,
        },
        option=orjson.OPT_UTC_Z,
    ).decode()


class CustomersMerged(Event):
    type: Literal["ccr.customers_merged"] = "ccr.customers_merged"
    source_id: int
    target_id: int

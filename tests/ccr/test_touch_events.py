"""The bulk path's own serialisation: events byte for byte as the model's, SQLite text as SQLAlchemy's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from contactcenter.bus import Bus
from contactcenter.ccr import service, touches
from contactcenter.ccr.events import TOPIC_TOUCHES, TouchLogged, customer_topic, touch_logged_json
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import Channel, CustomerCreate, TouchIn, TouchKind
from contactcenter.db import Database, UTCDateTime

TIMES = [
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: both leave them out
    datetime(2026, 7, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(2026, 7, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=ZoneInfo("Europe/London")),  # zero offset, not UTC
    datetime(2026, 7, 2, 3, 4, 5, 123456, tzinfo=ZoneInfo("Europe/London")),
    datetime(2026, 7, 2, 3, 4, 5, tzinfo=timezone(timedelta(seconds=90))),  # sub-minute offset
    datetime(5, 1, 1, 0, 0, 1, tzinfo=UTC),  # a year before 1000
]


@pytest.mark.parametrize("at", TIMES, ids=str)
@pytest.mark.parametrize("summary", ["Hello", 'quote " back \\ slash </b> é 😀 \u2028 \x01\x1f'])
@pytest.mark.parametrize("conversation_id", [None, "conv-1"])
def test_touch_logged_json_is_the_models_json(at: datetime, summary: str, conversation_id: str | None) -> None:
    fields = {
        "touch_id": 2**40 + 1,
        "customer_id": 7,
        "channel": Channel.chat,
        "kind": TouchKind.message,
        "occurred_at": at,
        "summary": summary,
        "conversation_id": conversation_id,
    }
    assert touch_logged_json(**fields) == TouchLogged(**fields).model_dump_json()  # type: ignore[arg-type]


@pytest.mark.parametrize("at", TIMES, ids=str)
def test_sqlite_time_is_what_sqlalchemy_stores(at: datetime) -> None:
    dialect = sqlite.dialect()
    to_text = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)  # the column type, both steps
    assert to_text is not None
    assert touches.sqlite_time(at) == to_text(at)
    with pytest.raises(ValueError, match="naive"):
        touches.sqlite_time(at.replace(tzinfo=None))


def test_payload_json_reads_back_the_same_and_nan_is_refused() -> None:
    payloads: list[dict[str, Any]] = [{"a": [1, None, True, 1.5], "é": "ü 😀"}, {"big": 2**70, "n": {"x": -(2**65)}}]
    for payload in payloads:
        assert json.loads(touches.json_text(payload)) == payload
    with pytest.raises(ValidationError):
        TouchIn(customer_id=1, channel=Channel.web, kind=TouchKind.order, summary="x", payload={"v": float("nan")})


async def test_bulk_logging_announces_each_touch_on_both_topics_after_the_commit(db: Database, bus: Bus) -> None:
    async with db.session() as s:
        a = (await service.create_customer(s, data=CustomerCreate(display_name="Ada"), region="GB")).id
        b = (await service.create_customer(s, data=CustomerCreate(display_name="Bo"), region="GB")).id
    t0 = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
    ins = [
        TouchIn(customer_id=a, channel=Channel.web, kind=TouchKind.page_view, occurred_at=t0, summary="viewed /"),
        TouchIn(customer_id=b, channel=Channel.chat, kind=TouchKind.message, summary="hi", conversation_id="c-1"),
        TouchIn(customer_id=a, channel=Channel.email, kind=TouchKind.email, occurred_at=t0, summary="mail é"),
    ]
    async with (
        bus.subscribe(TOPIC_TOUCHES) as every,
        bus.subscribe(customer_topic(a)) as on_a,
        bus.subscribe(customer_topic(b)) as on_b,
    ):
        async with db.session() as s:
            ids = await service.log_touches(s, bus, touches=ins)
        got = [await every.get(timeout=2) for _ in ins]
        got_a = [await on_a.get(timeout=2) for _ in range(2)]
        got_b = await on_b.get(timeout=2)
        # Markers published after the batch come next: it announced nothing more on these topics.
        await bus.publish_many([(TOPIC_TOUCHES, "marker"), (customer_topic(a), "marker")])
        assert [m.data for m in [await every.get(timeout=5), await on_a.get(timeout=5)] if m] == ["marker"] * 2
    events = [TouchLogged.model_validate_json(m.data) for m in got if m is not None]
    assert [e.touch_id for e in events] == ids
    assert [(e.customer_id, e.kind, e.summary, e.conversation_id) for e in events] == [
        (t.customer_id, t.kind.value, t.summary, t.conversation_id) for t in ins
    ]
    assert events[0].occurred_at == t0 and events[1].occurred_at.tzinfo is not None
    assert [m.data for m in got_a if m is not None] == [got[0].data, got[2].data]  # type: ignore[union-attr]
    assert got_b is not None and got_b.data == got[1].data  # type: ignore[union-attr]
    async with db.session() as s:  # every announced touch was already committed
        assert {r.id for r in (await s.execute(text("SELECT id FROM touches"))).all()} >= set(ids)
        assert await s.get(Touch, ids[1]) is not None

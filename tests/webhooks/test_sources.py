"""The suggestions events webhooks relies on: a sale attributed from an order is announced once, by the
process whose update won; and which heard events become which webhook events (keys equal everywhere)."""

from __future__ import annotations

from contactcenter.bus.memory import MemoryBus
from contactcenter.db import Database, utcnow
from contactcenter.suggestions import feedback
from contactcenter.suggestions.events import TOPIC_FEEDBACK, SaleRecorded
from contactcenter.suggestions.models import SuggestionRecord
from contactcenter.webhooks import events
from tests.suggestions.helpers import customer


async def test_an_order_attributed_to_a_suggestion_is_announced_once(db: Database) -> None:
    bus = MemoryBus()
    async with bus.subscribe(TOPIC_FEEDBACK) as sub:
        async with db.session() as s:
            cid = await customer(s, name="Order Hook")
            rec = SuggestionRecord(
                rule_id="r1", version=2, row_id="row", customer_id=cid, conversation_id="conv-1", title="Card",
                offer="SKU-1", script_id="s", priority=1.0, reason="because",
            )  # fmt: skip
            s.add(rec)
            await s.commit()
            kw = {"customer_id": cid, "sku": "SKU-1", "amount": "10.50", "placed_at": utcnow(), "window_days": 30}
            assert await feedback.attribute_order(s, **kw, bus=bus) == rec.id
            assert await feedback.attribute_order(s, **kw, bus=bus) is None
        msg = await sub.get(timeout=0)
        assert msg is not None and await sub.get(timeout=0) is None
    ev = SaleRecorded.model_validate_json(msg.data)
    assert (ev.suggestion_id, ev.product, ev.amount, ev.source, ev.conversation_id) == (
        rec.id,
        "SKU-1",
        "10.50",
        "order",
        "conv-1",
    )
    out = events.outbound(ev)
    assert out is not None and (out.key, out.type) == (f"sale:{rec.id}", "sale.recorded")
    # Parsed from the wire (the Redis bus) it is the same event with the same key.
    parsed = events.parse(msg.data, None)
    assert parsed == ev and events.outbound(parsed) == out

"""The listener on the conversations core's events: a closed conversation an agent took part in is asked
once, however many processes hear the close (one push); a channel the widget does not ask for (email) is
recorded for its signed link but not pushed; a conversation given up in the queue is not asked; and over
a real server, an unanswered chat gets no ask while the answered one after it does."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from contactcenter.bus import Bus
from contactcenter.conversations.events import ConversationChanged
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.csat.models import CsatRating
from contactcenter.csat.plugin import CsatCapability
from contactcenter.db import Database
from contactcenter.realtime.events import TOPIC_REALTIME, Push
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import Live, customer, staff
from tests.cobrowse.test_flow import pinging
from tests.csat.helpers import closed_chat, make_user

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def closed(conv_id: str, channel: str, agent_id: int | None) -> ConversationChanged:
    conv = ConversationOut(
        id=conv_id, customer_id=1, channel=channel, queue="general", status="closed",  # type: ignore[arg-type]
        agent_id=agent_id, customer_name="Ann", topic=None, page_url=None, created_at=NOW, closed_at=NOW,
    )  # fmt: skip
    return ConversationChanged(conversation=conv)


async def test_asked_once_pushed_for_widget_channels_only(db: Database, bus: Bus) -> None:
    first, second = CsatCapability(), CsatCapability()  # two processes hearing the same events
    first.channels = second.channels = frozenset({"chat", "voice"})
    async with bus.subscribe(TOPIC_REALTIME) as sub:
        for cap in (first, second):
            await cap.heard(db, bus, closed("a" * 36, "email", 7))
            await cap.heard(db, bus, closed("b" * 36, "chat", 7))
            await cap.heard(db, bus, closed("c" * 36, "chat", None))  # nobody answered it
        msg = await sub.get(timeout=5)
        assert msg is not None
        push = Push.model_validate_json(msg.data)
        assert json.loads(push.frame) == {"type": "csat_ask", "conversation_id": "b" * 36, "channel": "chat",
                                          "agent_name": None}  # fmt: skip
        assert push.to.customer_id == 1 and push.to.agent_id is None and push.to.supervisors == "none"
        # Nothing else came before this marker: the second process pushed nothing, the email nothing.
        marker = Push(to=push.to, frame='{"type": "marker"}')
        await bus.publish_event(TOPIC_REALTIME, marker)
        after = await sub.get(timeout=5)
        assert after is not None and Push.model_validate_json(after.data).frame == marker.frame
    assert (first.asked, second.asked) == (2, 0)
    async with db.session() as s:
        rows = {r.conversation_id: r for r in (await s.execute(CsatRating.__table__.select())).all()}
    assert set(rows) == {"a" * 36, "b" * 36}


async def test_an_unanswered_chat_is_not_asked(settings: Settings, live: Live) -> None:
    await make_user(live, "cora", Role.agent)
    async with customer(live) as (early, _):
        await early.send({"type": "start", "topic": "Nobody there"})
        lost = (await early.next("conversation"))["conversation"]["id"]
        await early.send({"type": "close", "conversation_id": lost})
        await early.next("conversation", timeout=5)
    async with staff(live, "cora") as agent, customer(live) as (cust, _), pinging(agent, cust):
        asked = await closed_chat(agent, cust)  # heard after the first close: that one was handled by now
    async with live.app.state.db.session() as s:
        ids = {r.conversation_id for r in (await s.execute(CsatRating.__table__.select())).all()}
    assert ids == {asked["conversation_id"]} and lost not in ids

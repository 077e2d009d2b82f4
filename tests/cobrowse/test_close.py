"""A conversation that closes while its co-browse session is on ends the session: both sides are told, the
session becomes one CCR touch (however many processes hear the close), and no event is relayed after it."""

from __future__ import annotations

from sqlalchemy import func, select

from contactcenter.ccr.models import Touch
from contactcenter.cobrowse.models import CobrowseSession
from contactcenter.conversations import service as conversations
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import meta, pinging


async def test_closing_the_conversation_ends_its_cobrowse_session(live: Live) -> None:
    await make_agent(live.app, "eli")
    async with staff(live, "eli") as agent, customer(live) as (cust, _t), pinging(agent, cust):
        await cust.send({"type": "start", "topic": "Mortgage"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation", timeout=5)
        await agent.send({"type": "cobrowse_request", "conversation_id": cid})
        sid = (await cust.next("cobrowse_state", state="requested"))["session_id"]
        await cust.send({"type": "cobrowse_accept", "conversation_id": cid, "session_id": sid})
        await agent.next("cobrowse_state", state="on")
        await cust.send({"type": "cobrowse_events", "conversation_id": cid, "events": [meta("http://bank/loans")]})
        await agent.next("cobrowse_events")

        async with live.app.state.db.session() as s:  # the agent closes the chat from the console
            await conversations.close(s, live.app.state.bus, conversation_id=cid, by="agent")
        for side in (cust, agent):
            assert (await side.next("cobrowse_state", state="ended", timeout=10))["session_id"] == sid
        await cust.send({"type": "cobrowse_events", "conversation_id": cid, "events": [meta("http://bank/x")]})
        assert (await cust.next("error"))["code"] in ("cobrowse_off", "conversation_closed")

    async with live.app.state.db.session() as s:
        row = await s.get(CobrowseSession, sid)
        touches = await s.scalar(
            select(func.count()).select_from(Touch).where(Touch.conversation_id == cid, Touch.kind == "cobrowse")
        )
    assert row is not None and (row.state, row.ended_by) == ("ended", "closed")
    assert touches == 1

"""The agent's pointer and highlight box reach the customer's page while co-browsing is on, and only then;
only the conversation's agent points; nobody else hears them."""

from __future__ import annotations

from contactcenter.settings import Settings
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging


async def test_pointer_and_highlight_only_while_on_and_only_from_the_agent(settings: Settings, live: Live) -> None:
    await make_agent(live.app, "cora")
    await make_agent(live.app, "dave")
    async with (
        staff(live, "cora") as agent,
        customer(live) as (cust, _),
        customer(live) as (other, _other),
        pinging(agent, cust, other),
    ):
        await cust.send({"type": "start", "topic": "Cards"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation", timeout=5)
        point = {"type": "cobrowse_pointer", "conversation_id": cid, "kind": "pointer", "x": 120.5, "y": 900}
        # Before the customer agrees there is nothing to point at.
        await agent.send(point)
        assert (await agent.next("error"))["code"] == "cobrowse_off"
        await agent.send({"type": "cobrowse_request", "conversation_id": cid})
        sid = (await cust.next("cobrowse_state", state="requested"))["session_id"]
        await agent.send(point)
        assert (await agent.next("error"))["code"] == "cobrowse_off"
        await cust.send({"type": "cobrowse_accept", "conversation_id": cid, "session_id": sid})
        await agent.next("cobrowse_state", state="on")

        await agent.send(point)
        got = await cust.next("cobrowse_pointer")
        assert (got["kind"], got["x"], got["y"], got["session_id"]) == ("pointer", 120.5, 900, sid)
        box = {"type": "cobrowse_pointer", "conversation_id": cid, "kind": "highlight", "x": 10, "y": 20, "w": 300,
               "h": 40}  # fmt: skip
        await agent.send(box)
        got = await cust.next("cobrowse_pointer", kind="highlight")
        assert (got["x"], got["y"], got["w"], got["h"]) == (10, 20, 300, 40)
        # The customer cannot point for the agent; nonsense coordinates are refused; another agent is told
        # nothing exists.
        await cust.send(point)
        assert (await cust.next("error"))["code"] == "forbidden"
        await agent.send({**point, "x": -5})
        assert (await agent.next("error"))["code"] == "invalid_frame"
        async with staff(live, "dave") as dave:
            await dave.send(point)
            assert (await dave.next("error"))["code"] == "conversation_not_found"

        await agent.send({"type": "cobrowse_pointer", "conversation_id": cid, "kind": "clear"})
        assert (await cust.next("cobrowse_pointer", kind="clear"))["session_id"] == sid
        await cust.send({"type": "cobrowse_stop", "conversation_id": cid})
        await agent.next("cobrowse_state", state="ended")
        await agent.send(point)
        assert (await agent.next("error"))["code"] == "cobrowse_off"
        assert not [f for f in other.frames if f["type"].startswith("cobrowse")]

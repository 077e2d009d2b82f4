"""Remote control follows the customer's consent, not the conversation (issue 15 item 5), on both backends:
a transfer ends it, so the new agent's console shows it off and their clicks are refused until the customer
allows them; and a click the customer's page refuses is reported to the agent, by that customer only."""

from __future__ import annotations

from typing import Any

from contactcenter.cobrowse.models import CobrowseSession
from contactcenter.routing.schemas import TransferIn
from contactcenter.routing.service import transfer
from contactcenter.settings import Settings
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_bad_input import roundtrip
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_control import click, control_is, refused, shared_with_control
from tests.cobrowse.test_flow import pinging


async def test_a_transfer_ends_control_and_the_new_agent_must_ask(settings: Settings, live: Live) -> None:
    cora_id, dave_id = await make_agent(live.app, "cora"), await make_agent(live.app, "dave")
    async with staff(live, "cora") as cora, customer(live) as (cust, _), pinging(cora, cust):
        cid, sid = await shared_with_control(cora, cust)
        async with staff(live, "dave") as dave, pinging(dave):
            await roundtrip(dave)
            async with live.app.state.db.session() as s:
                data = TransferIn(agent_id=dave_id, note="loans desk")
                await transfer(s, live.app.state.bus, contact_id=cid, data=data, by=cora_id, own_only=True)
            await dave.next("conversation", timeout=5)
            # The customer hears control is off (the page stays shared); the new agent's console, opening the
            # conversation, reads it off and asks for the page as consoles do.
            state = await cust.next("cobrowse_state", control="off", timeout=5)
            assert state["state"] == "on"
            await dave.send({"type": "cobrowse_request", "conversation_id": cid})
            assert (await dave.next("cobrowse_state", timeout=5))["control"] == "off"
            assert await refused(dave, click(cid)) == "cobrowse_no_control"
            assert await refused(cora, click(cid)) == "conversation_not_found"  # not hers any more
            # The old consent cannot be replayed for the new agent: he asks, and is given it afresh.
            grant = {"type": "cobrowse_control_grant", "conversation_id": cid, "session_id": sid}
            assert await refused(cust, grant) == "cobrowse_control_not_asked"
            await dave.send({"type": "cobrowse_control_request", "conversation_id": cid})
            await control_is(cust, dave, "asked")
            await cust.send(grant)
            await control_is(cust, dave, "on")
            await dave.send(click(cid, 10, 20))
            assert (await cust.next("cobrowse_control", kind="click"))["x"] == 10
    async with live.app.state.db.session() as s:
        row = await s.get(CobrowseSession, sid)
    assert row is not None and row.control_agent_id == dave_id and row.control_grants == 2


def refusal(cid: str, sid: str, reason: str = "unsafe") -> dict[str, Any]:
    return {"type": "cobrowse_control_refused", "conversation_id": cid, "session_id": sid, "reason": reason}


async def test_a_refused_click_is_reported_to_the_agent(settings: Settings, live: Live) -> None:
    await make_agent(live.app, "cora")
    async with (
        staff(live, "cora") as agent,
        customer(live) as (cust, _),
        customer(live) as (other, _other),
        pinging(agent, cust, other),
    ):
        cid, sid = await shared_with_control(agent, cust)
        await cust.send(refusal(cid, sid))
        got = await agent.next("cobrowse_warning", code="control_refused")
        assert got["session_id"] == sid and "form field" in got["detail"]
        await cust.send(refusal(cid, sid, "outside"))
        got = await agent.next("cobrowse_warning", code="control_refused")
        assert "outside what the customer sees" in got["detail"]
        # Attacks: another visitor forging it, the agent sending it, a wrong session, an unknown reason.
        assert await refused(other, refusal(cid, sid)) == "conversation_not_found"
        assert await refused(agent, refusal(cid, sid)) == "forbidden"
        assert await refused(cust, refusal(cid, "0123-abcd")) == "cobrowse_not_found"
        assert await refused(cust, refusal(cid, sid, "because")) == "invalid_frame"
        # Once control is taken back nobody is told of a late refusal (the agent was already told it ended).
        await cust.send({"type": "cobrowse_control_revoke", "conversation_id": cid})
        await control_is(cust, agent, "off")
        await cust.send(refusal(cid, sid))
        await roundtrip(cust)
        await roundtrip(agent)
        warnings = [f for f in agent.frames if f["type"] == "cobrowse_warning"]
        assert len(warnings) == 2
        assert not [f for f in other.frames if f["type"].startswith("cobrowse")]

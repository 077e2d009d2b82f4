"""Over real websockets: when a customer's chat starts and when they write, the assigned agent's socket is told to
fetch the suggestions again; the customer's socket never is."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import update

from contactcenter.ccr.models import Customer
from contactcenter.suggestions.runtime import MESSAGE_RERUN_S
from contactcenter.types import Role
from tests.chat.conftest import Live, customer, live, staff  # noqa: F401 - `live` is a fixture
from tests.chat.multiproc import make_staff
from tests.conftest import PASSWORD


async def test_the_agent_is_told_to_refresh_and_sees_the_script(live: Live) -> None:  # noqa: F811
    agent_name = await make_staff(live.app, Role.agent)
    async with staff(live, agent_name) as agent, customer(live) as (cust, _token):
        await cust.send({"type": "start", "name": "Grace", "page_url": "https://bank.example/funds/global-equity"})
        conv = (await cust.next("conversation"))["conversation"]
        while (await agent.next("conversation"))["conversation"]["status"] != "assigned":
            pass
        hint = await agent.next("suggestions", conversation_id=conv["id"])
        assert hint == {"type": "suggestions", "conversation_id": conv["id"]}
        async with live.app.state.db.session() as s:  # analytics stand-in: a gold customer
            await s.execute(
                update(Customer).where(Customer.id == conv["customer_id"]).values(profile={"value_tier": "gold"})
            )
            await s.commit()
        await cust.say(conv["id"], "I'd like to invest a lump sum")
        await agent.next("suggestions", conversation_id=conv["id"])
        async with httpx.AsyncClient(base_url=live.base) as h:
            r = await h.post("/api/session", json={"username": agent_name, "password": PASSWORD})
            assert r.status_code == 200
            got = (await h.get(f"/api/conversations/{conv['id']}/suggestions")).json()["suggestions"]
        assert [s["rule_id"] for s in got] == ["fund-advisor"] and "Grace" in got[0]["script_html"]
        # A second message within MESSAGE_RERUN_S changes no fact: the console is not told again. (Hints of
        # the start and the assignment may still be on their way over Redis: let them land first.)
        await asyncio.sleep(0.5)
        await agent.send({"type": "ping", "t": 0})
        await agent.next("pong")
        hints = len([f for f in agent.frames if f["type"] == "suggestions"])
        await cust.say(conv["id"], "still there?")
        while (await agent.next("message"))["message"]["body"] != "still there?":
            pass
        await asyncio.sleep(0.5)
        await agent.send({"type": "ping", "t": 1})
        await agent.next("pong")
        assert len([f for f in agent.frames if f["type"] == "suggestions"]) == hints
        # ...and once the window has passed, a message re-runs the rules again.
        runtime = live.app.state.suggestions
        runtime.message_reruns[conv["id"]] -= MESSAGE_RERUN_S
        await cust.say(conv["id"], "hello?")
        await agent.next("suggestions", conversation_id=conv["id"])
        await cust.send({"type": "ping", "t": 1})
        await cust.next("pong")
        assert not [f for f in cust.frames if f["type"] == "suggestions"]

"""Over real websockets: when a customer's chat starts and when they write, the assigned agent's socket is told to
fetch the suggestions again; the customer's socket never is."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from contactcenter.ccr.models import Customer
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
        await cust.say(conv["id"], "still there?")
        await agent.next("suggestions", conversation_id=conv["id"])
        await cust.send({"type": "ping", "t": 1})
        await cust.next("pong")
        assert not [f for f in cust.frames if f["type"] == "suggestions"]

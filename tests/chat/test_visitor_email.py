"""The email a visitor types is an unverified contact detail, not an identity (issue 11, item 10): visitor A
typing B's address neither blocks B's record (no 409) nor gives A anything of B's."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from contactcenter.ccr.models import CustomerIdentity
from tests.chat.conftest import Live, customer
from tests.chat.multiproc import make_staff
from tests.chat.test_attachments_transcript import agent_http, bearer, start_chat


async def test_a_visitor_typing_someone_elses_email_claims_nothing(live: Live) -> None:
    agent = await agent_http(live, await make_staff(live.app))
    async with agent, customer(live) as (attacker, a_token):
        a_cid = await start_chat(attacker, email="Bob.Real@Example.com", name="Not Bob")
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(a_token)) as h:
            a_customer = (await h.get("/api/visitors/me")).json()["customer_id"]
        # The typed address is kept on the visitor's record, unverified, as no identity.
        seen = (await agent.get(f"/api/customers/{a_customer}")).json()
        assert seen["contact_email"] == "bob.real@example.com"
        assert [i["kind"] for i in seen["identities"]] == ["visitor"]
        # Staff create the real Bob with his address: no 409, and it is Bob's identity.
        r = await agent.post(
            "/api/customers",
            json={"display_name": "Bob Real", "identities": [{"kind": "email", "value": "bob.real@example.com"}]},
        )
        assert r.status_code == 201, r.text
        bob = r.json()["id"]
        assert bob != a_customer
        # An email search finds Bob by his identity.
        found = (await agent.get("/api/customers", params={"q": "bob.real@example.com"})).json()
        assert [c["id"] for c in found] == [bob]
        # Adding the address to another record later is no 409 either, and a second visitor typing it is fine.
        async with customer(live) as (second, _t):
            await start_chat(second, email="bob.real@example.com")
        # The attacker still sees only their own chat: Bob's record is not theirs, nor merged into theirs.
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(a_token)) as h:
            assert (await h.get("/api/visitors/me")).json()["customer_id"] == a_customer
            own = await h.get(f"/api/chat/conversations/{a_cid}/messages")
            assert own.status_code == 200
        async with live.app.state.db.session() as s:
            holders = list(
                await s.scalars(
                    select(CustomerIdentity.customer_id).where(CustomerIdentity.value == "bob.real@example.com")
                )
            )
        assert holders == [bob]

"""Wrap-up outcomes: an agent closes any conversation with one of the configured outcomes and a note; the
outcome is stored, on the timeline, in the rules' facts and in the wallboard's counts; bad closes change
nothing."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from fastapi import FastAPI

from contactcenter.conversations import service as conversations
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import customer as visitor
from tests.chat.conftest import serve, staff
from tests.chat.test_bad_input import roundtrip
from tests.chat.test_chat_flow import make_agent
from tests.conftest import UserFactory, login
from tests.suggestions.helpers import conversation, customer


async def agent(app: FastAPI, make_user: UserFactory) -> tuple[httpx.AsyncClient, int]:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await login(c, await make_user(Role.agent))
    return c, (await c.get("/api/me")).json()["user"]["id"]


async def test_an_agent_closes_with_an_outcome_seen_on_the_timeline_in_facts_and_counts(
    app: FastAPI, make_user: UserFactory
) -> None:
    c, me = await agent(app, make_user)
    async with contextlib.aclosing(c):
        outcomes = (await c.get("/api/conversations/outcomes")).json()
        assert {"code": "sale", "label": "Sale"} in outcomes and len(outcomes) >= 4
        async with app.state.db.session() as s:
            cid = await customer(s, name="Olga Outcome")
            first = await conversation(s, customer_id=cid, agent_id=me)
        r = await c.post(f"/api/conversations/{first}/close", json={"outcome": "sale", "note": "Fixed saver, 2 years"})
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["outcome"], r.json()["outcome_note"]) == (
            "closed",
            "sale",
            "Fixed saver, 2 years",
        )
        timeline = (await c.get(f"/api/customers/{cid}/timeline")).json()["items"]
        assert timeline[0]["summary"] == "Chat closed by agent after 0 messages: Sale (Fixed saver, 2 years)"
        # The customer's next contact: the rules see how the last one ended.
        async with app.state.db.session() as s:
            second = await conversation(s, customer_id=cid, agent_id=me)
            facts = await app.state.suggestions.facts.gather(s, customer_id=cid, conversation_id=second, contact={})
        assert facts is not None and facts["touches"]["last_outcome"] == "sale"
        sup = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        async with sup:
            await login(sup, await make_user(Role.supervisor))
            counts = (await sup.get("/api/conversations/outcomes/today")).json()
        assert {"outcome": "sale", "count": 1} in counts


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"outcome": "great"}, 422, "unknown_outcome"),
        ({"outcome": ""}, 422, "invalid_request"),
        ({"outcome": "sale", "note": "x" * 501}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ],
)
async def test_a_bad_wrap_up_is_refused_and_the_conversation_stays_open(
    app: FastAPI, make_user: UserFactory, body: dict[str, object], status: int, code: str
) -> None:
    c, me = await agent(app, make_user)
    async with contextlib.aclosing(c):
        async with app.state.db.session() as s:
            conv = await conversation(s, customer_id=await customer(s, name="Bea Bad"), agent_id=me)
        r = await c.post(f"/api/conversations/{conv}/close", json=body)
        assert (r.status_code, r.json()["error"]) == (status, code), r.text
    async with app.state.db.session() as s:
        assert (await conversations.get(s, conversation_id=conv)).status == "assigned"


async def test_an_agent_cannot_close_someone_elses_conversation(app: FastAPI, make_user: UserFactory) -> None:
    owner, owner_id = await agent(app, make_user)
    other, _ = await agent(app, make_user)
    async with contextlib.aclosing(owner), contextlib.aclosing(other):
        async with app.state.db.session() as s:
            conv = await conversation(s, customer_id=await customer(s, name="Ned Nother"), agent_id=owner_id)
        r = await other.post(f"/api/conversations/{conv}/close", json={"outcome": "sale"})
        assert (r.status_code, r.json()["error"]) == (404, "conversation_not_found")
        r = await other.post("/api/conversations/no-such-id/close", json={"outcome": "sale"})
        assert r.status_code == 404
    async with app.state.db.session() as s:
        assert (await conversations.get(s, conversation_id=conv)).status == "assigned"


async def test_the_close_frame_takes_an_outcome_from_agents_only_and_a_known_one(settings: Settings) -> None:
    async with serve(settings) as live:
        await make_agent(live.app, "wendy")
        async with staff(live, "wendy") as agent, visitor(live) as (cust, _):
            await cust.send({"type": "start", "name": "Walt"})
            cid = (await cust.next("conversation"))["conversation"]["id"]
            await agent.next("conversation")
            # A customer may end the chat but not say how it went for the company; the chat stays open.
            await cust.send({"type": "close", "conversation_id": cid, "outcome": "sale"})
            assert ((e := await cust.next("error"))["code"], e["ref"]) == ("forbidden", cid)
            await agent.send({"type": "close", "conversation_id": cid, "outcome": "great"})
            assert (await agent.next("error"))["code"] == "unknown_outcome"
            await roundtrip(agent)
            async with live.app.state.db.session() as s:
                assert (await conversations.get(s, conversation_id=cid)).status == "assigned"
            await agent.send({"type": "close", "conversation_id": cid, "outcome": "resolved", "note": "fine"})
            while (f := (await cust.next("conversation"))["conversation"])["status"] != "closed":
                pass
            assert (f["outcome"], f["outcome_note"]) == ("resolved", "fine")

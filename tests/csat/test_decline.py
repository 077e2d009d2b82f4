"""CSAT "No thanks" over a real server on both backends: the customer's decline is stored once, the widget's
status then says declined (so it does not ask again), and the supervisors' figures count it as declined,
not as a rating, until the customer rates it after all (the email's link): then it is one rating, not both.
Attacks: another visitor's conversation (the same 404 as a missing one), a forged token, no token, an id
that is not an id, staff, ten declines racing, an open conversation."""

from __future__ import annotations

import asyncio

import httpx

from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import Live, customer, staff
from tests.cobrowse.test_flow import pinging
from tests.csat.helpers import bearer, closed_chat, make_user, signed_in


def _decline(cid: str) -> str:
    return f"/api/csat/conversations/{cid}/decline"


async def test_no_thanks_is_stored_once_ends_the_ask_and_counts_as_declined(settings: Settings, live: Live) -> None:
    agent_id = await make_user(live, "cora", Role.agent)
    await make_user(live, "sam", Role.supervisor)
    async with (
        staff(live, "cora") as agent,
        customer(live) as (cust, token),
        customer(live) as (_, other),
        pinging(agent, cust),
    ):
        cid = (await closed_chat(agent, cust))["conversation_id"]
        async with httpx.AsyncClient(base_url=live.base) as h:
            # Someone else's conversation, a forged token, none, an id that is not one: nothing is stored.
            r = await h.post(_decline(cid), headers=bearer(other))
            assert r.status_code == 404 and r.json()["error"] == "conversation_not_found"
            r = await h.post(_decline("0" * 36), headers=bearer(token))
            assert r.status_code == 404 and r.json()["error"] == "conversation_not_found"
            forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
            assert (await h.post(_decline(cid), headers=bearer(forged))).status_code == 401
            assert (await h.post(_decline(cid))).status_code == 401
            assert (await h.post(_decline("../../x"), headers=bearer(token))).status_code in (404, 422)
            r = await h.get(f"/api/csat/conversations/{cid}", headers=bearer(token))
            assert r.json()["declined_at"] is None and r.json()["score"] is None

            r = await h.post(_decline(cid), headers=bearer(token))
            assert r.status_code == 200, r.text
            assert r.json()["declined_at"] is not None and r.json()["score"] is None
            # Once: a second "No thanks" is refused; the status says declined (the widget asks no more).
            r = await h.post(_decline(cid), headers=bearer(token))
            assert r.status_code == 409 and r.json()["error"] == "already_declined"
            r = await h.get(f"/api/csat/conversations/{cid}", headers=bearer(token))
            assert r.json()["declined_at"] is not None and r.json()["score"] is None

        async with signed_in(live, "cora") as h:  # staff have no visitor token: refused
            assert (await h.post(_decline(cid))).status_code in (401, 403)
        async with signed_in(live, "sam") as h:
            got = (await h.get("/api/csat/stats", params={"period": "today"})).json()
            assert got["overall"] == {"key": "all", "name": "All", "count": 0, "average": 0.0, "satisfied_pct": 0.0,
                                      "declined": 1}  # fmt: skip
            assert got["agents"] == [{"key": str(agent_id), "name": "Cora", "count": 0, "average": 0.0,
                                      "satisfied_pct": 0.0, "declined": 1}]  # fmt: skip
        # A change of mind: rated after all, it is one rating, no longer a decline.
        async with httpx.AsyncClient(base_url=live.base) as h:
            r = await h.post("/api/csat/ratings", json={"conversation_id": cid, "score": 4}, headers=bearer(token))
            assert r.status_code == 201, r.text
            r = await h.post(_decline(cid), headers=bearer(token))
            assert r.status_code == 409 and r.json()["error"] == "already_rated"
        async with signed_in(live, "sam") as h:
            got = (await h.get("/api/csat/stats", params={"period": "today"})).json()
            assert got["overall"] == {"key": "all", "name": "All", "count": 1, "average": 4.0,
                                      "satisfied_pct": 100.0, "declined": 0}  # fmt: skip


async def test_racing_declines_store_one_and_a_rated_chat_cannot_be_declined(settings: Settings, live: Live) -> None:
    await make_user(live, "cora", Role.agent)
    async with staff(live, "cora") as agent, customer(live) as (cust, token), pinging(agent, cust):
        first = (await closed_chat(agent, cust))["conversation_id"]
        second = (await closed_chat(agent, cust, topic="Loan"))["conversation_id"]
        async with httpx.AsyncClient(base_url=live.base) as h:
            answers = await asyncio.gather(*(h.post(_decline(first), headers=bearer(token)) for _ in range(10)))
            codes = sorted(r.status_code for r in answers)
            assert codes == [200] + [409] * 9, [r.text for r in answers]
            r = await h.post("/api/csat/ratings", json={"conversation_id": second, "score": 5}, headers=bearer(token))
            assert r.status_code == 201, r.text
            r = await h.post(_decline(second), headers=bearer(token))
            assert r.status_code == 409 and r.json()["error"] == "already_rated"


async def test_an_open_conversation_cannot_be_declined(settings: Settings, live: Live) -> None:
    await make_user(live, "cora", Role.agent)
    async with staff(live, "cora") as agent, customer(live) as (cust, token), pinging(agent, cust):
        await cust.send({"type": "start", "topic": "Card"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation")
        async with httpx.AsyncClient(base_url=live.base) as h:
            r = await h.post(_decline(cid), headers=bearer(token))
            assert r.status_code == 409 and r.json()["error"] == "conversation_open"

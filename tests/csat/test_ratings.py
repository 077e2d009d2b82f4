"""CSAT over a real server on both backends: a chat closes, its customer is asked over their socket, rates
it once through the visitor route; the rating is a touch on the timeline, counts on the wallboard's figures
and becomes the customer's csat.* facts. Attacks: a second rating, ten racing, another visitor's token, no
token, scores 0 and 6, a comment too long, an open conversation, an agent asking for the figures."""

from __future__ import annotations

import asyncio

import httpx

from contactcenter.csat import service
from contactcenter.db import utcnow
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import Live, customer, staff
from tests.cobrowse.test_flow import pinging
from tests.csat.helpers import bearer, closed_chat, customer_of, make_user, signed_in


async def test_rate_once_touch_figures_and_facts(settings: Settings, live: Live) -> None:
    agent_id = await make_user(live, "cora", Role.agent)
    await make_user(live, "sam", Role.supervisor)
    async with (
        staff(live, "cora") as agent,
        customer(live) as (cust, token),
        customer(live) as (_, other),
        pinging(agent, cust),
    ):
        asked = await closed_chat(agent, cust)
        cid = asked["conversation_id"]
        assert asked["channel"] == "chat" and asked["agent_name"] == "Cora"
        async with httpx.AsyncClient(base_url=live.base) as h:
            r = await h.get(f"/api/csat/conversations/{cid}", headers=bearer(token))
            assert r.status_code == 200 and r.json()["score"] is None and r.json()["agent_name"] == "Cora"
            body = {"conversation_id": cid, "score": 2, "comment": "Slow <b>answers</b>"}
            # Another visitor's token: the conversation is not theirs (same answer as a missing one).
            r = await h.post("/api/csat/ratings", json=body, headers=bearer(other))
            assert r.status_code == 404 and r.json()["error"] == "conversation_not_found"
            assert (await h.get(f"/api/csat/conversations/{cid}", headers=bearer(other))).status_code == 404
            assert (await h.post("/api/csat/ratings", json=body)).status_code == 401
            forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
            assert (await h.post("/api/csat/ratings", json=body, headers=bearer(forged))).status_code == 401
            for bad in ({"score": 0}, {"score": 6}, {"score": "5"}, {"comment": "x" * 1001}):
                r = await h.post("/api/csat/ratings", json=body | bad, headers=bearer(token))
                assert r.status_code == 422, (bad, r.text)
            r = await h.post("/api/csat/ratings", json=body, headers=bearer(token))
            assert r.status_code == 201, r.text
            assert r.json()["score"] == 2 and r.json()["comment"] == "Slow <b>answers</b>"
            r = await h.post("/api/csat/ratings", json=body | {"score": 5}, headers=bearer(token))
            assert r.status_code == 409 and r.json()["error"] == "already_rated"
            r = await h.get(f"/api/csat/conversations/{cid}", headers=bearer(token))
            assert r.json()["score"] == 2

        async with signed_in(live, "cora") as h:
            customer_id = await customer_of(live, cid)
            items = (await h.get(f"/api/customers/{customer_id}/timeline")).json()["items"]
            rating = [t for t in items if t["kind"] == "rating"]
            assert len(rating) == 1 and rating[0]["conversation_id"] == cid and rating[0]["agent_id"] == agent_id
            assert rating[0]["payload"]["score"] == 2 and rating[0]["payload"]["comment"] == "Slow <b>answers</b>"
            assert rating[0]["summary"] == "Rated the chat 2/5 (poor): Slow <b>answers</b>"
            # The figures are the supervisors': an agent is refused.
            r = await h.get("/api/csat/stats")
            assert r.status_code == 403 and r.json()["error"] == "forbidden"
        async with signed_in(live, "sam") as h:
            for period in ("today", "7d"):
                got = (await h.get("/api/csat/stats", params={"period": period})).json()
                assert got["overall"] == {"key": "all", "name": "All", "count": 1, "average": 2.0, "satisfied_pct": 0.0,
                                          "declined": 0}  # fmt: skip
                assert got["agents"] == [{"key": str(agent_id), "name": "Cora", "count": 1, "average": 2.0,
                                          "satisfied_pct": 0.0, "declined": 0}]  # fmt: skip
                assert [q["key"] for q in got["queues"]] == ["general"]
            assert (await h.get("/api/csat/stats", params={"period": "year"})).status_code == 422

    async with live.app.state.db.session() as s:
        facts = await service.customer_facts(s, customer_id=customer_id, now=utcnow())
    assert facts == {"last": 2, "avg": 2.0, "count": 1, "days_since_last": 0}


async def test_racing_ratings_one_wins(settings: Settings, live: Live) -> None:
    await make_user(live, "cora", Role.agent)
    async with staff(live, "cora") as agent, customer(live) as (cust, token), pinging(agent, cust):
        cid = (await closed_chat(agent, cust))["conversation_id"]
        async with httpx.AsyncClient(base_url=live.base) as h:

            async def one(score: int) -> httpx.Response:
                body = {"conversation_id": cid, "score": score, "comment": f"try {score}"}
                return await h.post("/api/csat/ratings", json=body, headers=bearer(token))

            answers = await asyncio.gather(*(one(1 + i % 5) for i in range(10)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 9, [r.text for r in answers]
    won = next(r.json() for r in answers if r.status_code == 201)
    async with signed_in(live, "cora") as h:
        customer_id = await customer_of(live, cid)
        items = (await h.get(f"/api/customers/{customer_id}/timeline")).json()["items"]
    ratings = [t for t in items if t["kind"] == "rating"]
    assert len(ratings) == 1 and ratings[0]["payload"]["score"] == won["score"]


async def test_open_conversation_is_not_rated(settings: Settings, live: Live) -> None:
    await make_user(live, "cora", Role.agent)
    async with staff(live, "cora") as agent, customer(live) as (cust, token), pinging(agent, cust):
        await cust.send({"type": "start", "topic": "Card"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation")
        async with httpx.AsyncClient(base_url=live.base) as h:
            body = {"conversation_id": cid, "score": 5}
            r = await h.post("/api/csat/ratings", json=body, headers=bearer(token))
            assert r.status_code == 409 and r.json()["error"] == "conversation_open"
            r = await h.post("/api/csat/ratings", json=body | {"conversation_id": "0" * 36}, headers=bearer(token))
            assert r.status_code == 404

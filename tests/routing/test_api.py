"""Routing over HTTP with the real app (SQLite + memory, PostgreSQL + Redis): states and roles, offers,
accept / decline, transfers, contact position and estimate, the wallboard, presence timeouts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import CustomerCreate
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.schemas import StartIn
from contactcenter.conversations import service as conversations
from contactcenter.routing import presence
from contactcenter.routing import service as routing
from contactcenter.types import Role
from tests.conftest import UserFactory, login


class Staff:
    def __init__(self, client: httpx.AsyncClient, user_id: int) -> None:
        self.c, self.id = client, user_id


@pytest.fixture
async def people(app: FastAPI, make_user: UserFactory) -> AsyncIterator[dict[str, Staff]]:
    clients = []
    out: dict[str, Staff] = {}
    for name, role in (
        ("a1", Role.agent),
        ("a2", Role.agent),
        ("a3", Role.agent),
        ("sup", Role.supervisor),
        ("adm", Role.admin),
        ("plan", Role.planner),
    ):
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(c)
        await login(c, await make_user(role))
        me = (await c.get("/api/me")).json()
        out[name] = Staff(c, me["user"]["id"])
    yield out
    for c in clients:
        await c.aclose()


async def online(app: FastAPI, *agents: Staff) -> None:
    for a in agents:
        await presence.agent_online(app.state.db, app.state.bus, agent_id=a.id)


async def start_chat(app: FastAPI, name: str = "Cust", queue: str | None = None) -> tuple[str, int]:
    async with app.state.db.session() as s:
        cust = await ccr.create_customer(s, data=CustomerCreate(display_name=name), region="GB")
        out = await chat.start_conversation(s, app.state.bus, customer_id=cust.id, data=StartIn(), region="GB")
    return out.id, cust.id


async def manual(p: dict[str, Staff], *names: str) -> None:
    for n in names:
        r = await p["sup"].c.put(f"/api/routing/agents/{p[n].id}/profile", json={"auto_accept": False})
        assert r.status_code == 200, r.text


async def test_states_and_roles(app: FastAPI, people: dict[str, Staff]) -> None:
    p = people
    assert (await p["a1"].c.get("/api/routing/me")).status_code == 404
    await online(app, p["a1"], p["a2"])
    me = (await p["a1"].c.get("/api/routing/me")).json()
    assert me["state"] == "available" and me["held"] == []
    r = await p["a1"].c.put("/api/routing/me/state", json={"state": "away", "reason": "lunch"})
    assert r.status_code == 200 and (r.json()["state"], r.json()["reason"]) == ("away", "lunch")
    assert (await p["a1"].c.put("/api/routing/me/state", json={"state": "busy"})).status_code == 422
    assert (await p["a1"].c.put("/api/routing/me/state", json={"state": "away", "reason": "x\x00"})).status_code == 422
    # An agent may not move another agent; a planner may not move anyone; a supervisor may.
    body = {"state": "away", "reason": "coaching"}
    assert (await p["a1"].c.put(f"/api/routing/agents/{p['a2'].id}/state", json=body)).status_code == 403
    assert (await p["plan"].c.put("/api/routing/me/state", json=body)).status_code == 403
    assert (await p["a2"].c.get("/api/routing/me")).json()["state"] == "available"
    r = await p["sup"].c.put(f"/api/routing/agents/{p['a2'].id}/state", json=body)
    assert r.status_code == 200 and r.json()["state"] == "away"
    assert (await p["sup"].c.put("/api/routing/agents/999999/state", json=body)).status_code == 404
    r = await p["a2"].c.put("/api/routing/me/state", json={"state": "wrap_up", "wrap_up_s": 60, "reason": "sale"})
    assert r.json()["state"] == "wrap_up" and r.json()["until"] > time.time()


async def test_offer_accept_decline_and_wrong_agent(app: FastAPI, people: dict[str, Staff]) -> None:
    p = people
    await online(app, p["a1"], p["a2"])
    await manual(p, "a1", "a2")
    conv, _ = await start_chat(app)
    held = (await p["a1"].c.get("/api/routing/me")).json()["held"]
    assert held == [{"contact_id": conv, "status": "offered"}]  # a1 was idle longest
    r = await p["a2"].c.post(f"/api/routing/offers/{conv}/accept")
    assert r.status_code == 409 and r.json()["error"] == "offer_not_yours"
    r = await p["a1"].c.post(f"/api/routing/offers/{conv}/decline")
    assert r.status_code == 200 and r.json()["held"] == []
    # Now it is on offer to a2: a1 can no longer take it.
    assert (await p["a1"].c.post(f"/api/routing/offers/{conv}/accept")).json()["error"] == "offer_not_yours"
    r = await p["a2"].c.post(f"/api/routing/offers/{conv}/accept")
    assert r.status_code == 200 and (r.json()["status"], r.json()["agent_id"]) == ("assigned", p["a2"].id)
    async with app.state.db.session() as s:
        c = await conversations.get(s, conversation_id=conv)
        assert (c.status, c.agent_id) == ("assigned", p["a2"].id)
    assert (await p["a2"].c.post(f"/api/routing/offers/{conv}/accept")).json()["error"] == "offer_withdrawn"
    assert (await p["a2"].c.post("/api/routing/offers/bad%00id/accept")).status_code == 422


async def test_transfer_to_queue_agent_and_missing_queue(app: FastAPI, people: dict[str, Staff]) -> None:
    p = people
    r = await p["adm"].c.put(
        "/api/routing/queues/billing", json={"id": "billing", "name": "Billing", "skills": {"billing": 1}}
    )
    assert r.status_code == 200
    assert (await p["sup"].c.put("/api/routing/queues/x", json={"id": "x", "name": "X"})).status_code == 403
    await p["sup"].c.put(f"/api/routing/agents/{p['a3'].id}/profile", json={"skills": {"billing": 2}})
    await online(app, p["a1"], p["a2"], p["a3"])
    conv, _ = await start_chat(app)
    owners = [a for a in (p["a1"], p["a2"], p["a3"]) if (await a.c.get("/api/routing/me")).json()["held"]]
    assert len(owners) == 1
    owner = owners[0]
    other = p["a2"] if owner is p["a1"] else p["a1"]
    r = await owner.c.post(f"/api/routing/contacts/{conv}/transfer", json={"queue": "nope", "note": "n"})
    assert r.status_code == 404 and r.json()["error"] == "queue_not_found"
    assert (await other.c.post(f"/api/routing/contacts/{conv}/transfer", json={"queue": "billing"})).status_code == 403
    assert (await owner.c.post(f"/api/routing/contacts/{conv}/transfer", json={})).status_code == 422
    async with app.state.db.session() as s:
        before = await conversations.get(s, conversation_id=conv)
        assert (before.agent_id, before.queue) == (owner.id, "general")  # nothing changed
    r = await owner.c.post(f"/api/routing/contacts/{conv}/transfer", json={"queue": "billing", "note": "invoice"})
    assert r.status_code == 200 and (r.json()["queue"], r.json()["agent_id"]) == ("billing", p["a3"].id)
    async with app.state.db.session() as s:
        after = await conversations.get(s, conversation_id=conv)
        assert (after.agent_id, after.queue) == (p["a3"].id, "billing")  # the new queue is stored
    # A supervisor reassigns it to a named agent.
    r = await p["sup"].c.post(f"/api/routing/contacts/{conv}/reassign", json={"agent_id": p["a1"].id})
    assert r.status_code == 200 and r.json()["agent_id"] == p["a1"].id
    assert (await p["a1"].c.post(f"/api/routing/contacts/{conv}/reassign", json={"agent_id": 1})).status_code == 403


async def test_position_estimate_visitor_access_and_wallboard(
    app: FastAPI, client: httpx.AsyncClient, people: dict[str, Staff]
) -> None:
    p = people
    await online(app, p["a1"])
    await p["a1"].c.put("/api/routing/me/state", json={"state": "away", "reason": "training"})
    token = (await client.post("/api/visitors")).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    me = (await client.get("/api/visitors/me", headers=auth)).json()
    async with app.state.db.session() as s:
        mine = await chat.start_conversation(
            s, app.state.bus, customer_id=me["customer_id"], data=StartIn(), region="GB"
        )
    other, _ = await start_chat(app)
    r = await client.get(f"/api/routing/contacts/{mine.id}", headers=auth)
    assert r.status_code == 200 and (r.json()["status"], r.json()["position"]) == ("queued", 0)
    assert r.json()["estimate"] == {"position": 0, "agents": 0, "expected_s": None, "low_s": None, "high_s": None}
    assert (await client.get(f"/api/routing/contacts/{other}", headers=auth)).status_code == 404
    assert (await p["a1"].c.get(f"/api/routing/contacts/{other}")).json()["position"] == 1
    for seconds in (30.0, 60.0, 90.0, 120.0):
        await routing.of(app.state.bus).backend.record_handle("general", seconds)
    # a2 takes one call-sized chat at a time and answers offers by hand: the first chat is offered to a2,
    # the other waits first in line for one agent on duty with a median handle time of 75 s.
    body = {"capacity": 1.0, "weights": {"chat": 1.0}, "auto_accept": False}
    assert (await p["sup"].c.put(f"/api/routing/agents/{p['a2'].id}/profile", json=body)).status_code == 200
    await online(app, p["a2"])
    est = (await p["a1"].c.get(f"/api/routing/contacts/{other}")).json()["estimate"]
    assert est == {"position": 0, "agents": 1, "expected_s": 75.0, "low_s": 52.5, "high_s": 97.5}
    await p["a1"].c.put("/api/routing/me/state", json={"state": "available"})
    wb = await p["sup"].c.get("/api/routing/wallboard")
    assert wb.status_code == 200
    general = next(q for q in wb.json()["queues"] if q["queue"] == "general")
    assert (general["waiting"], general["answered"], general["service_level_pct"]) == (0, 1, 100.0)
    assert wb.json()["agents_by_state"]["busy"] == 2
    assert (await p["a1"].c.get("/api/routing/wallboard")).status_code == 403
    async with app.state.db.session() as s:
        await conversations.close(s, app.state.bus, conversation_id=other, by="agent")
    assert (await p["a1"].c.get("/api/routing/me")).json()["held"] == []


async def test_silent_agent_goes_offline_and_offers_go_back(app: FastAPI, people: dict[str, Staff]) -> None:
    p = people
    await online(app, p["a1"], p["a2"])
    await manual(p, "a1", "a2")
    conv, _ = await start_chat(app)
    assert (await p["a1"].c.get("/api/routing/me")).json()["held"][0]["contact_id"] == conv
    # a1's console goes quiet; a2 keeps sending heartbeats. Past the presence window a1 is offline and the
    # offer moves to a2.
    later = time.time() + routing.of(app.state.bus).presence_s + 1
    await routing.of(app.state.bus).backend.heartbeat(p["a2"].id, now=later - 0.5, ttl_s=60)
    async with app.state.db.session() as s:
        await routing.apply_offers(s, app.state.bus, await routing.of(app.state.bus).backend.tick(now=later))
    assert (await p["a1"].c.get("/api/routing/me")).json()["state"] == "offline"
    assert (await p["a2"].c.get("/api/routing/me")).json()["held"] == [{"contact_id": conv, "status": "offered"}]

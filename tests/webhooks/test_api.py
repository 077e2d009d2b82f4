"""Through the app, on both deployments: only admins manage webhooks; real contact events (a chat started,
its touch, a suggestion accepted and sold, the close) reach a real receiver, signed; replay of a dead one."""

from __future__ import annotations

import contextlib
import json
import time

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from contactcenter.auth.models import StaffUser
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.schemas import StartIn
from contactcenter.conversations import service as conversations
from contactcenter.types import Role
from tests.conftest import UserFactory, login
from tests.suggestions.helpers import customer, product
from tests.webhooks.receiver import Receiver, running

FUND_PAGE = "https://bank.example/funds/global-equity"
ALL = ["conversation.started", "conversation.closed", "touch.logged", "suggestion.accepted", "sale.recorded"]


async def _as(app: FastAPI, make_user: UserFactory, role: Role) -> httpx.AsyncClient:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await login(c, await make_user(role))
    return c


async def test_only_admins_manage_subscribers_and_urls_are_checked(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    body = {"url": "https://erp.bank.example/hooks", "event_types": ["sale.recorded"]}
    assert (await client.get("/api/webhooks/subscribers")).status_code == 401
    # Role checks do not depend on the backend: on one deployment only (each user costs a password hash).
    for role in (Role.agent, Role.supervisor) if app.state.settings.redis_url is None else ():
        async with contextlib.aclosing(await _as(app, make_user, role)) as c:
            for method, path in [
                ("GET", "/api/webhooks/subscribers"),
                ("POST", "/api/webhooks/subscribers"),
                ("PATCH", "/api/webhooks/subscribers/1"),
                ("DELETE", "/api/webhooks/subscribers/1"),
                ("GET", "/api/webhooks/subscribers/1/deliveries"),
                ("GET", "/api/webhooks/deliveries/1"),
                ("POST", "/api/webhooks/deliveries/1/replay"),
            ]:
                r = await c.request(method, path, json=body if method in ("POST", "PATCH") else None)
                assert (r.status_code, r.json()["error"]) == (403, "forbidden"), (role, method, path)
    await login(client, await make_user(Role.admin))
    csrf = client.headers.pop("X-CSRF-Token")
    assert (await client.post("/api/webhooks/subscribers", json=body)).json()["error"] == "csrf_failed"
    client.headers["X-CSRF-Token"] = csrf
    r = await client.post("/api/webhooks/subscribers", json=body | {"description": "ERP"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_") and made["event_types"] == ["sale.recorded"]
    listed = (await client.get("/api/webhooks/subscribers")).json()
    assert [s["id"] for s in listed] == [made["id"]] and "secret" not in listed[0]  # shown once only
    assert made["secret"] not in (await client.get("/api/webhooks/subscribers")).text
    bad = [
        {"url": "ftp://erp.bank.example/x"},
        {"url": "javascript:alert(1)"},
        {"url": "https://user:pw@erp.bank.example/x"},
        {"url": "https:///nohost"},
        {"url": "https://erp.bank.example/" + "a" * 2048},
        {"event_types": []},
        {"event_types": ["order.shipped"]},
        {"extra": True},
    ]
    for change in bad:
        r = await client.post("/api/webhooks/subscribers", json=body | change)
        assert (r.status_code, r.json()["error"]) == (422, "invalid_request"), change
    for host in ("localhost", "10.0.0.1", "169.254.169.254", "[::1]", "192.168.1.1"):
        r = await client.post("/api/webhooks/subscribers", json=body | {"url": f"http://{host}/x"})
        assert (r.status_code, r.json()["error"]) == (422, "url_not_allowed"), host
    sid = made["id"]
    r = await client.patch(f"/api/webhooks/subscribers/{sid}", json={"url": "http://10.1.1.1/"})
    assert r.json()["error"] == "url_not_allowed"
    r = await client.patch(f"/api/webhooks/subscribers/{sid}", json={"active": False, "event_types": ALL})
    assert r.status_code == 200 and (r.json()["active"], r.json()["event_types"]) == (False, sorted(ALL))
    assert (await client.get(f"/api/webhooks/subscribers/{sid}/deliveries")).json() == {"items": []}
    assert (await client.get("/api/webhooks/deliveries/99")).json()["error"] == "delivery_not_found"
    assert (await client.post("/api/webhooks/deliveries/99/replay")).json()["error"] == "delivery_not_found"
    assert (await client.delete(f"/api/webhooks/subscribers/{sid}")).status_code == 204
    assert (await client.delete(f"/api/webhooks/subscribers/{sid}")).json()["error"] == "subscriber_not_found"
    assert (await client.get("/api/webhooks/subscribers")).json() == []


async def _subscribe(admin: httpx.AsyncClient, rx: Receiver, types: list[str]) -> int:
    r = await admin.post("/api/webhooks/subscribers", json={"url": rx.url, "event_types": types})
    assert r.status_code == 201, r.text
    rx.secret = r.json()["secret"]
    sid: int = r.json()["id"]
    return sid


async def _until(check: object, timeout: float = 20.0) -> None:
    import asyncio

    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_contact_events_reach_the_receiver_signed_and_a_dead_one_is_replayed(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await login(client, await make_user(Role.admin))
    with running() as rx, running() as broken:
        await _subscribe(client, rx, ALL)
        broken.script = [(400, {})]
        bad = await _subscribe(client, broken, ["conversation.started"])
        agent_name = await make_user(Role.agent)
        async with contextlib.aclosing(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        ) as agent:
            await login(agent, agent_name)
            async with app.state.db.session() as s:
                agent_id = await s.scalar(select(StaffUser.id).where(StaffUser.username == agent_name))
                assert agent_id is not None
                await product(s, "HB-FD-GLOBAL", "investment")
                cid = await customer(s, name="Gold Hook", value_tier="gold")
                conv = await chat.start_conversation(
                    s, app.state.bus, customer_id=cid, data=StartIn(name="Visitor", page_url=FUND_PAGE), region="GB"
                )
                assert await conversations.assign(s, app.state.bus, conversation_id=conv.id, agent_id=agent_id)
            got = (await agent.get(f"/api/conversations/{conv.id}/suggestions")).json()["suggestions"]
            assert got, "the fund rule suggests something to a gold customer on the fund page"
            sug = got[0]["id"]
            assert (await agent.post(f"/api/suggestions/{sug}/accept")).status_code == 200
            assert (await agent.post(f"/api/suggestions/{sug}/accept")).status_code == 200  # no second event
            r = await agent.post(f"/api/suggestions/{sug}/convert", json={"product": "HB-FD-GLOBAL", "amount": 2500})
            assert r.status_code == 200, r.text
            r = await agent.post(f"/api/conversations/{conv.id}/close", json={"outcome": "sale"})
            assert r.status_code == 200, r.text

        def types() -> list[str]:
            return [json.loads(x.body)["type"] for x in rx.got]

        async def arrived() -> bool:
            return {"conversation.started", "conversation.closed", "suggestion.accepted", "sale.recorded"} <= set(
                types()
            ) and "touch.logged" in types()

        await _until(arrived)
        assert all(x.verified for x in rx.got)
        assert len(rx.ids()) == len(set(rx.ids())), "each event once"
        assert types().count("suggestion.accepted") == 1 and types().count("sale.recorded") == 1
        by_type = {json.loads(x.body)["type"]: json.loads(x.body) for x in rx.got}
        assert by_type["conversation.started"]["data"]["id"] == conv.id
        assert by_type["conversation.closed"]["data"]["outcome"] == "sale"
        sale = by_type["sale.recorded"]["data"]
        assert (sale["suggestion_id"], sale["product"], sale["amount"], sale["source"]) == (
            sug,
            "HB-FD-GLOBAL",
            "2500.00",
            "wrap_up",
        )

        # The 400 subscriber: dead after one attempt, then replayed by the admin and delivered.
        async def dead() -> bool:
            r = await client.get(f"/api/webhooks/subscribers/{bad}/deliveries", params={"status": "dead"})
            return len(r.json()["items"]) == 1

        await _until(dead)
        [item] = (await client.get(f"/api/webhooks/subscribers/{bad}/deliveries")).json()["items"]
        assert (item["attempts"], item["last_status"], item["event_type"]) == (1, 400, "conversation.started")
        listed = {s["id"]: s for s in (await client.get("/api/webhooks/subscribers")).json()}
        assert listed[bad]["dead"] == 1
        r = await client.post(f"/api/webhooks/deliveries/{item['id']}/replay")
        assert (r.status_code, r.json()["status"]) == (200, "pending")
        await broken.until(2)

        async def delivered() -> bool:
            r = await client.get(f"/api/webhooks/deliveries/{item['id']}")
            return bool(r.json()["status"] == "delivered")

        await _until(delivered)
        detail = (await client.get(f"/api/webhooks/deliveries/{item['id']}")).json()
        assert [(a["status_code"], a["outcome"]) for a in detail["log"]] == [(400, "dead"), (200, "delivered")]
        assert detail["payload"]["data"]["id"] == conv.id
        assert broken.ids() == [item["msg_id"]] * 2 and all(x.verified for x in broken.got)
        r = await client.post(f"/api/webhooks/deliveries/{item['id']}/replay")
        assert (r.status_code, r.json()["error"]) == (409, "not_dead")

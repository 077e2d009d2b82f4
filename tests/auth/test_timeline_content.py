"""Who reads conversation content on a customer's timeline (issue 11, item 8): agents, supervisors and admins
read it, private notes included; planners see the touches without a word of content; visitors and anonymous
callers get nothing."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

from contactcenter.bus.memory import MemoryBus
from contactcenter.channels.chat.messages import post_message
from contactcenter.channels.chat.schemas import SenderKind
from contactcenter.types import Role
from tests.conftest import UserFactory, login
from tests.suggestions.helpers import conversation, customer

SECRETS = ("my card number is 4000 1234", "NOTE: credit score looks weak", "Pays late", "vip@example.com")


async def _customer_with_content(app: FastAPI) -> int:
    quiet = MemoryBus()
    async with app.state.db.session() as s:
        cid = await customer(s, name="Grace Gold")
        conv = await conversation(s, customer_id=cid, agent_id=None, page="/funds")
    async with app.state.db.session() as s:
        for body, kind, private in ((SECRETS[0], SenderKind.customer, False), (SECRETS[1], SenderKind.agent, True)):
            await post_message(
                s,
                quiet,
                conversation_id=conv,
                sender=kind,
                sender_id=cid if kind is SenderKind.customer else 1,
                sender_name="x",
                body=body,
                client_id=body[:8],
                private=private,
            )
    return cid


@pytest.mark.parametrize("role", list(Role))
async def test_timeline_content_by_role(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, role: Role
) -> None:
    cid = await _customer_with_content(app)
    await login(client, await make_user(Role.agent))
    r = await client.post(f"/api/customers/{cid}/notes", json={"summary": SECRETS[2], "body": SECRETS[3]})
    assert r.status_code == 201, r.text
    client.cookies.clear()
    await login(client, await make_user(role))
    r = await client.get(f"/api/customers/{cid}/timeline")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    kinds = sorted((t["kind"], t["direction"]) for t in items)
    text = json.dumps(items)
    assert ("message", "internal") in kinds and ("message", "in") in kinds and ("note", "internal") in kinds
    if role is Role.planner:
        assert not any(secret in text for secret in SECRETS), text
        assert all(t["payload"] == {} for t in items)
        assert {t["summary"] for t in items if t["direction"] == "internal" and t["kind"] == "message"} == {
            "Private note (content not shown to your role)"
        }
    else:
        assert all(secret in text for secret in SECRETS), text


async def test_visitors_and_strangers_read_no_timeline(app: FastAPI, client: httpx.AsyncClient) -> None:
    cid = await _customer_with_content(app)
    assert (await client.get(f"/api/customers/{cid}/timeline")).status_code == 401
    token = (await client.post("/api/visitors")).json()["token"]
    r = await client.get(f"/api/customers/{cid}/timeline", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and not any(s in r.text for s in SECRETS)

"""A closed chat to rate, and staff HTTP clients, for the CSAT tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from contactcenter.auth.service import create_user
from contactcenter.types import Role
from tests.chat.conftest import Client, Live
from tests.conftest import PASSWORD


async def make_user(live: Live, name: str, role: Role) -> int:
    async with live.app.state.db.session() as s:
        user = await create_user(s, username=name, display_name=name.title(), role=role, password=PASSWORD)
        return user.id


@contextlib.asynccontextmanager
async def signed_in(live: Live, username: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.base) as h:
        r = await h.post("/api/session", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        h.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        yield h


async def closed_chat(agent: Client, cust: Client, topic: str = "Card") -> dict[str, Any]:
    """The customer starts a chat, the agent gets it and closes it; the customer's csat_ask frame."""
    await cust.send({"type": "start", "topic": topic})
    cid = (await cust.next("conversation"))["conversation"]["id"]
    await agent.next("conversation")
    await cust.say(cid, "hello")
    await agent.send({"type": "close", "conversation_id": cid})
    return await cust.next("csat_ask", conversation_id=cid)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def customer_of(live: Live, conversation_id: str) -> int:
    from contactcenter.conversations import service as conversations

    async with live.app.state.db.session() as s:
        conv = await conversations.get(s, conversation_id=conversation_id)
    return conv.customer_id

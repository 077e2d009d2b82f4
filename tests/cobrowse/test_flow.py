"""Co-browse over real websockets: consent, relay to the conversation's agent only, the scan, the limits,
a late agent's snapshot, the CCR touch; and the attacks (forged frames, the wrong side, oversized pages)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from contactcenter.ccr.models import Touch
from contactcenter.cobrowse.models import CobrowseSession
from contactcenter.settings import Settings
from tests.chat.conftest import Client, Live, customer, staff
from tests.chat.test_chat_flow import make_agent

VISA = "4111 1111 1111 1111"
IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.fixture
def small_snapshots(settings: Settings) -> Settings:
    settings.cobrowse_max_snapshot_bytes = 20_000
    settings.cobrowse_max_event_bytes = 4_000
    return settings


def meta(href: str) -> dict[str, Any]:
    return {"type": 4, "data": {"href": href, "width": 800, "height": 600}, "timestamp": 1}


def snapshot(text: str, pad: int = 0) -> dict[str, Any]:
    node = {
        "type": 0,
        "id": 1,
        "childNodes": [
            {"type": 2, "id": 2, "tagName": "p", "attributes": {"title": "x" * pad}, "childNodes": [
                {"type": 3, "id": 3, "textContent": text}]},
        ],
    }  # fmt: skip
    return {"type": 2, "data": {"node": node, "initialOffset": {"top": 0, "left": 0}}, "timestamp": 2}


def mutation(text: str) -> dict[str, Any]:
    return {"type": 3, "data": {"source": 0, "texts": [{"id": 3, "value": text}], "adds": [], "removes": [],
                                "attributes": []}, "timestamp": 3}  # fmt: skip


@contextlib.asynccontextmanager
async def pinging(*clients: Client) -> AsyncIterator[None]:
    """Heartbeats while the test runs (its steps may be slow on a busy machine; the server closes a socket
    silent for three heartbeats)."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(1.0)
            for c in clients:
                with contextlib.suppress(Exception):
                    await c.send({"type": "ping"})

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


def relayed(c: Client) -> str:
    return json.dumps([f for f in c.frames if f["type"] == "cobrowse_events"])


async def test_consent_relay_scan_limits_and_touch(small_snapshots: Settings, live: Live) -> None:
    await make_agent(live.app, "cora")
    await make_agent(live.app, "dave")
    async with (
        staff(live, "cora") as agent,
        customer(live) as (cust, token),
        customer(live) as (other, other_token),
        pinging(agent, cust, other),
    ):
        await cust.send({"type": "start", "topic": "Loans"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation", timeout=5)
        # The customer cannot start it, nor send events before consent.
        await cust.send({"type": "cobrowse_request", "conversation_id": cid})
        assert (await cust.next("error"))["code"] == "forbidden"
        await cust.send({"type": "cobrowse_events", "conversation_id": cid, "events": [meta("http://x/")]})
        assert (await cust.next("error"))["code"] == "cobrowse_off"

        await agent.send({"type": "cobrowse_request", "conversation_id": cid})
        asked = await cust.next("cobrowse_state", state="requested")
        await agent.next("cobrowse_state", state="requested")
        sid = asked["session_id"]

        # Another visitor forges the consent and events for this conversation: refused, nothing relayed.
        await other.send({"type": "cobrowse_accept", "conversation_id": cid, "session_id": sid})
        assert (await other.next("error"))["code"] == "conversation_not_found"
        await cust.send({"type": "cobrowse_accept", "conversation_id": cid, "session_id": sid})
        await agent.next("cobrowse_state", state="on")
        await cust.next("cobrowse_state", state="on")
        forged = {"type": "cobrowse_events", "conversation_id": cid, "events": [mutation("FORGED")]}
        await other.send(forged)
        assert (await other.next("error"))["code"] == "conversation_not_found"
        async with httpx.AsyncClient(base_url=live.base) as h:
            r = await h.post(
                "/api/cobrowse/events", json={"conversation_id": cid, "events": [snapshot("FORGED")]},
                headers={"Authorization": f"Bearer {other_token}"},
            )  # fmt: skip
            assert r.status_code == 404 and r.json()["error"] == "conversation_not_found"
        # The agent cannot push events into the customer's view either.
        await agent.send(forged)
        assert (await agent.next("error"))["code"] == "forbidden"

        # A snapshot with a card number and an IBAN as page text, over HTTP as the widget sends it.
        async with httpx.AsyncClient(base_url=live.base) as h:
            r = await h.post(
                "/api/cobrowse/events",
                json={"conversation_id": cid, "events": [meta("http://shop/pay?ref=mail"), snapshot(f"{VISA} {IBAN}")]},
                headers={"Authorization": f"Bearer {token}"},
            )  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json() == {"relayed": 2, "redacted": ["card_number", "iban"]}
        got = await agent.next("cobrowse_events")
        warning = await agent.next("cobrowse_warning")
        assert warning["code"] == "redacted" and warning["kinds"] == ["card_number", "iban"]
        text = got["events"][1]["data"]["node"]["childNodes"][0]["childNodes"][0]["textContent"]
        assert text.count("*") == 16 + 22 and "3704" not in text and "1111" not in text
        # An incremental event over the websocket: the card is masked there too.
        await cust.send({"type": "cobrowse_events", "conversation_id": cid, "events": [mutation(f"now {VISA}")]})
        got = await agent.next("cobrowse_events")
        assert got["events"][0]["data"]["texts"][0]["value"] == "now **** **** **** ****"
        # Nothing FORGED, no digits of the card in anything the agent was sent; the other visitor heard nothing.
        assert "FORGED" not in relayed(agent) and "4111" not in json.dumps(agent.frames)
        assert not [f for f in other.frames if f["type"].startswith("cobrowse")]

        # A late (or returning) agent asks again: the customer is asked for a fresh snapshot, no new consent.
        await agent.send({"type": "cobrowse_request", "conversation_id": cid})
        assert (await cust.next("cobrowse_snapshot_needed"))["session_id"] == sid
        # Dave, not the conversation's agent, cannot ask.
        async with staff(live, "dave") as dave:
            await dave.send({"type": "cobrowse_request", "conversation_id": cid})
            assert (await dave.next("error"))["code"] == "conversation_not_found"

        # Over the limits: the session degrades with a clear error, the agent is told, the server goes on.
        async with httpx.AsyncClient(base_url=live.base) as h:
            big = {"conversation_id": cid, "events": [meta("http://shop/big"), snapshot("big", pad=30_000)]}
            r = await h.post("/api/cobrowse/events", json=big, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 413 and r.json()["error"] == "cobrowse_too_big"
        await agent.next("cobrowse_warning", code="too_big")
        await cust.send({"type": "cobrowse_events", "conversation_id": cid, "events": [mutation("x" * 5000)]})
        assert (await cust.next("error"))["code"] == "cobrowse_too_big"
        await agent.next("cobrowse_warning", code="too_big")
        # Degraded: incremental events are dropped until a snapshot fits; then the view is back.
        await cust.send({"type": "cobrowse_events", "conversation_id": cid, "events": [mutation("DROPPED")]})
        await cust.send({"type": "cobrowse_events", "conversation_id": cid,
                         "events": [meta("http://shop/small#top"), snapshot("small")]})  # fmt: skip
        back = await agent.next("cobrowse_events")
        assert back["events"][1]["type"] == 2 and "DROPPED" not in relayed(agent)
        await cust.send({"type": "ping", "t": 1})
        await cust.next("pong")

        await cust.send({"type": "cobrowse_stop", "conversation_id": cid})
        ended = await agent.next("cobrowse_state", state="ended")
        assert ended["by"] == "customer"
        await cust.send({"type": "cobrowse_events", "conversation_id": cid, "events": [mutation("late")]})
        assert (await cust.next("error"))["code"] == "cobrowse_off"

    async with live.app.state.db.session() as s:
        row = await s.get(CobrowseSession, sid)
        touch = (await s.scalars(select(Touch).where(Touch.conversation_id == cid, Touch.kind == "cobrowse"))).one()
    assert row is not None and row.state == "ended" and row.redactions == 3
    # Pages without query or fragment (they may hold personal data), in order; no content is stored.
    assert touch.payload["pages"] == ["http://shop/pay", "http://shop/small"]
    assert touch.payload["duration_s"] >= 0 and touch.payload["ended_by"] == "customer"
    assert "4111" not in json.dumps(touch.payload)

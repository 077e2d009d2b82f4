"""Document push over real websockets: the agent pushes, the customer gets the frame at once and fetches
the document through its signed link with their own token; receipts per page reach the agent; the push
and the first opening are touches. Attacks: another customer's token, forged and expired links, a guessed
id, receipts forged by another visitor, the wrong side pushing."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import select

from contactcenter.auth.service import create_user
from contactcenter.ccr.models import Touch
from contactcenter.documents import links
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.conftest import PASSWORD
from tests.documents import samples


async def add_document(live: Live, username: str, name: str, data: bytes, title: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=live.base) as h:
        r = await h.post("/api/session", json={"username": username, "password": PASSWORD})
        h.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        r = await h.post("/api/documents", files={"file": (name, data)}, data={"title": title})
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out


async def make_supervisor(live: Live, name: str) -> None:
    async with live.app.state.db.session() as s:
        await create_user(s, username=name, display_name=name.title(), role=Role.supervisor, password=PASSWORD)


async def test_push_fetch_receipts_touches_and_attacks(settings: Settings, live: Live) -> None:
    await make_agent(live.app, "cora")
    await make_agent(live.app, "dave")
    pdf = await add_document(live, "cora", "contract.pdf", samples.pdf(3), "Loan contract")
    sheet = await add_document(live, "cora", "rates.csv", b"Term,Rate\n5 years,3.9\n", "Rates")
    secret = settings.secret_key.get_secret_value()
    async with (
        staff(live, "cora") as agent,
        customer(live) as (cust, token),
        customer(live) as (other, other_token),
        pinging(agent, cust, other),
    ):
        await cust.send({"type": "start", "topic": "Loans"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation", timeout=5)
        # The customer cannot push; another agent cannot push into Cora's conversation; no such document.
        await cust.send({"type": "document_push", "conversation_id": cid, "document_id": pdf["id"]})
        assert (await cust.next("error"))["code"] == "forbidden"
        async with staff(live, "dave") as dave:
            await dave.send({"type": "document_push", "conversation_id": cid, "document_id": pdf["id"]})
            assert (await dave.next("error"))["code"] == "conversation_not_found"
        await agent.send({"type": "document_push", "conversation_id": cid, "document_id": "0" * 36})
        assert (await agent.next("error"))["code"] == "document_not_found"

        await agent.send({"type": "document_push", "conversation_id": cid, "document_id": pdf["id"]})
        shown = await cust.next("document")
        pushed = await agent.next("document_receipt", event="pushed")
        push_id = shown["push_id"]
        assert pushed["push"]["id"] == push_id and pushed["title"] == "Loan contract"
        assert shown["content_type"] == "application/pdf" and shown["url"].startswith("/api/documents/pushed/")

        async with httpx.AsyncClient(base_url=live.base) as h:

            async def get(url: str, tok: str | None) -> httpx.Response:
                return await h.get(url, headers={"Authorization": f"Bearer {tok}"} if tok else {})

            r = await get(shown["url"], token)
            assert r.status_code == 200 and r.content == samples.pdf(3)
            assert r.headers["cache-control"] == "private, no-store"
            # Another customer's token with the right link; no token; an altered link; an expired one.
            r = await get(shown["url"], other_token)
            assert r.status_code == 404 and r.json()["error"] == "link_invalid"
            assert (await get(shown["url"], None)).status_code == 401
            tok = shown["url"].rsplit("/", 1)[1]
            pid, expires, mac = tok.split(".")
            forged = f"/api/documents/pushed/{pid}.{int(expires) + 3600}.{mac}"
            assert (await get(forged, token)).json()["error"] == "link_invalid"
            old = links.sign(secret, push_id=pid, expires=int(time.time()) - 1)
            r = await get(f"/api/documents/pushed/{old}", token)
            assert r.status_code == 410 and r.json()["error"] == "link_expired"
            # A guessed push id signed with another secret, and a library id tried by a visitor.
            guess = links.sign("not-the-secret", push_id=pid, expires=int(time.time()) + 60)
            assert (await get(f"/api/documents/pushed/{guess}", token)).status_code == 404
            assert (await get(f"/api/documents/{pdf['id']}/file", token)).status_code == 401
            # Only a sheet is served as a table.
            assert (await get(shown["url"] + "/table", token)).json()["error"] == "not_a_sheet"

            # Receipts: another visitor cannot forge them; the customer's reach the agent at once.
            await other.send({"type": "document_view", "push_id": push_id, "event": "opened", "page_count": 3})
            assert (await other.next("error"))["code"] == "push_not_found"
            await agent.send({"type": "document_view", "push_id": push_id, "event": "opened"})
            assert (await agent.next("error"))["code"] == "forbidden"
            await cust.send({"type": "document_view", "push_id": push_id, "event": "opened", "page_count": 3})
            opened = await agent.next("document_receipt", event="opened")
            assert opened["push"]["opened_at"] is not None and opened["push"]["page_count"] == 3
            for page, seconds in ((1, 2.5), (2, 1.0), (1, 0.5)):
                await cust.send({"type": "document_view", "push_id": push_id, "event": "page", "page": page,
                                 "seconds": seconds})  # fmt: skip
                last = await agent.next("document_receipt", event="page")
            assert last["push"]["page_seconds"] == {"1": 3.0, "2": 1.0}
            await cust.send({"type": "document_view", "push_id": push_id, "event": "page", "page": 4, "seconds": 1})
            assert (await cust.next("error"))["code"] == "invalid_page"
            # The agent turns the pages for both: only the conversation's agent, only to a page that exists.
            await agent.send({"type": "document_turn", "push_id": push_id, "page": 3})
            assert (await cust.next("document_turn"))["page"] == 3
            await agent.send({"type": "document_turn", "push_id": push_id, "page": 4})
            assert (await agent.next("error"))["code"] == "invalid_page"
            await cust.send({"type": "document_turn", "push_id": push_id, "page": 2})
            assert (await cust.next("error"))["code"] == "forbidden"
            async with staff(live, "dave") as dave:
                await dave.send({"type": "document_turn", "push_id": push_id, "page": 2})
                assert (await dave.next("error"))["code"] == "conversation_not_found"
                await dave.send({"type": "document_turn", "push_id": "0" * 36, "page": 2})
                assert (await dave.next("error"))["code"] == "push_not_found"
            await cust.send({"type": "document_view", "push_id": push_id, "event": "closed"})
            closed = await agent.next("document_receipt", event="closed")
            assert closed["push"]["closed_at"] is not None
            # Opened again: no second "opened" touch.
            await cust.send({"type": "document_view", "push_id": push_id, "event": "opened", "page_count": 3})
            await agent.next("document_receipt", event="opened")

            # A sheet is read as a table.
            await agent.send({"type": "document_push", "conversation_id": cid, "document_id": sheet["id"]})
            table_push = await cust.next("document", title="Rates")
            r = await get(table_push["url"] + "/table", token)
            assert r.json() == {"rows": [["Term", "Rate"], ["5 years", "3.9"]], "truncated": False}

            # The customer's shelf (after a page change): both, with the same links; nobody else's.
            r = await get(f"/api/documents/shown/{cid}", token)
            assert [(d["push_id"], d["url"]) for d in r.json()] == [
                (push_id, shown["url"]), (table_push["push_id"], table_push["url"])]  # fmt: skip
            r = await get(f"/api/documents/shown/{cid}", other_token)
            assert r.status_code == 404 and r.json()["error"] == "conversation_not_found"

            # The agent's list of pushes with receipts; Dave sees none of it.
            await h.post("/api/session", json={"username": "cora", "password": PASSWORD})
            listed = (await h.get(f"/api/documents/conversations/{cid}")).json()
            assert [p["id"] for p in listed] == [push_id, table_push["push_id"]]
            assert listed[0]["page_seconds"] == {"1": 3.0, "2": 1.0} and listed[1]["title"] == "Rates"
            csrf = (await h.post("/api/session", json={"username": "dave", "password": PASSWORD})).json()
            assert (await h.get(f"/api/documents/conversations/{cid}")).status_code == 404

            # Removed from the library (by a supervisor): the link sent earlier stops working.
            await make_supervisor(live, "sue")
            csrf = (await h.post("/api/session", json={"username": "sue", "password": PASSWORD})).json()
            r = await h.delete(f"/api/documents/{pdf['id']}", headers={"X-CSRF-Token": csrf["csrf_token"]})
            assert r.status_code == 204
            r = await get(shown["url"], token)
            assert r.status_code == 410 and r.json()["error"] == "document_removed"
            assert [d["title"] for d in (await get(f"/api/documents/shown/{cid}", token)).json()] == ["Rates"]
        # Nothing of this reached the other visitor.
        assert not [f for f in other.frames if f["type"].startswith("document")]

    async with live.app.state.db.session() as s:
        touches = list(
            await s.scalars(select(Touch).where(Touch.conversation_id == cid, Touch.kind == "document_push"))
        )
    kinds = sorted((t.direction, t.summary) for t in touches)
    assert kinds == [("in", "Document opened: Loan contract"), ("out", "Document shown: Loan contract"),
                     ("out", "Document shown: Rates")]  # fmt: skip

"""A bus that cannot publish never turns a stored message into an error for its sender."""

from __future__ import annotations

from collections.abc import Iterable

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from contactcenter.bus import Event
from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import CustomerCreate
from contactcenter.channels.chat import messages
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.schemas import Send, SenderKind, StartIn
from contactcenter.db import Database


class DownBus(MemoryBus):
    """Every way of publishing fails (the message path uses publish_event and publish_many)."""

    async def publish(self, topic: str, data: str) -> None:
        raise ConnectionError("redis is restarting")

    async def publish_event(self, topic: str, event: Event) -> None:
        raise ConnectionError("redis is restarting")

    async def publish_many(self, messages: Iterable[tuple[str, str]]) -> None:
        raise ConnectionError("redis is restarting")


async def test_message_is_stored_and_confirmed_while_the_bus_is_down(db: Database) -> None:
    bus = DownBus()
    async with db.session() as s:
        cid = (await ccr.create_customer(s, data=CustomerCreate(display_name="Ida"), region="GB")).id
        conv = await chat.start_conversation(s, bus, customer_id=cid, data=StartIn(), region="GB")
        msg, dup = await messages.post_message(
            s,
            bus,
            conversation_id=conv.id,
            sender=SenderKind.customer,
            sender_id=cid,
            sender_name="Ida",
            body="still there?",
            client_id="k1",
        )
        assert (msg.seq, dup) == (1, False)
        stored = await messages.messages_after(s, conversation_id=conv.id, after=0, include_private=False)
        assert [m.body for m in stored] == ["still there?"]
        kinds = [t.kind for t in await s.scalars(select(Touch).where(Touch.conversation_id == conv.id))]
        assert sorted(kinds) == ["conversation", "message"]


async def test_name_and_email_typed_in_the_widget_complete_an_anonymous_customer(db: Database) -> None:
    bus = MemoryBus()
    async with db.session() as s:
        known = await ccr.create_customer(
            s,
            data=CustomerCreate(display_name="Known", identities=[{"kind": "email", "value": "k@example.com"}]),
            region="GB",
        )
        a = (await ccr.create_customer(s, data=CustomerCreate(display_name=ccr.VISITOR_NAME), region="GB")).id
        b = (await ccr.create_customer(s, data=CustomerCreate(display_name=ccr.VISITOR_NAME), region="GB")).id
        await chat.start_conversation(
            s, bus, customer_id=a, data=StartIn(name="Ann Lee", email="Ann@Example.com"), region="GB"
        )
        # Someone else's address is kept as b's unverified contact detail, never an identity: nothing of the
        # known customer's is taken over; the chat starts either way.
        conv_b = await chat.start_conversation(s, bus, customer_id=b, data=StartIn(email="K@example.com"), region="GB")
        assert conv_b.status == "queued"
        got_a = await ccr.get_customer(s, customer_id=a)
        got_b = await ccr.get_customer(s, customer_id=b)
        assert got_a.display_name == "Ann Lee"
        assert got_a.identities == [] and got_a.contact_email == "ann@example.com"
        assert got_b.display_name == ccr.VISITOR_NAME and got_b.identities == []
        assert got_b.contact_email == "k@example.com"
        assert [i.value for i in (await ccr.get_customer(s, customer_id=known.id)).identities] == ["k@example.com"]


async def test_nul_in_ids_is_refused_not_a_database_error(client: httpx.AsyncClient) -> None:
    token = (await client.post("/api/visitors")).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    r = await client.get("/api/chat/conversations/a%00b/messages", headers=auth)
    assert r.status_code == 404 and r.json()["error"] == "conversation_not_found"
    r = await client.get("/api/chat/attachments/a%00b", headers=auth)
    assert r.status_code == 404 and r.json()["error"] == "attachment_not_found"
    with pytest.raises(ValidationError):
        Send.model_validate(
            {"type": "send", "conversation_id": "ab-12", "client_id": "x", "body": "hi", "attachments": ["a\x00"]}
        )

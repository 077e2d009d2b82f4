"""Customer and agent chat over real websockets: storage before ack, order, resume, access, bad frames."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from sqlalchemy import select

from contactcenter.auth.service import create_user
from contactcenter.ccr.models import Touch
from contactcenter.channels.chat.models import ChatMessage
from contactcenter.routing.schemas import TransferIn
from contactcenter.routing.service import transfer
from contactcenter.types import Role
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_bad_input import roundtrip
from tests.conftest import PASSWORD


async def make_agent(app: FastAPI, name: str) -> int:
    async with app.state.db.session() as s:
        user = await create_user(s, username=name, display_name=name.title(), role=Role.agent, password=PASSWORD)
        return user.id


async def test_customer_and_agent_chat_in_order_with_storage_before_ack(live: Live) -> None:
    await make_agent(live.app, "alice")
    async with staff(live, "alice") as agent, customer(live) as (cust, _token):
        await cust.send({"type": "start", "name": "Ann <b>", "topic": "Mortgage"})
        conv = (await cust.next("conversation", timeout=5))["conversation"]
        assigned = await agent.next("conversation", timeout=5)
        cid = conv["id"]
        assert assigned["conversation"]["id"] == cid and assigned["conversation"]["status"] == "assigned"
        for i in range(5):
            sent = await cust.say(cid, f"hello {i}")
            assert sent["seq"] == i + 1 and sent["duplicate"] is False
            # Acknowledged means stored: the row and its CCR touch are in the database now.
            async with live.app.state.db.session() as s:
                row = await s.scalar(
                    select(ChatMessage).where(ChatMessage.conversation_id == cid, ChatMessage.seq == i + 1)
                )
                assert row is not None and row.body == f"hello {i}"
        for _ in range(5):
            await agent.next("message")
        assert [m["body"] for m in agent.messages(cid)] == [f"hello {i}" for i in range(5)]
        assert [m["seq"] for m in agent.messages(cid)] == [1, 2, 3, 4, 5]
        reply = await agent.say(cid, "Hi Ann, how can I help?")
        got = await cust.next("message", timeout=5)
        while got["message"]["seq"] != reply["seq"]:
            got = await cust.next("message", timeout=5)
        assert got["message"]["sender"] == "agent" and got["message"]["sender_name"] == "Alice"
        async with live.app.state.db.session() as s:
            kinds = [t.kind for t in await s.scalars(select(Touch).where(Touch.conversation_id == cid))]
        assert kinds.count("message") == 6 and "conversation" in kinds


async def test_resent_message_is_stored_once(live: Live) -> None:
    async with customer(live) as (cust, _):
        await cust.send({"type": "start"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        frame = {"type": "send", "conversation_id": cid, "client_id": "same-id", "body": "once"}
        await cust.send(frame)
        first = await cust.next("sent")
        await cust.send(frame)
        second = await cust.next("sent")
        assert (first["seq"], second["seq"], second["duplicate"]) == (1, 1, True)


async def test_reconnect_resumes_after_last_seq_exactly_once(live: Live) -> None:
    await make_agent(live.app, "bob")
    async with customer(live) as (cust, token):
        await cust.send({"type": "start"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
    async with staff(live, "bob") as agent:
        await agent.next("conversation")
        for i in range(6):
            await agent.say(cid, f"m{i}")
    # The customer was away for all six; it had seen nothing after seq 0... then comes back having seen 2.
    async with customer(live, token=token, resume={cid: 2}) as (back, _):
        for _ in range(4):
            await back.next("message")
        assert [m["seq"] for m in back.messages(cid)] == [3, 4, 5, 6]
        await asyncio.sleep(0.3)
        await back.send({"type": "ping"})
        await back.next("pong")
        assert [m["seq"] for m in back.messages(cid)] == [3, 4, 5, 6]


async def test_private_notes_never_reach_the_customer(live: Live) -> None:
    await make_agent(live.app, "carl")
    async with staff(live, "carl") as agent, customer(live) as (cust, _):
        await cust.send({"type": "start"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation")
        await agent.say(cid, "customer seems upset", private=True)
        await agent.say(cid, "Happy to help!")
        got = await cust.next("message")
        assert got["message"]["body"] == "Happy to help!" and got["message"]["seq"] == 2
        await cust.send({"type": "send", "conversation_id": cid, "client_id": "x1", "body": "hi", "private": True})
        err = await cust.next("error")
        assert err["code"] == "forbidden"


async def test_agent_name_is_shown_and_a_chat_closed_while_away_is_reported_on_resume(live: Live) -> None:
    await make_agent(live.app, "dora")
    async with staff(live, "dora") as agent, customer(live) as (cust, token):
        await cust.send({"type": "start"})
        frame = await cust.next("conversation")
        while frame["conversation"]["status"] != "assigned":
            frame = await cust.next("conversation")
        assert frame["conversation"]["agent_name"] == "Dora"
        cid = frame["conversation"]["id"]
        await agent.next("conversation")
        await agent.say(cid, "bye")
    async with staff(live, "dora") as agent:
        await agent.send({"type": "close", "conversation_id": cid})
        while (await agent.next("conversation"))["conversation"]["status"] != "closed":
            pass
    async with customer(live, token=token, resume={cid: 0}) as (back, _):
        closed = await back.next("conversation")
        assert closed["conversation"]["status"] == "closed"
        assert (await back.next("message"))["message"]["body"] == "bye"


async def test_typing_reaches_whoever_answers_now_and_ends_with_the_chat(live: Live) -> None:
    alice_id, bob_id = await make_agent(live.app, "alice"), await make_agent(live.app, "bob")
    async with staff(live, "alice") as alice, customer(live) as (cust, _):
        await cust.send({"type": "start", "name": "Ann"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await alice.next("conversation", timeout=5)  # the only agent online: hers

        def typing(state: bool = True) -> dict[str, object]:
            return {"type": "typing", "conversation_id": cid, "state": state}

        await cust.send(typing())
        got = await alice.next("typing")
        assert (got["sender"], got["name"], got["state"]) == ("customer", "Ann", True)
        await alice.send(typing())
        assert (await cust.next("typing"))["name"] == "Alice"
        async with staff(live, "bob") as bob:
            await roundtrip(bob)  # answered once routing has him online
            async with live.app.state.db.session() as s:
                data = TransferIn(agent_id=bob_id, note="mortgages")
                await transfer(s, live.app.state.bus, contact_id=cid, data=data, by=alice_id, own_only=True)
            await bob.next("conversation", timeout=5)
            await alice.next("conversation", timeout=5)  # hers no more
            while (await cust.next("conversation", timeout=5))["conversation"]["agent_id"] != bob_id:
                pass  # the customer's socket is told of the transfer (and then addresses typing to Bob)
            # The customer's typing follows the chat to Bob; Alice's socket knows it is not hers any more.
            await cust.send(typing(False))
            assert (await bob.next("typing"))["state"] is False
            await alice.send(typing())
            assert (await alice.next("error"))["code"] == "conversation_not_found"
            await roundtrip(alice)
            assert len([f for f in alice.frames if f["type"] == "typing"]) == 1
            # Closed: typing is no longer relayed (nor refused: a widget may still send its "stopped").
            await cust.send({"type": "close", "conversation_id": cid})
            await bob.next("conversation", timeout=5)
            await cust.send(typing())
            await roundtrip(cust)
            await roundtrip(bob)
            assert len([f for f in bob.frames if f["type"] == "typing"]) == 1
            assert not [f for f in cust.frames if f["type"] == "error"]

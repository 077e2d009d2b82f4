"""A supervisor follows a live chat (the `monitor` frame): the log so far, then every message live, the agent
told who is watching; an agent cannot monitor another agent's chat; stopping ends the live messages."""

from __future__ import annotations

from contactcenter.auth.service import create_user
from contactcenter.types import Role
from tests.chat.conftest import PASSWORD, Live, customer, live, staff
from tests.chat.test_chat_flow import make_agent

__all__ = ["live"]


async def _supervisor(live: Live, name: str) -> None:
    async with live.app.state.db.session() as s:
        await create_user(s, username=name, display_name="Dana Sup", role=Role.supervisor, password=PASSWORD)


async def test_a_supervisor_follows_a_live_chat_and_the_agent_is_told(live: Live) -> None:
    await make_agent(live.app, "alice")
    await make_agent(live.app, "bruno")
    await _supervisor(live, "dana")
    async with staff(live, "alice") as agent, customer(live) as (cust, _token):
        await cust.send({"type": "start", "name": "Ann", "topic": "Mortgage"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        assert (await agent.next("conversation"))["conversation"]["status"] == "assigned"
        before = [await cust.say(cid, f"before {i}") for i in range(3)]
        async with staff(live, "dana") as sup, staff(live, "bruno") as other:
            # Another agent may not follow alice's chat.
            await other.send({"type": "monitor", "conversation_id": cid})
            refused = await other.next("error")
            assert (refused["code"], refused["ref"]) == ("forbidden", cid)

            await sup.send({"type": "monitor", "conversation_id": cid})
            told = await agent.next("monitored")
            assert (told["conversation_id"], told["supervisor_name"], told["on"]) == (cid, "Dana Sup", True)
            for i in range(3):  # the log so far
                m = await sup.next("message")
                assert m["message"]["seq"] == before[i]["seq"]
            await cust.say(cid, "while watched")
            live_msg = await sup.next("message")
            assert live_msg["message"]["body"] == "while watched"

            await sup.send({"type": "monitor", "conversation_id": cid, "on": False})
            assert (await agent.next("monitored"))["on"] is False
            last = await cust.say(cid, "after")
            await agent.next("message", timeout=5)
            # A frame sent after the customer's last message comes back only after everything queued
            # before it: if "after" had been delivered to dana, it would be in her frames by the pong.
            await sup.send({"type": "ping", "t": 1})
            await sup.next("pong")
            assert all(f["message"]["seq"] != last["seq"] for f in sup.frames if f["type"] == "message"), (
                "a stopped monitor still gets messages"
            )
            assert other.frames[-1]["type"] == "error"  # bruno heard nothing of alice's chat


async def test_monitor_of_a_conversation_that_does_not_exist_is_refused(live: Live) -> None:
    await _supervisor(live, "dana")
    async with staff(live, "dana") as sup:
        await sup.send({"type": "monitor", "conversation_id": "00000000-0000-0000-0000-000000000000"})
        assert (await sup.next("error"))["code"] == "conversation_not_found"


async def _fence(sock: object) -> None:
    """Everything queued for this socket before now has arrived once its pong has."""
    await sock.send({"type": "ping", "t": 1})  # type: ignore[attr-defined]
    await sock.next("pong")  # type: ignore[attr-defined]


def _bodies(sock: object, cid: str) -> list[str]:
    return [m["body"] for m in sock.messages(cid)]  # type: ignore[attr-defined]


async def test_a_supervisor_never_writes_into_a_chat_unannounced(live: Live) -> None:
    await make_agent(live.app, "alice")
    await _supervisor(live, "dana")
    async with staff(live, "alice") as agent, customer(live) as (cust, _token):
        await cust.send({"type": "start", "name": "Ann", "topic": "Mortgage"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation", timeout=5)
        async with staff(live, "dana") as sup:
            # Not following it: no message, no note.
            for private in (False, True):
                await sup.send(
                    {
                        "type": "send",
                        "conversation_id": cid,
                        "client_id": f"s{private}",
                        "body": "psst",
                        "private": private,
                    }
                )
                err = await sup.next("error")
                assert (err["code"], err["ref"]) == ("not_joined", f"s{private}")
            # Listening only: still nothing.
            await sup.send({"type": "monitor", "conversation_id": cid})
            assert (await agent.next("monitored"))["mode"] == "listen"
            await sup.send({"type": "send", "conversation_id": cid, "client_id": "s3", "body": "psst"})
            assert (await sup.next("error", ref="s3"))["code"] == "not_joined"
        await _fence(cust)
        await _fence(agent)
        assert "psst" not in _bodies(cust, cid) and "psst" not in _bodies(agent, cid)


async def test_whisper_reaches_the_agent_only(live: Live) -> None:
    await make_agent(live.app, "alice")
    await _supervisor(live, "dana")
    async with staff(live, "alice") as agent, customer(live) as (cust, _token):
        await cust.send({"type": "start", "name": "Ann", "topic": "Mortgage"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation", timeout=5)
        async with staff(live, "dana") as sup:
            await sup.send({"type": "monitor", "conversation_id": cid, "mode": "whisper"})
            told = await agent.next("monitored")
            assert (told["on"], told["mode"]) == (True, "whisper")
            await sup.say(cid, "offer the fixed rate", private=True)
            note = (await agent.next("message"))["message"]
            assert (note["body"], note["private"], note["sender_name"]) == ("offer the fixed rate", True, "Dana Sup")
            # Whispering is not joining: nothing to the customer.
            await sup.send({"type": "send", "conversation_id": cid, "client_id": "s9", "body": "hello Ann"})
            assert (await sup.next("error", ref="s9"))["code"] == "not_joined"
        await _fence(cust)
        assert _bodies(cust, cid) == []


async def test_barge_tells_the_customer_before_the_supervisor_speaks_and_when_they_leave(live: Live) -> None:
    await make_agent(live.app, "alice")
    await _supervisor(live, "dana")
    async with staff(live, "alice") as agent, customer(live) as (cust, _token):
        await cust.send({"type": "start", "name": "Ann", "topic": "Mortgage"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation", timeout=5)
        async with staff(live, "dana") as sup:
            await sup.send({"type": "monitor", "conversation_id": cid, "mode": "barge"})
            joined = (await cust.next("message"))["message"]
            assert (joined["sender"], joined["body"]) == ("system", "Dana Sup (supervisor) joined the conversation")
            assert (await agent.next("monitored"))["mode"] == "barge"
            await sup.say(cid, "Hello Ann, I'm Dana")
            said = (await cust.next("message"))["message"]
            assert (said["sender"], said["sender_name"], said["body"]) == ("agent", "Dana Sup", "Hello Ann, I'm Dana")
            # A resend of the same mode (a reconnecting wallboard) announces nothing twice.
            await sup.send({"type": "monitor", "conversation_id": cid, "mode": "barge"})
            await _fence(sup)
        # The supervisor's socket closed: the customer is told they left, the agent that nobody follows now.
        left = (await cust.next("message"))["message"]
        assert (left["sender"], left["body"]) == ("system", "Dana Sup (supervisor) left the conversation")
        assert (await agent.next("monitored"))["on"] is False
        await _fence(cust)
        assert [b for b in _bodies(cust, cid) if "joined" in b] == ["Dana Sup (supervisor) joined the conversation"]

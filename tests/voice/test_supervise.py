"""A supervisor on a live call with real aiortc peers through the server: listening hears both sides and
adds nothing to either; whispering reaches the agent only; barging reaches the customer too, whose call
state names who joined; the agent is told of each change; an agent may not do any of it."""

from __future__ import annotations

from contactcenter.auth.service import create_user
from contactcenter.types import Role
from tests.chat.conftest import PASSWORD, Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.voice.peers import near, silent
from tests.voice.test_call import AGENT_HZ, CUSTOMER_HZ, OTHER_AGENT_HZ, answer, peers, place_call

SUP_HZ = OTHER_AGENT_HZ


async def test_listen_whisper_barge_and_leave(live: Live) -> None:
    await make_agent(live.app, "lee")
    async with live.app.state.db.session() as s:
        await create_user(s, username="dana", display_name="Dana Sup", role=Role.supervisor, password=PASSWORD)
    async with (
        staff(live, "lee") as agent,
        customer(live) as (cust, _t),
        staff(live, "dana") as sup,
        pinging(agent, cust, sup),
        peers(CUSTOMER_HZ, AGENT_HZ, SUP_HZ) as (cp, ap, sp),
    ):
        cid = await place_call(cust, cp)
        await answer(agent, ap, cid)
        await cp.hears(near(AGENT_HZ))

        # An agent cannot listen in.
        await agent.send({"type": "voice_monitor", "conversation_id": cid, "sdp": await sp.offer()})
        assert (await agent.next("error", ref=cid))["code"] == "forbidden"

        await sup.send({"type": "voice_monitor", "conversation_id": cid, "sdp": await sp.offer()})
        await sp.answered((await sup.next("voice_sdp", leg="supervisor", timeout=10))["sdp"])
        told = await agent.next("monitored")
        assert (told["on"], told["mode"]) == (True, "listen")
        await sp.hears(lambda h: not silent(h))  # both sides, mixed
        await agent.send({"type": "voice_mute", "conversation_id": cid, "on": True})
        await sp.hears(near(CUSTOMER_HZ))  # the agent muted: the customer alone
        await agent.send({"type": "voice_mute", "conversation_id": cid, "on": False})
        await cp.hears(near(AGENT_HZ))  # listening adds nothing to what the customer hears
        await ap.hears(near(CUSTOMER_HZ))

        # Whisper: the agent hears the supervisor (with the customer muted, only them); the customer does not.
        await sup.send({"type": "voice_monitor", "conversation_id": cid, "mode": "whisper"})
        assert (await agent.next("monitored"))["mode"] == "whisper"
        await cust.send({"type": "voice_mute", "conversation_id": cid, "on": True})
        await ap.hears(near(SUP_HZ))
        await cp.hears(near(AGENT_HZ))
        await cust.send({"type": "voice_mute", "conversation_id": cid, "on": False})

        # Barge: the customer is told who joined and hears them (with the agent muted, only them).
        await sup.send({"type": "voice_monitor", "conversation_id": cid, "mode": "barge"})
        state = await cust.next("voice_state", joined_by="Dana Sup")
        assert state["state"] == "connected"
        assert (await agent.next("monitored"))["mode"] == "barge"
        await agent.send({"type": "voice_mute", "conversation_id": cid, "on": True})
        await cp.hears(near(SUP_HZ))

        # Leaving: the agent is told; the customer hears nobody but the (muted) agent, and the call goes on.
        await sup.send({"type": "voice_monitor", "conversation_id": cid, "on": False})
        assert (await agent.next("monitored"))["on"] is False
        await cp.hears(silent)
        await agent.send({"type": "voice_mute", "conversation_id": cid, "on": False})
        await cp.hears(near(AGENT_HZ))
        await cust.send({"type": "voice_hangup", "conversation_id": cid})
        await agent.next("voice_state", state="ended", conversation_id=cid)


async def test_a_supervisor_changing_mode_without_a_leg_is_told_to_offer_first(live: Live) -> None:
    await make_agent(live.app, "mo")
    async with live.app.state.db.session() as s:
        await create_user(s, username="dana", display_name="Dana Sup", role=Role.supervisor, password=PASSWORD)
    async with (
        staff(live, "mo") as agent,
        customer(live) as (cust, _t),
        staff(live, "dana") as sup,
        pinging(agent, cust, sup),
        peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap),
    ):
        cid = await place_call(cust, cp)
        await answer(agent, ap, cid)
        await sup.send({"type": "voice_monitor", "conversation_id": cid, "mode": "barge"})
        assert (await sup.next("error", ref=cid))["code"] == "no_leg"
        await sup.send({"type": "voice_monitor", "conversation_id": cid, "sdp": "v=0 not an offer at all"})
        assert (await sup.next("error", ref=cid))["code"] == "bad_sdp"
        await cust.send({"type": "voice_hangup", "conversation_id": cid})
        await agent.next("voice_state", state="ended", conversation_id=cid)

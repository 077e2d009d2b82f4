"""Voice's refusals over real websockets: a forged token cannot connect, another customer cannot hang up,
mute or answer a call, an agent who is not assigned cannot answer it (nor a supervisor), bad or video SDP
gets an error frame and stores nothing; and a peer that vanishes ends the call cleanly."""

from __future__ import annotations

import json

import aioice.ice
import pytest
import websockets
from sqlalchemy import func, select

from contactcenter.auth.service import create_user
from contactcenter.ccr.models import Touch
from contactcenter.channels.voice import service
from contactcenter.conversations.models import Conversation
from contactcenter.csat.models import CsatRating
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import Client, Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.conftest import PASSWORD
from tests.voice.peers import near
from tests.voice.test_call import AGENT_HZ, CUSTOMER_HZ, answer, closed, peers, place_call


async def _conversations(live: Live) -> int:
    async with live.app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Conversation)) or 0)


async def test_forged_token_cannot_connect(live: Live) -> None:
    async with websockets.connect(live.ws_url) as ws:
        await ws.send(json.dumps({"type": "hello", "v": 1, "token": "forged.token.value"}))
        f = json.loads(await ws.recv())
        assert f["type"] == "error" and f["code"] == "not_authenticated"


async def test_others_cannot_answer_hang_up_or_mute_a_call(live: Live) -> None:
    await make_agent(live.app, "ana")
    await make_agent(live.app, "bob")
    async with live.app.state.db.session() as s:
        await create_user(s, username="sue", display_name="Sue", role=Role.supervisor, password=PASSWORD)
    async with (
        staff(live, "ana") as agent,
        customer(live) as (cust, _t),
        customer(live) as (other, _t2),
        pinging(agent, cust, other),
        peers(CUSTOMER_HZ, AGENT_HZ, 300.0) as (cp, ap, intruder),
    ):
        cid = await place_call(cust, cp)
        await agent.next("conversation", timeout=10)
        offer = await intruder.offer()
        # Another visitor: the conversation does not exist for them.
        for frame in (
            {"type": "voice_hangup", "conversation_id": cid},
            {"type": "voice_mute", "conversation_id": cid, "on": True},
        ):
            await other.send(frame)
            assert (await other.next("error"))["code"] == "conversation_not_found"
        await other.send({"type": "voice_answer", "conversation_id": cid, "sdp": offer})
        assert (await other.next("error"))["code"] == "forbidden"
        # The customer cannot answer their own call as the agent, nor hold it.
        await cust.send({"type": "voice_answer", "conversation_id": cid, "sdp": offer})
        assert (await cust.next("error"))["code"] == "forbidden"
        await cust.send({"type": "voice_hold", "conversation_id": cid, "on": True})
        assert (await cust.next("error"))["code"] == "forbidden"
        async with staff(live, "bob") as bob, staff(live, "sue") as sue:
            await bob.send({"type": "voice_answer", "conversation_id": cid, "sdp": offer})
            assert (await bob.next("error"))["code"] == "conversation_not_found"
            await bob.send({"type": "voice_hangup", "conversation_id": cid})
            assert (await bob.next("error"))["code"] == "conversation_not_found"
            await sue.send({"type": "voice_answer", "conversation_id": cid, "sdp": offer})
            assert (await sue.next("error"))["code"] == "forbidden"
        # The call is untouched: the assigned agent answers and both hear each other.
        await agent.send({"type": "voice_answer", "conversation_id": cid, "sdp": await ap.offer()})
        await ap.answered((await agent.next("voice_sdp"))["sdp"])
        await cp.hears(near(AGENT_HZ))
        await ap.hears(near(CUSTOMER_HZ))
        assert intruder.frames == 0
        await cust.send({"type": "voice_hangup", "conversation_id": cid})
        await agent.next("voice_state", state="ended")


async def test_bad_sdp_gets_an_error_frame_and_stores_nothing(live: Live) -> None:
    await make_agent(live.app, "cai")
    async with (
        staff(live, "cai") as agent,
        customer(live) as (cust, _t),
        pinging(agent, cust),
        peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap),
    ):
        before = await _conversations(live)
        video = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nm=video 9 x\r\n"
        for sdp in ("v=0\r\nnot an sdp at all\r\nm=audio", video, "m=audio 9 RTP/AVP 0\r\n" * 3):
            await cust.send({"type": "voice_call", "sdp": sdp})
            assert (await cust.next("error"))["code"] == "bad_sdp"
        await cust.send({"type": "voice_call", "sdp": "x"})  # under the minimum: refused by the schema
        assert (await cust.next("error"))["code"] == "invalid_frame"
        assert await _conversations(live) == before and not service.calls
        # A good call, then the agent's malformed offer: an error, and the call waits for a good one.
        cid = await place_call(cust, cp)
        await agent.next("conversation", timeout=10)
        await agent.send({"type": "voice_answer", "conversation_id": cid, "sdp": "m=audio garbage garbage"})
        assert (await agent.next("error"))["code"] == "bad_sdp"
        await agent.send({"type": "voice_answer", "conversation_id": cid, "sdp": await ap.offer()})
        await ap.answered((await agent.next("voice_sdp"))["sdp"])
        await cp.hears(near(AGENT_HZ))
        # A second call while this one is open: refused, nothing stored.
        async with peers(CUSTOMER_HZ) as (again,):
            await cust.send({"type": "voice_call", "sdp": await again.offer()})
            assert (await cust.next("error"))["code"] == "call_in_progress"
        await agent.send({"type": "voice_hangup", "conversation_id": cid})
        await cust.next("voice_state", state="ended")


async def next_call_is_theirs(live: Live, agent: Client) -> None:
    """The agent was freed: the next call is routed to them, and connects."""
    async with customer(live) as (second, _t2), peers(CUSTOMER_HZ, AGENT_HZ) as (cp2, ap2):
        cid2 = await place_call(second, cp2)
        await answer(agent, ap2, cid2)
        await ap2.hears(near(CUSTOMER_HZ))
        await second.send({"type": "voice_hangup", "conversation_id": cid2})
        await agent.next("voice_state", state="ended", conversation_id=cid2)


@pytest.mark.parametrize(("how", "reason"), [("closes", "hangup"), ("goes_silent", "lost")])
async def test_a_peer_that_vanishes_ends_the_call_and_frees_the_agent(
    live: Live, monkeypatch: pytest.MonkeyPatch, how: str, reason: str
) -> None:
    """The customer's page closes (its peer connection closes cleanly: a hang-up, whether or not a
    voice_hangup frame came first), or its network goes away without a word (a phone leaving Wi-Fi: no DTLS
    close, only no answers to the server's ICE consent checks: a lost line). Consent is checked every 5 s
    and expires after 6 misses; here every ~0.2 s, after 2."""
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.2)
    monkeypatch.setattr(aioice.ice, "CONSENT_FAILURES", 2)
    await make_agent(live.app, "dee")
    async with (
        staff(live, "dee") as agent,
        customer(live) as (cust, _t),
        pinging(agent, cust),
        peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap),
    ):
        cid = await place_call(cust, cp)
        await answer(agent, ap, cid)
        await ap.hears(near(CUSTOMER_HZ))
        if how == "closes":
            await cp.pc.close()
        else:
            (t,) = cp.pc.getTransceivers()
            ice = t.sender.transport.transport._connection  # the customer's aioice connection
            for protocol in ice._protocols:
                protocol.transport.close()  # its sockets gone: nothing more is sent or answered
        ended = await agent.next("voice_state", state="ended", timeout=40)
        assert ended["reason"] == reason and ended["ended_by"] == "customer"
        assert (await cust.next("voice_state", state="ended"))["reason"] == reason
        await closed(agent, cid)
        assert cid not in service.calls
        async with live.app.state.db.session() as s:
            touch = await s.scalar(
                select(Touch).where(Touch.conversation_id == cid, Touch.kind == "call").order_by(Touch.id.desc())
            )
        assert touch is not None and touch.payload["reason"] == reason
        await next_call_is_theirs(live, agent)


@pytest.fixture
def quick_connect(voice_settings: Settings) -> Settings:
    voice_settings.voice_connect_timeout_s = 1.0
    return voice_settings


async def test_a_customer_who_never_connects_ends_the_call_cleanly(quick_connect: Settings, live: Live) -> None:
    await make_agent(live.app, "eve")
    async with (
        staff(live, "eve") as agent,
        customer(live) as (cust, _t),
        pinging(agent, cust),
        peers(CUSTOMER_HZ) as (cp,),
    ):
        # The offer is good, but the customer never takes the server's answer (the page went away).
        await cust.send({"type": "voice_call", "sdp": await cp.offer()})
        cid = (await cust.next("voice_sdp"))["conversation_id"]
        ended = await cust.next("voice_state", state="ended", timeout=20)
        assert ended["reason"] == "no_media" and ended["ended_by"] == "customer"
        await closed(cust, cid)
    assert cid not in service.calls
    async with live.app.state.db.session() as s:
        touch = await s.scalar(
            select(Touch).where(Touch.conversation_id == cid, Touch.kind == "call").order_by(Touch.id.desc())
        )
    assert touch is not None and touch.payload["reason"] == "no_media"


async def asked(live: Live, cid: str) -> bool:
    async with live.app.state.db.session() as s:
        return await s.scalar(select(func.count()).where(CsatRating.conversation_id == cid)) == 1


async def test_a_call_that_broke_is_not_rated_and_a_call_hung_up_is(quick_connect: Settings, live: Live) -> None:
    """CSAT rates the agent: a call the line dropped rates the line. The broken call's close is heard by the
    CSAT listener before the next call's (one listener, in order): once the second is asked, the first would
    have been too."""
    await make_agent(live.app, "eve")
    async with staff(live, "eve") as agent, customer(live) as (cust, _t), pinging(agent, cust):
        async with peers(CUSTOMER_HZ) as (cp,):
            await cust.send({"type": "voice_call", "sdp": await cp.offer()})  # its answer is never taken
            broken = (await cust.next("voice_sdp"))["conversation_id"]
            assert (await cust.next("voice_state", state="ended", timeout=20))["reason"] == "no_media"
            await closed(agent, broken)
        async with peers(CUSTOMER_HZ, AGENT_HZ) as (cp2, ap2):
            cid = await place_call(cust, cp2)
            await answer(agent, ap2, cid)
            await ap2.hears(near(CUSTOMER_HZ))
            await cust.send({"type": "voice_hangup", "conversation_id": cid})
            await closed(agent, cid)
        await cust.next("csat_ask", conversation_id=cid, timeout=10)
        assert not [f for f in cust.frames if f["type"] == "csat_ask" and f["conversation_id"] == broken]
    assert await asked(live, cid) and not await asked(live, broken)
    async with live.app.state.db.session() as s:
        conv = await s.get(Conversation, broken)
    assert conv is not None and conv.agent_id is not None  # it was the agent's: only its end kept it unasked

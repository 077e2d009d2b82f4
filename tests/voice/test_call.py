"""Voice calls through the server with real aiortc peers on loopback: the customer's tone reaches the agent
and the agent's the customer, hold (music heard, agent silent), mute, hang-up from either side, the CCR
touches and the stereo recording (customer left, agent right, silence while held, its length the talk time)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from contactcenter.ccr.models import Touch
from contactcenter.channels.voice import recording, service
from contactcenter.channels.voice.media import RATE, SAMPLES
from contactcenter.conversations import service as conversations
from contactcenter.settings import Settings
from tests.chat.conftest import Client, Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.conftest import PASSWORD
from tests.voice.peers import Peer, analyse, near, silent

CUSTOMER_HZ, AGENT_HZ, OTHER_AGENT_HZ = 440.0, 880.0, 660.0


@contextlib.asynccontextmanager
async def peers(*freqs: float) -> AsyncIterator[list[Peer]]:
    made = [Peer(f) for f in freqs]
    try:
        yield made
    finally:
        for p in made:
            await p.close()


async def place_call(cust: Client, peer: Peer, **extra: Any) -> str:
    await cust.send({"type": "voice_call", "sdp": await peer.offer(), **extra})
    sdp = await cust.next("voice_sdp", timeout=10)
    await peer.answered(sdp["sdp"])
    return str(sdp["conversation_id"])


async def answer(agent: Client, peer: Peer, cid: str) -> None:
    await agent.next("conversation", timeout=10)
    await agent.send({"type": "voice_answer", "conversation_id": cid, "sdp": await peer.offer()})
    await peer.answered((await agent.next("voice_sdp", timeout=10, conversation_id=cid))["sdp"])


def chunks(samples: Any) -> list[tuple[float, float]]:
    return [analyse(samples[i : i + SAMPLES].tobytes()) for i in range(0, len(samples) - SAMPLES + 1, SAMPLES)]


async def test_call_both_ways_hold_mute_hangup_touch_and_recording(live: Live, voice_settings: Settings) -> None:
    await make_agent(live.app, "vera")
    await make_agent(live.app, "otto")
    async with (
        staff(live, "vera") as agent,
        customer(live) as (cust, token),
        pinging(agent, cust),
        peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap),
    ):
        cid = await place_call(cust, cp, topic="Card lost")
        assert (await cust.next("voice_state", state="waiting"))["conversation_id"] == cid
        await cp.hears(near(659.25, 0.25), frames=3)  # the waiting music, before any agent answers
        await answer(agent, ap, cid)
        state = await cust.next("voice_state", state="connected")
        assert state["agent_name"] == "Vera" and state["recording"] is True
        await ap.hears(near(CUSTOMER_HZ))
        await cp.hears(near(AGENT_HZ))

        await agent.send({"type": "voice_hold", "conversation_id": cid, "on": True})
        await cust.next("voice_state", state="held")
        await cp.hears(lambda h: not silent(h) and not near(AGENT_HZ)(h))  # music, not the agent
        await ap.hears(silent)
        await agent.send({"type": "voice_hold", "conversation_id": cid, "on": False})
        await cust.next("voice_state", state="connected")
        await cp.hears(near(AGENT_HZ))

        await agent.send({"type": "voice_mute", "conversation_id": cid, "on": True})
        assert (await cust.next("voice_state", agent_muted=True))["state"] == "connected"
        await cp.hears(silent)
        await ap.hears(near(CUSTOMER_HZ))  # the customer is still heard
        await agent.send({"type": "voice_mute", "conversation_id": cid, "on": False})
        await cp.hears(near(AGENT_HZ))

        await cust.send({"type": "voice_hangup", "conversation_id": cid})
        ended = await agent.next("voice_state", state="ended")
        assert ended["ended_by"] == "customer" and ended["reason"] == "hangup"
        await closed(agent, cid)

    assert cid not in service.calls
    async with live.app.state.db.session() as s:
        conv = await conversations.get(s, conversation_id=cid)
        assert conv.status == "closed" and conv.channel == "voice"
        touches = list(await s.scalars(select(Touch).where(Touch.conversation_id == cid).order_by(Touch.id)))
    call = [t for t in touches if t.kind == "call" and "duration_s" in t.payload]
    assert len(call) == 1, [t.summary for t in touches]
    payload = call[0].payload
    assert payload["ended_by"] == "customer" and payload["recording_ok"] is True
    assert 0 < payload["talk_s"] <= payload["duration_s"]
    assert any(t.kind == "conversation" and "Call closed by customer" in t.summary for t in touches)

    left, right = recording.channels(service.recording_path(voice_settings, cid))
    # Each channel lasts the talk time exactly (the bridge writes both every tick).
    assert len(left) == len(right) == round(payload["talk_s"] * RATE)
    lc, rc = chunks(left), chunks(right)
    # The customer's tone only on the left, the agent's only on the right; no other sound in the file.
    assert sum(near(CUSTOMER_HZ)(h) for h in lc) >= 25 and not any(near(AGENT_HZ)(h) for h in lc)
    assert sum(near(AGENT_HZ)(h) for h in rc) >= 25 and not any(near(CUSTOMER_HZ)(h) for h in rc)
    # While held both channels were silent at the same ticks (no music, nothing the customer said).
    both_silent = [i for i, (a, b) in enumerate(zip(lc, rc, strict=True)) if silent(a) and silent(b)]
    assert len(both_silent) >= 15
    await recording_served_to_its_agent_only(live, cid, token, path_bytes=len(left) * 4)


async def recording_served_to_its_agent_only(live: Live, cid: str, visitor_token: str, path_bytes: int) -> None:
    url = f"/api/voice/{cid}/recording"
    async with httpx.AsyncClient(base_url=live.base) as h:
        r = await h.get(url, headers={"Authorization": f"Bearer {visitor_token}"})
        assert r.status_code == 401  # the customer never gets it
        for name, status in (("otto", 404), ("vera", 200)):
            assert (await h.post("/api/session", json={"username": name, "password": PASSWORD})).status_code == 200
            r = await h.get(url)
            assert r.status_code == status, r.text
            h.cookies.clear()
    assert r.headers["content-type"] == "audio/wav" and len(r.content) == 44 + path_bytes


async def closed(c: Client, cid: str) -> None:
    """Wait for the frame saying the conversation closed."""
    while True:
        f = await c.next("conversation", timeout=10)
        if f["conversation"]["id"] == cid and f["conversation"]["status"] == "closed":
            return


@pytest.mark.parametrize("who", ["agent"])
async def test_agent_hangs_up_and_the_agent_is_free_again(live: Live, who: str) -> None:
    await make_agent(live.app, "walt")
    async with (
        staff(live, "walt") as agent,
        customer(live) as (cust, _token),
        customer(live) as (second, _t2),
        pinging(agent, cust, second),
        peers(CUSTOMER_HZ, AGENT_HZ, CUSTOMER_HZ, AGENT_HZ) as (cp, ap, cp2, ap2),
    ):
        cid = await place_call(cust, cp)
        await answer(agent, ap, cid)
        await cp.hears(near(AGENT_HZ))
        await agent.send({"type": "voice_hangup", "conversation_id": cid})
        ended = await cust.next("voice_state", state="ended")
        assert ended["ended_by"] == "agent"
        # The agent takes the next call: they were freed by the hang-up.
        cid2 = await place_call(second, cp2)
        await answer(agent, ap2, cid2)
        await cp2.hears(near(AGENT_HZ))
        await ap2.hears(near(CUSTOMER_HZ))
        await second.send({"type": "voice_hangup", "conversation_id": cid2})
        await agent.next("voice_state", state="ended", conversation_id=cid2)

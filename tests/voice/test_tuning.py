"""The server's legs send voice, not music: mono Opus at 32 kbit/s (aiortc's own encoder sends stereo at
96 kbit/s), and its receivers hold back one frame instead of four. Both are set on aiortc's private
attributes: if an aiortc upgrade renames them, these tests fail (the calls would still work, slower)."""

from __future__ import annotations

from aiortc import RTCOutboundRtpStreamStats

from contactcenter.channels.voice import service
from contactcenter.channels.voice.media import RECEIVE_PREFETCH, VoiceEncoder
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.voice.peers import near
from tests.voice.test_call import AGENT_HZ, CUSTOMER_HZ, answer, peers, place_call


async def test_each_leg_sends_mono_voice_and_buffers_one_frame(live: Live) -> None:
    await make_agent(live.app, "tina")
    async with (
        staff(live, "tina") as agent,
        customer(live) as (cust, _t),
        pinging(agent, cust),
        peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap),
    ):
        cid = await place_call(cust, cp)
        await answer(agent, ap, cid)
        await cp.hears(near(AGENT_HZ), frames=25)  # half a second of the agent, through the server
        await ap.hears(near(CUSTOMER_HZ), frames=25)
        call = service.calls[cid]
        for leg in (call.customer, call.agent):
            assert leg is not None
            (t,) = leg.pc.getTransceivers()
            assert isinstance(t.sender._RTCRtpSender__encoder, VoiceEncoder)  # type: ignore[attr-defined]
            assert t.sender._RTCRtpSender__encoder.codec.layout.name == "mono"  # type: ignore[attr-defined]
            assert t.receiver._RTCRtpReceiver__jitter_buffer._prefetch == RECEIVE_PREFETCH  # type: ignore[attr-defined]
            out = [s for s in (await leg.pc.getStats()).values() if isinstance(s, RTCOutboundRtpStreamStats)]
            assert out and out[0].packetsSent >= 25
            # 32 kbit/s is 80 bytes of Opus per 20 ms packet (aiortc's stereo 96 kbit/s: 240).
            assert out[0].bytesSent / out[0].packetsSent < 130
        await cust.send({"type": "voice_hangup", "conversation_id": cid})
        await agent.next("voice_state", state="ended", conversation_id=cid, timeout=10)

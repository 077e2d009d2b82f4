"""The server's legs send voice, not music: mono Opus at 32 kbit/s (aiortc's own encoder sends stereo at
96 kbit/s), and its receivers hold back one frame instead of four. Both are set on aiortc's private
attributes: if an aiortc upgrade renames them, these tests fail (the calls would still work, slower)."""

from __future__ import annotations

import asyncio

import av
from aiortc import MediaStreamTrack, RTCOutboundRtpStreamStats, RTCRtpCodecParameters, RTCRtpReceiver
from aiortc.codecs.opus import OpusEncoder
from aiortc.jitterbuffer import JitterFrame

from contactcenter.channels.voice import codecs, service
from contactcenter.channels.voice.codecs import RECEIVE_PREFETCH, VoiceEncoder
from contactcenter.channels.voice.media import RATE, SAMPLES, SILENCE, TIME_BASE, Reader, tone
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.voice.peers import Peer, analyse, near
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
        receivers: list[RTCRtpReceiver] = []
        for leg in (call.customer, call.agent):
            assert leg is not None
            (t,) = leg.pc.getTransceivers()
            assert isinstance(t.sender._RTCRtpSender__encoder, VoiceEncoder)  # type: ignore[attr-defined]
            assert t.sender._RTCRtpSender__encoder.codec.layout.name == "mono"  # type: ignore[attr-defined]
            assert t.receiver._RTCRtpReceiver__jitter_buffer._prefetch == RECEIVE_PREFETCH  # type: ignore[attr-defined]
            # Coded on the loop: the bridge's track hands aiortc packets, its receiver decodes inline.
            inline = t.receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]
            assert isinstance(inline, codecs.InlineDecoding) and inline.decoder is not None
            assert leg.out.encoder is not None and not leg.out.packets
            receivers.append(t.receiver)
            out = [s for s in (await leg.pc.getStats()).values() if isinstance(s, RTCOutboundRtpStreamStats)]
            assert out and out[0].packetsSent >= 25
            # 32 kbit/s is 80 bytes of Opus per 20 ms packet (aiortc's stereo 96 kbit/s: 240).
            assert out[0].bytesSent / out[0].packetsSent < 130
        await cust.send({"type": "voice_hangup", "conversation_id": cid})
        await agent.next("voice_state", state="ended", conversation_id=cid, timeout=10)
        # aiortc's decoder thread, idle while the loop decoded, was told to end and joined.
        for r in receivers:
            assert r._RTCRtpReceiver__decoder_thread is None  # type: ignore[attr-defined]
            assert r._RTCRtpReceiver__decoder_queue.stopped.is_set()  # type: ignore[attr-defined]


async def test_a_leg_without_opus_is_sent_and_heard_in_its_own_codec(live: Live) -> None:
    """A customer offering only PCMU (a softphone, a gateway) gets PCMU from aiortc's own encoder: the Opus
    the bridge encodes for an Opus leg would be noise in a PCMU payload."""
    await make_agent(live.app, "tina")
    cp = Peer(CUSTOMER_HZ, codec="PCMU")
    async with (
        staff(live, "tina") as agent,
        customer(live) as (cust, _t),
        pinging(agent, cust),
        peers(AGENT_HZ) as (ap,),
    ):
        try:
            cid = await place_call(cust, cp)
            await answer(agent, ap, cid)
            await cp.hears(near(AGENT_HZ), frames=25)
            await ap.hears(near(CUSTOMER_HZ), frames=25)
            leg = service.calls[cid].customer
            assert leg is not None and leg.out.encoder is None
            (t,) = leg.pc.getTransceivers()
            assert not isinstance(t.sender._RTCRtpSender__encoder, VoiceEncoder)  # type: ignore[attr-defined]
            assert t._codecs[0].mimeType == "audio/PCMU"
            await cust.send({"type": "voice_hangup", "conversation_id": cid})
            await agent.next("voice_state", state="ended", conversation_id=cid, timeout=10)
        finally:
            await cp.close()


def _frame(pcm: bytes, layout: str = "mono") -> av.AudioFrame:
    f = av.AudioFrame(format="s16", layout=layout, samples=SAMPLES)
    f.planes[0].update(pcm)
    f.sample_rate = RATE
    return f


def test_the_level_is_aiortcs_level() -> None:
    frames = [SILENCE, tone(440.0, 0.3), tone(880.0, 0.001), tone(100.0, 1.0), bytes([255, 127]) * SAMPLES]
    for pcm in frames:
        assert codecs.audio_level_dbov(_frame(pcm)) == codecs.aiortc_level(_frame(pcm))
    stereo = _frame(tone(440.0, 0.3) * 2, layout="stereo")
    assert codecs.audio_level_dbov(stereo) == codecs.aiortc_level(stereo)


def test_opus_is_decoded_to_mono_and_other_codecs_are_aiortcs() -> None:
    import aiortc.rtcrtpreceiver

    opus = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2)
    pcmu = RTCRtpCodecParameters(mimeType="audio/PCMU", clockRate=8000, channels=1)
    get = aiortc.rtcrtpreceiver.get_decoder  # type: ignore[attr-defined]
    assert isinstance(get(opus), codecs.VoiceDecoder) and not isinstance(get(pcmu), codecs.VoiceDecoder)
    enc, dec = OpusEncoder(), get(opus)  # aiortc's own encoder: a stereo packet, as a browser might send
    out: list[av.AudioFrame] = []
    for i in range(5):
        f = _frame(tone(440.0, 0.3, start=i * SAMPLES))
        f.pts, f.time_base = i * SAMPLES, TIME_BASE
        payloads, ts = enc.encode(f)
        for p in payloads:
            out += dec.decode(JitterFrame(data=p, timestamp=ts))
    assert out and all(f.layout.name == "mono" and f.samples == SAMPLES for f in out)
    assert near(440.0)(analyse(bytes(out[-1].planes[0])[: SAMPLES * 2]))


def test_a_packet_that_will_not_decode_is_one_lost_frame_and_the_next_decodes() -> None:
    """Inline decoding runs on the event loop: a bad packet from a peer must not raise there (it would end
    the receiver's RTP handling) nor reset the decoder."""
    opus = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2)
    out: asyncio.Queue[av.AudioFrame | None] = asyncio.Queue()
    inline = codecs.InlineDecoding(out)  # type: ignore[arg-type]
    enc = VoiceEncoder()
    good = []
    for i in range(3):
        f = _frame(tone(440.0, 0.3, start=i * SAMPLES))
        f.pts, f.time_base = i * SAMPLES, TIME_BASE
        good += enc.packets(f)
    inline.put((opus, JitterFrame(data=bytes(good[0]), timestamp=0)))
    inline.put((opus, JitterFrame(data=b"\xff" * 3, timestamp=SAMPLES)))  # not Opus
    inline.put((opus, JitterFrame(data=bytes(good[2]), timestamp=2 * SAMPLES)))
    assert inline.errors == 1 and out.qsize() == 2
    inline.put(None)  # the receiver stopping: aiortc's waiting thread is let go
    assert inline.stopped.is_set() and inline.get() is None


class _Fed(MediaStreamTrack):
    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.frames: asyncio.Queue[av.AudioFrame] = asyncio.Queue()

    async def recv(self) -> av.AudioFrame:
        return await self.frames.get()


async def test_a_reader_plays_its_first_frame_at_once_and_keeps_one_in_hand_after_running_dry() -> None:
    """The far end hears a new leg on the first tick it has a frame; once the leg has run dry (a late
    packet), the reader waits for two frames, so the next late one is a tick late rather than missing."""
    track = _Fed()
    reader = Reader(track)

    async def arrives(pcm: bytes) -> None:
        want = reader.received + 1
        track.frames.put_nowait(_frame(pcm))
        while reader.received < want:  # noqa: ASYNC110 - the reader's own task takes it: a yield suffices
            await asyncio.sleep(0)

    one, two, three = (tone(440, start=i * SAMPLES) for i in range(3))
    try:
        assert reader.take() is None  # nothing heard yet
        await arrives(one)
        assert reader.take() == one  # at once: no second frame waited for
        assert reader.take() is None  # dry: this tick is silence
        await arrives(two)
        assert reader.take() is None  # one frame in hand is not enough now
        await arrives(three)
        assert (reader.take(), reader.take(), reader.take()) == (two, three, None)
    finally:
        await reader.stop()

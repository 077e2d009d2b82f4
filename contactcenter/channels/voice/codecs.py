"""What the server's legs send and decode: mono Opus at voice bit rates, a one-frame receive buffer, and a
level measured in C (decision 60). aiortc has options for none of these: importing this module sets them
for every peer connection of the process (decoder, level), and `tune_leg` for one leg (encoder, buffer)."""

from __future__ import annotations

import math
import operator
from array import array

import aiortc.rtcrtpreceiver
import aiortc.rtp
import av
from aiortc import RTCPeerConnection, RTCRtpCodecParameters
from aiortc.codecs import get_decoder as aiortc_decoder
from aiortc.codecs.base import Decoder
from aiortc.codecs.opus import OpusDecoder, OpusEncoder
from aiortc.jitterbuffer import JitterBuffer
from av.frame import Frame

from contactcenter.channels.voice.media import RATE, TIME_BASE

# A voice leg's Opus: mono at 32 kbit/s, what browsers send for speech. aiortc's own encoder resamples every
# frame to stereo and sends 96 kbit/s: three times the bandwidth to a customer on a phone, for speech that
# is mono anyway.
VOICE_BITRATE = 32_000
# Frames aiortc's receiver holds back before giving one to the reader (its default is 4, 80 ms). The
# reader keeps its own short buffer (PRIME), so the server only needs one: 60 ms less delay each way.
RECEIVE_PREFETCH = 1


class VoiceEncoder(OpusEncoder):
    """Opus for what the bridge sends: its frames are already 20 ms of 48 kHz mono s16 (no resampling)."""

    def __init__(self) -> None:
        self.codec = av.CodecContext.create("libopus", "w")
        self.codec.bit_rate = VOICE_BITRATE
        self.codec.format = "s16"
        self.codec.layout = "mono"
        self.codec.options = {"application": "voip"}
        self.codec.sample_rate = RATE
        self.codec.time_base = TIME_BASE
        self.first_packet_pts: int | None = None

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        assert isinstance(frame, av.AudioFrame)
        packets = self.codec.encode(frame)
        if not packets:
            return [], None  # type: ignore[return-value]  # aiortc's own contract: no packet, no timestamp
        pts = packets[0].pts or 0
        if self.first_packet_pts is None:
            self.first_packet_pts = pts  # libopus starts at a negative pts (its look-ahead): counted from it
        return [bytes(p) for p in packets], pts - self.first_packet_pts


class VoiceDecoder(OpusDecoder):
    """Opus decoded to mono, as the bridge and the recording use it: libopus downmixes (a stereo packet
    too), and the reader needs no resampler (aiortc's decodes to stereo; resampling every frame back to
    mono was the largest cost of the bridge's own code)."""

    def __init__(self) -> None:
        self.codec = av.CodecContext.create("libopus", "r")
        self.codec.format = "s16"
        self.codec.layout = "mono"
        self.codec.sample_rate = RATE


def _decoder(codec: RTCRtpCodecParameters) -> Decoder:
    return VoiceDecoder() if codec.mimeType.lower() == "audio/opus" else aiortc_decoder(codec)


def audio_level_dbov(frame: av.AudioFrame) -> int:
    """aiortc's `compute_audio_level_dbov` (RFC 6465 appendix A, the same rounding), without its Python loop
    over every sample: it ran on the event loop for every frame every leg sends."""
    buf = array("h", bytes(frame.planes[0]))
    rms = math.sqrt(sum(map(operator.mul, buf, buf)) / (frame.samples * 32767 * 32767))
    return round(min(max(20 * math.log10(rms), -127), 0)) if rms > 0 else -127


# Every receiver of this process decodes Opus to mono, and senders measure their level in C: both are
# looked up by aiortc at the moment of use (decision 60).
aiortc_level = aiortc.rtp.compute_audio_level_dbov
aiortc.rtcrtpreceiver.get_decoder = _decoder  # type: ignore[attr-defined]
aiortc.rtp.compute_audio_level_dbov = audio_level_dbov


def tune_leg(pc: RTCPeerConnection, *, receive: bool = True) -> bool:
    """Give a leg's sender the voice encoder and (`receive`) its receiver the short jitter buffer, before any
    media flows. aiortc has no option for either: its private attributes are set, and False says they were
    not found (another aiortc version: the leg keeps aiortc's defaults, and tests/voice/test_tuning.py
    fails)."""
    tuned = True
    for t in pc.getTransceivers():
        if t.kind != "audio":
            continue
        if hasattr(t.sender, "_RTCRtpSender__encoder") and t.sender._RTCRtpSender__encoder is None:
            t.sender._RTCRtpSender__encoder = VoiceEncoder()
        else:
            tuned = False
        if not receive:
            continue
        if hasattr(t.receiver, "_RTCRtpReceiver__jitter_buffer"):
            t.receiver._RTCRtpReceiver__jitter_buffer = JitterBuffer(capacity=16, prefetch=RECEIVE_PREFETCH)
        else:
            tuned = False
    return tuned

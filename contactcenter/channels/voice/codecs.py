"""What the server's legs send and decode: mono Opus at voice bit rates, a one-frame receive buffer, and a
level measured in C (decision 60), each frame encoded and decoded on the event loop instead of in a thread
(decision 61). aiortc has options for none of these: importing this module sets them for every peer
connection of the process (decoder, level), and `tune_leg` for one leg (encoder, buffer, inline coding)."""

from __future__ import annotations

import asyncio
import math
import operator
import threading
from array import array
from typing import Any

import aiortc.rtcrtpreceiver
import aiortc.rtp
import av
from aiortc import RTCPeerConnection, RTCRtpCodecParameters, RTCRtpReceiver
from aiortc.codecs import get_decoder as aiortc_decoder
from aiortc.codecs.base import Decoder
from aiortc.codecs.opus import OpusDecoder, OpusEncoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from av.frame import Frame
from av.packet import Packet

from contactcenter.channels.voice.media import RATE, TIME_BASE, FedTrack

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

    def packets(self, frame: av.AudioFrame) -> list[Packet[Any]]:
        """The frame encoded here, for a track that hands aiortc packets (FedTrack): aiortc's sender packs a
        packet on the loop, where a frame costs it a thread pool hand-off (~0.2 ms of CPU, more than the
        encoding) and its level in Python. Timestamps count from the first packet, as `encode`'s do."""
        out = self.codec.encode(frame)
        for p in out:
            if self.first_packet_pts is None:
                self.first_packet_pts = p.pts or 0
            p.pts, p.time_base = (p.pts or 0) - self.first_packet_pts, TIME_BASE
        return out


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


class InlineDecoding:
    """Stands in for the queue from an aiortc receiver to its decoder thread: each frame off the jitter buffer
    is decoded at once, on the loop, into the track's queue. Through the thread, a frame cost two thread
    hand-offs and a task on the loop, more CPU than decoding it. aiortc still starts its thread: it waits in
    `get` until the receiver stops (`put(None)`), then ends the track as it always did."""

    def __init__(self, out: asyncio.Queue[Frame | None]) -> None:
        self.out = out
        self.decoder: Decoder | None = None
        self.codec_name = ""
        self.stopped = threading.Event()
        self.errors = 0

    def put(self, task: tuple[RTCRtpCodecParameters, JitterFrame] | None) -> None:
        if task is None:
            self.stopped.set()
            return
        codec, encoded = task
        if self.decoder is None or codec.name != self.codec_name:
            self.decoder, self.codec_name = _decoder(codec), codec.name
        try:
            frames = self.decoder.decode(encoded)
        except av.FFmpegError:
            self.errors += 1  # one bad packet is one lost frame: the decoder keeps its state, as aiortc's
            return
        for frame in frames:
            self.out.put_nowait(frame)

    def get(self) -> None:
        self.stopped.wait()
        return None


def _first_codec(t: object) -> str | None:
    codecs = getattr(t, "_codecs", None)
    return codecs[0].mimeType.lower() if codecs else None  # None: not negotiated yet (an offerer's leg)


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


def tune_leg(pc: RTCPeerConnection, *, receive: bool = True, out: FedTrack | None = None) -> bool:
    """Give a leg's sender the voice encoder and (`receive`) its receiver the short jitter buffer and inline
    decoding, before any media flows; `out`, the leg's FedTrack, then encodes its frames itself. aiortc has
    no option for any of these: its private attributes are set, and False says they were not found (another
    aiortc version: the leg keeps aiortc's defaults, and tests/voice/test_tuning.py fails). A leg that
    negotiated another codec than Opus keeps aiortc's encoder."""
    tuned = True
    for t in pc.getTransceivers():
        if t.kind != "audio":
            continue
        opus = _first_codec(t) in (None, "audio/opus")
        if not hasattr(t.sender, "_RTCRtpSender__encoder") or t.sender._RTCRtpSender__encoder is not None:
            tuned = False
        elif opus:
            t.sender._RTCRtpSender__encoder = VoiceEncoder()
            if out is not None:
                out.encoder = VoiceEncoder()
        if not receive:
            continue
        r = t.receiver
        if hasattr(r, "_RTCRtpReceiver__jitter_buffer"):
            r._RTCRtpReceiver__jitter_buffer = JitterBuffer(capacity=16, prefetch=RECEIVE_PREFETCH)
        else:
            tuned = False
        tuned = decode_inline(r) and tuned
    return tuned


def decode_inline(receiver: RTCRtpReceiver) -> bool:
    """The receiver's frames decoded on the loop (InlineDecoding); False if it cannot be set (its remote
    track is not known yet, before the remote description, or aiortc renamed what this sets)."""
    track = getattr(receiver, "_track", None)
    if getattr(receiver, "_RTCRtpReceiver__decoder_thread", 1) is not None or track is None:
        return False
    receiver._RTCRtpReceiver__decoder_queue = InlineDecoding(track._queue)  # type: ignore[attr-defined]
    return True

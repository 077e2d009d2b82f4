"""The audio pieces of a bridged call: 20 ms frames of 48 kHz mono s16 PCM, a track fed by the bridge, a
reader that drains a remote track, the hold music, and a frame's energy. Pure PyAV and the stdlib: no numpy."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from array import array
from collections import deque
from fractions import Fraction

import av
from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.codecs.opus import OpusEncoder
from aiortc.jitterbuffer import JitterBuffer
from aiortc.mediastreams import MediaStreamError
from av.frame import Frame

RATE = 48_000
SAMPLES = 960  # 20 ms
FRAME_S = SAMPLES / RATE
SILENCE = bytes(SAMPLES * 2)
TIME_BASE = Fraction(1, RATE)
# Frames a reader keeps of what its leg said (the bridge takes one per tick): a burst after a stall of up to
# 160 ms is kept (played a little late); more would only add delay, so the oldest go.
INBOX = 8
# After running dry, a reader gives frames again once it holds this many: a 20 ms jitter buffer, so a frame
# arriving just after its tick is late by one tick instead of counted as missing and then piling up.
PRIME = 2


# A voice leg's Opus: mono at 32 kbit/s, what browsers send for speech. aiortc's own encoder resamples every
# frame to stereo and sends 96 kbit/s: three times the bandwidth to a customer on a phone, for no voice.
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


def tune_leg(pc: RTCPeerConnection, *, receive: bool = True) -> bool:
    """Give a leg's sender the voice encoder and (`receive`) its receiver the short jitter buffer, before any
    media flows.
    aiortc has no option for either: its private attributes are set, and False says they were not found
    (another aiortc version; the leg then works with aiortc's defaults, and tests/voice/test_tuning.py
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


class FedTrack(MediaStreamTrack):
    """What one leg hears: the frames the bridge puts, stamped in order. The bridge's tick paces it."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=10)
        self.pts = 0

    def put(self, pcm: bytes) -> None:
        if self.queue.full():  # the sender fell behind: drop the oldest rather than add delay
            self.queue.get_nowait()
        self.queue.put_nowait(pcm)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pcm = await self.queue.get()
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(pcm)
        frame.sample_rate, frame.time_base, frame.pts = RATE, TIME_BASE, self.pts
        self.pts += SAMPLES
        return frame


class Reader:
    """Drains a remote track (every remote track must be consumed, or frames pile up) into a short inbox of
    20 ms mono frames; counts the frames it received."""

    def __init__(self, track: MediaStreamTrack) -> None:
        self.track = track
        self.inbox: deque[bytes] = deque(maxlen=INBOX)
        self.received = 0
        self.first_at: float | None = None  # monotonic time of the first frame
        self.primed = False
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE, frame_size=SAMPLES)
        self.task = asyncio.create_task(self._run(), name="voice-reader")

    async def _run(self) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await self.track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                if self.first_at is None:
                    self.first_at = time.monotonic()
                for out in self.resampler.resample(frame):
                    self.inbox.append(bytes(out.planes[0])[: out.samples * 2])
                    self.received += 1

    def take(self) -> bytes | None:
        if not self.primed and len(self.inbox) < PRIME:
            return None
        self.primed = bool(self.inbox)
        return self.inbox.popleft() if self.inbox else None

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
            await self.task


def tone(freq: float, amplitude: float = 0.3, start: int = 0) -> bytes:
    """One 20 ms frame of a sine at `freq` Hz, continuing from sample `start`."""
    peak = amplitude * 32767
    step = 2 * math.pi * freq / RATE
    return array("h", (int(peak * math.sin(step * (start + i))) for i in range(SAMPLES))).tobytes()


class HoldMusic:
    """A generated melody (a few soft notes, looped): the customer hears it while held or waiting. Frames are
    computed once; no media file is needed."""

    NOTES = (523.25, 659.25, 783.99, 659.25)  # C5 E5 G5 E5
    FRAMES_PER_NOTE = 20  # 400 ms

    def __init__(self) -> None:
        self.frames = [tone(f, 0.15, start=i * SAMPLES) for f in self.NOTES for i in range(self.FRAMES_PER_NOTE)]
        self.at = 0

    def next(self) -> bytes:
        frame = self.frames[self.at]
        self.at = (self.at + 1) % len(self.frames)
        return frame


def energy(pcm: bytes) -> float:
    """Root mean square of a frame, 0..1."""
    samples = array("h", pcm)
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768


def mix(a: bytes, b: bytes) -> bytes:
    """Two frames heard at once (a supervisor with a side of the call), clipped to 16 bits."""
    if a == SILENCE:
        return b
    if b == SILENCE:
        return a
    x, y = array("h", a), array("h", b)
    return array("h", [max(-32768, min(32767, p + q)) for p, q in zip(x, y, strict=True)]).tobytes()

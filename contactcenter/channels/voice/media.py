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
from typing import Any, Protocol

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

RATE = 48_000
SAMPLES = 960  # 20 ms
FRAME_S = SAMPLES / RATE
SILENCE = bytes(SAMPLES * 2)
TIME_BASE = Fraction(1, RATE)
# Frames a reader keeps of what its leg said (the bridge takes one per tick): a burst after a stall of up to
# 160 ms is kept (played a little late); more would only add delay, so the oldest go.
INBOX = 8
# After running dry, a reader gives frames again once it holds this many: a 20 ms jitter buffer, so a frame
# arriving just after its tick is late by one tick instead of counted as missing and then piling up. Its
# first frame goes out at once (the far end hears the call 20 ms sooner): the buffer is added only once the
# leg has shown it needs one, by running dry (a browser's NetEq also starts low and grows on late packets).
PRIME = 2


class Encoder(Protocol):
    def packets(self, frame: av.AudioFrame) -> list[av.Packet[Any]]: ...


class FedTrack(MediaStreamTrack):
    """What one leg hears: the frames the bridge puts, stamped in order. The bridge's tick paces it. With an
    `encoder` (codecs.tune_leg gives one to an Opus leg), it hands aiortc encoded packets."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=10)
        self.pts = 0
        self.encoder: Encoder | None = None
        self.packets: deque[av.Packet[Any]] = deque()

    def put(self, pcm: bytes) -> None:
        if self.queue.full():  # the sender fell behind: drop the oldest rather than add delay
            self.queue.get_nowait()
        self.queue.put_nowait(pcm)

    async def recv(self) -> av.AudioFrame | av.Packet[Any]:  # aiortc's sender takes both
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self.packets:
                return self.packets.popleft()
            pcm = await self.queue.get()
            frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
            frame.planes[0].update(pcm)
            frame.sample_rate, frame.time_base, frame.pts = RATE, TIME_BASE, self.pts
            self.pts += SAMPLES
            if self.encoder is None:
                return frame
            self.packets.extend(self.encoder.packets(frame))  # one per 20 ms frame, as libopus is set


class Reader:
    """Drains a remote track (every remote track must be consumed, or frames pile up) into a short inbox of
    20 ms mono frames; counts the frames it received."""

    def __init__(self, track: MediaStreamTrack) -> None:
        self.track = track
        self.inbox: deque[bytes] = deque(maxlen=INBOX)
        self.received = 0
        self.first_at: float | None = None  # monotonic time of the first frame
        self.primed = False
        self.ran_dry = False  # once it has, it primes with PRIME frames, not one
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
                if frame.layout.name == "mono" and frame.samples == SAMPLES and frame.format.name == "s16":
                    self.inbox.append(bytes(frame.planes[0])[: SAMPLES * 2])  # what VoiceDecoder gives
                    self.received += 1
                    continue
                for out in self.resampler.resample(frame):
                    self.inbox.append(bytes(out.planes[0])[: out.samples * 2])
                    self.received += 1

    def take(self) -> bytes | None:
        """The next frame for this tick, or None while (re)priming or dry."""
        if not self.primed and len(self.inbox) < (PRIME if self.ran_dry else 1):
            return None
        if not self.inbox:
            self.primed, self.ran_dry = False, True
            return None
        self.primed = True
        return self.inbox.popleft()

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
    """A generated melody (a few soft notes, looped): the customer hears it while held or waiting. No media
    file is needed; its frames are made once, at import (pure Python, ~15 ms: made per call, they were most
    of a call's set-up CPU)."""

    NOTES = (523.25, 659.25, 783.99, 659.25)  # C5 E5 G5 E5
    FRAMES_PER_NOTE = 20  # 400 ms

    def __init__(self) -> None:
        self.at = 0

    def next(self) -> bytes:
        frame = MELODY[self.at]
        self.at = (self.at + 1) % len(MELODY)
        return frame


MELODY = tuple(tone(f, 0.15, start=i * SAMPLES) for f in HoldMusic.NOTES for i in range(HoldMusic.FRAMES_PER_NOTE))


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

"""Real aiortc peers for the voice tests and the benchmark: each sends a tone (or silence) at real-time pace
and analyses every frame it hears (energy, and the tone's pitch by zero crossings)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from contactcenter.channels.voice.codecs import VoiceEncoder, decode_inline, tune_leg
from contactcenter.channels.voice.media import FRAME_S, RATE, SAMPLES, TIME_BASE, tone

LOUD = 0.02  # RMS above this is sound; the tones are sent at 0.3, the hold music at 0.15
Heard = tuple[float, float]  # (rms, estimated frequency in Hz)


def analyse(pcm: bytes, rate: int = RATE) -> Heard:
    samples = array("h", pcm)
    n = len(samples)
    if n == 0:
        return 0.0, 0.0
    rms = math.sqrt(sum(s * s for s in samples) / n) / 32768
    crossings = sum(1 for i in range(1, n) if (samples[i - 1] < 0) != (samples[i] < 0))
    return rms, crossings * rate / (2 * n)


def near(freq: float, tolerance: float = 0.1) -> Callable[[Heard], bool]:
    return lambda h: h[0] > LOUD and abs(h[1] - freq) <= freq * tolerance


def silent(h: Heard) -> bool:
    return h[0] < LOUD


@functools.cache
def second_of(freq: float) -> tuple[bytes, ...]:
    """One second of a tone (a whole number of cycles for a whole-Hz tone: its frames repeat), made once per
    frequency: ~10 ms of pure Python that each peer's set-up paid on the benchmark's loop."""
    return tuple(tone(freq, 0.3, start=i * SAMPLES) for i in range(RATE // SAMPLES))


@functools.cache
def opus_second_of(freq: float | None) -> tuple[bytes, ...]:
    """The same second as mono Opus packets (None: silence), encoded once: the peers stand for browsers,
    which encode on the customer's machine, not on the cores the benchmark shares with the server. The
    second of two is kept, so the encoder's start-up is not in the loop."""
    enc = VoiceEncoder()
    pcm = second_of(freq) if freq is not None else (bytes(SAMPLES * 2),) * (RATE // SAMPLES)
    out: list[bytes] = []
    for i in range(2 * len(pcm)):
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(pcm[i % len(pcm)])
        frame.sample_rate, frame.time_base, frame.pts = RATE, TIME_BASE, i * SAMPLES
        out += [bytes(p) for p in enc.packets(frame)]
    return tuple(out[-len(pcm) :])


class ToneTrack(MediaStreamTrack):
    """A sine at `freq` Hz, paced in real time; `quiet` sends silence instead. With `encoded`, it hands
    aiortc Opus packets made once (for an Opus leg), else frames for aiortc to encode."""

    kind = "audio"

    def __init__(self, freq: float, encoded: bool = False) -> None:
        super().__init__()
        self.freq, self.quiet, self.pts, self.encoded = freq, False, 0, encoded
        self.start: float | None = None
        self.second = second_of(freq)

    async def recv(self) -> av.AudioFrame | av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self.start is None:
            self.start = loop.time()
        wait = self.start + self.pts / RATE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        at, pts = (self.pts // SAMPLES) % len(self.second), self.pts
        self.pts += SAMPLES
        if self.encoded:
            packet = av.Packet(opus_second_of(None if self.quiet else self.freq)[at])
            packet.pts, packet.time_base = pts, TIME_BASE
            return packet
        pcm = bytes(SAMPLES * 2) if self.quiet else self.second[at]
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(pcm)
        frame.sample_rate, frame.time_base, frame.pts = RATE, Fraction(1, RATE), pts
        return frame


@dataclass
class Listener:
    heard: list[Heard]
    changed: asyncio.Event


class Peer:
    """One side of a call as a browser would be: it offers, the server answers."""

    def __init__(self, freq: float, codec: str | None = None) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.source = ToneTrack(freq, encoded=codec is None)
        self.pc.addTrack(self.source)
        if codec is not None:  # only this codec is offered (a softphone or gateway without Opus), sent by aiortc
            (t,) = self.pc.getTransceivers()
            t.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("audio").codecs if c.name == codec])
        else:
            # It sends what a browser sends for speech: mono Opus at ~32 kbit/s (aiortc's own default is
            # stereo at 96 kbit/s, which costs the benchmark's peers, on the server's cores, twice the encoding).
            assert tune_leg(self.pc, receive=False)
        self.heard: list[Heard] = []
        self.changed = asyncio.Event()
        self.frames = 0
        self.listening = 0  # frames are analysed only while a hears() waits (the analysis is pure Python)
        self.task: asyncio.Task[None] | None = None
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE, frame_size=SAMPLES)

        @self.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            self.task = asyncio.create_task(self._listen(track))

    async def _listen(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                self.frames += 1
                if not self.listening:
                    continue
                if frame.layout.name == "mono" and frame.samples == SAMPLES and frame.format.name == "s16":
                    self.heard.append(analyse(bytes(frame.planes[0])[: SAMPLES * 2]))  # Opus, as VoiceDecoder gives
                    self.changed.set()
                    continue
                for out in self.resampler.resample(frame):
                    self.heard.append(analyse(bytes(out.planes[0])[: out.samples * 2]))
                    self.changed.set()

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def answered(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        for t in self.pc.getTransceivers():  # decoded on the loop, as the server's legs are (cheaper here too)
            decode_inline(t.receiver)

    async def hears(self, ok: Callable[[Heard], bool], frames: int = 15, timeout: float = 20.0) -> None:
        """Wait until `frames` frames in a row (from now on) satisfy `ok` (a quarter second or more)."""
        at, run = len(self.heard), 0
        self.listening += 1
        try:
            async with asyncio.timeout(timeout):
                while True:
                    while at < len(self.heard):
                        run = run + 1 if ok(self.heard[at]) else 0
                        at += 1
                        if run >= frames:
                            return
                    self.changed.clear()
                    await self.changed.wait()
        finally:
            self.listening -= 1

    async def close(self) -> None:
        await self.pc.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


__all__ = ["FRAME_S", "LOUD", "Peer", "analyse", "near", "silent"]

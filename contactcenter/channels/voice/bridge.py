"""One call in this process: a peer connection per leg (customer, agent), bridged by a 20 ms tick that takes
one frame from each leg and gives each the other's (or the hold music, or silence), and writes the stereo
recording from the same frames, so hold, mute and a lost packet look the same on the wire and in the file."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import structlog
from aiortc import MediaStreamTrack, RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from contactcenter.channels.voice.codecs import tune_leg
from contactcenter.channels.voice.media import FRAME_S, SILENCE, FedTrack, HoldMusic, Reader, mix
from contactcenter.channels.voice.recording import Checked, StereoRecorder
from contactcenter.channels.voice.schemas import CallState

log = structlog.get_logger("voice")
Side = Literal["customer", "agent", "supervisor"]
# Behind by more than this, the tick stops catching up (that time is skipped, on the wire and in the
# recording alike): a longer catch-up sends a burst that overflows the far end's jitter buffer (aiortc
# keeps 16 packets), which then loses more than the skip does.
CATCH_UP_S = 0.2


class BadSdp(ValueError):
    """The offer could not be used (malformed, not audio, no ICE credentials)."""


@dataclass
class Leg:
    side: Side
    user_id: int
    pc: RTCPeerConnection
    out: FedTrack
    reader: Reader | None = None
    muted: bool = False
    timer: asyncio.TimerHandle | None = None  # the connect timeout, cancelled when the leg ends


@dataclass
class Stats:
    ticks: int = 0
    talk_ticks: int = 0
    customer_missing: int = 0  # ticks with no frame ready from a leg whose media flows (played as silence)
    agent_missing: int = 0
    # Frames the legs' media should have brought since their first frame (50 a second) and those received:
    # the difference is what the network or a stalled process lost.
    frames_expected: int = 0
    frames_received: int = 0
    agents: list[int] = field(default_factory=list)


OnEnd = Callable[["Call", str, str, Checked | None], Awaitable[None]]


def _ice_failed(pc: RTCPeerConnection) -> bool:
    return any(
        t.sender.transport is not None and t.sender.transport.transport.state == "failed" for t in pc.getTransceivers()
    )


def configuration(ice_urls: Sequence[str]) -> RTCConfiguration:
    # aiortc's default configuration asks Google's STUN server: only what is configured is used.
    return RTCConfiguration(iceServers=[RTCIceServer(urls=u) for u in ice_urls])


class Call:
    def __init__(
        self,
        conversation_id: str,
        customer_id: int,
        *,
        ice_urls: Sequence[str],
        connect_timeout_s: float = 30.0,
        recording: Path | None,
        on_end: OnEnd,
    ) -> None:
        self.conversation_id, self.customer_id = conversation_id, customer_id
        self.ice_urls = list(ice_urls)
        self.connect_timeout_s = connect_timeout_s
        self.recording_path = recording
        self.recorder: StereoRecorder | None = None
        self.on_end = on_end
        self.owner: object | None = None  # the app's database: which app's stop ends it
        self.music = HoldMusic()
        self.customer: Leg | None = None
        self.agent: Leg | None = None
        # A supervisor on the call (supervise.py): listen hears both sides, whisper also speaks to the agent,
        # barge to both. Their leg never ends the call.
        self.supervisor: Leg | None = None
        self.supervisor_mode = "listen"
        self.held = False
        self.transferring = False
        self.ended = False
        self.started = time.monotonic()
        self.answered: float | None = None
        self.stats = Stats()
        self.task: asyncio.Task[None] | None = None
        self._ending: asyncio.Task[None] | None = None
        self._keep: set[asyncio.Task[None]] = set()

    @property
    def state(self) -> CallState:
        if self.ended:
            return "ended"
        if self.transferring:
            return "transferring"
        if self.agent is None:
            return "waiting"
        return "held" if self.held else "connected"

    async def _leg(self, side: Side, user_id: int, sdp: str) -> tuple[Leg, str]:
        if "m=audio" not in sdp or "m=video" in sdp:
            raise BadSdp("an offer with one audio stream and no video is expected")
        pc = RTCPeerConnection(configuration(self.ice_urls))
        leg = Leg(side=side, user_id=user_id, pc=pc, out=FedTrack())

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            # Read directly, by its one consumer: MediaRelay's unbuffered proxy keeps one frame, so two
            # arriving together after a stall lost one (decision 41); the reader's own inbox is the bound.
            leg.reader = Reader(track)

        @pc.on("connectionstatechange")
        async def _state() -> None:
            if pc.connectionState in ("failed", "closed") and self._current(leg):
                # Closed by the peer (a hang-up, or its page closed; it can reach us before its voice_hangup
                # frame does), or failed: the line was lost. A peer gone silent (its consent to ICE checks
                # expired) reads `closed` too, aiortc closing the connection at once: its ICE says failed.
                lost = pc.connectionState == "failed" or _ice_failed(pc)
                self.end_soon(side, "lost" if lost else "hangup")
            elif pc.connectionState in ("failed", "closed") and self.supervisor is leg:
                self.drop_supervisor_soon()

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            pc.addTrack(leg.out)
            if not tune_leg(pc, out=leg.out):
                log.warning("voice_leg_untuned", side=side)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await pc.close()
            raise BadSdp(f"the offer could not be used: {exc}") from exc

        def _connected_yet() -> None:
            # A peer that took the answer and never connected (it vanished, or its network cannot reach ours).
            if self._current(leg) and pc.connectionState != "connected":
                self.end_soon(side, "no_media")
            elif self.supervisor is leg and pc.connectionState != "connected":
                self.drop_supervisor_soon()

        leg.timer = asyncio.get_running_loop().call_later(self.connect_timeout_s, _connected_yet)
        return leg, pc.localDescription.sdp

    def _current(self, leg: Leg) -> bool:
        return not self.ended and (self.customer is leg or self.agent is leg)

    async def customer_offer(self, sdp: str) -> str:
        """The customer's leg from their offer; the tick starts (they hear the waiting music)."""
        if self.customer is not None:
            raise BadSdp("this call has its customer leg")
        self.customer, answer = await self._leg("customer", self.customer_id, sdp)
        self.task = asyncio.create_task(self._run(), name=f"voice-call-{self.conversation_id}")
        return answer

    async def agent_offer(self, agent_id: int, sdp: str) -> str:
        """The agent's leg (a new agent after a transfer replaces the previous one's)."""
        leg, answer = await self._leg("agent", agent_id, sdp)
        old, self.agent = self.agent, leg
        self.transferring = False
        self.stats.agents.append(agent_id)
        if self.answered is None:
            self.answered = time.monotonic()
            if self.recording_path is not None:
                self.recorder = StereoRecorder(self.recording_path)
        if old is not None:
            await self._close(old)
        return answer

    async def drop_agent(self) -> None:
        """The agent's leg ends (a transfer); the customer is kept, hearing the music."""
        old, self.agent = self.agent, None
        self.transferring, self.held = True, False
        if old is not None:
            await self._close(old)

    async def supervisor_offer(self, user_id: int, sdp: str, mode: str) -> str:
        """A supervisor's leg (replacing any other supervisor's)."""
        leg, answer = await self._leg("supervisor", user_id, sdp)
        old, self.supervisor, self.supervisor_mode = self.supervisor, leg, mode
        if old is not None:
            await self._close(old)
        return answer

    async def drop_supervisor(self) -> None:
        old, self.supervisor, self.supervisor_mode = self.supervisor, None, "listen"
        if old is not None:
            await self._close(old)

    def drop_supervisor_soon(self) -> None:
        task = asyncio.create_task(self.drop_supervisor(), name=f"voice-sup-{self.conversation_id}")
        self._keep.add(task)
        task.add_done_callback(self._keep.discard)

    def mute(self, side: Side, on: bool) -> None:
        leg = self.customer if side == "customer" else self.agent
        if leg is not None:
            leg.muted = on

    def hold(self, on: bool) -> None:
        self.held = on

    def _tick(self) -> None:
        c, a = self.customer, self.agent
        if c is None:
            return
        self.stats.ticks += 1
        heard_c = c.reader.take() if c.reader is not None else None
        heard_a = a.reader.take() if a is not None and a.reader is not None else None
        # Missing: a tick with nothing from a leg whose media already flows (not while it connects).
        if a is not None and heard_c is None and c.reader is not None and c.reader.received:
            self.stats.customer_missing += 1
        if a is not None and heard_a is None and a.reader is not None and a.reader.received:
            self.stats.agent_missing += 1
        from_c = heard_c if heard_c is not None and not c.muted else SILENCE
        from_a = heard_a if heard_a is not None and a is not None and not a.muted else SILENCE
        sup = self.supervisor
        heard_s = sup.reader.take() if sup is not None and sup.reader is not None else None
        from_s = heard_s if heard_s is not None and sup is not None and not sup.muted else SILENCE
        if a is None or self.held:
            c.out.put(self.music.next())
            if a is not None:
                a.out.put(from_s if self.supervisor_mode != "listen" else SILENCE)
            left, right = SILENCE, SILENCE  # nobody is talking to anybody while held
        else:
            to_c = mix(from_a, from_s) if self.supervisor_mode == "barge" else from_a
            c.out.put(to_c)
            a.out.put(mix(from_c, from_s) if self.supervisor_mode != "listen" else from_c)
            left, right = from_c, to_c  # the right channel is what the customer heard from us
        if sup is not None:
            sup.out.put(mix(from_c, from_a) if a is not None and not self.held else SILENCE)  # not themselves
        if self.recorder is not None:
            self.recorder.write(left, right)
            self.stats.talk_ticks += 1

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            next_at += FRAME_S
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -CATCH_UP_S:
                next_at = loop.time()  # too far behind to catch up: the gap is lost time
            self._tick()

    def end_soon(self, by: str, reason: str) -> None:
        """End the call from a callback (a leg lost, the conversation closed elsewhere)."""
        if self._ending is None and not self.ended:
            self._ending = asyncio.create_task(self.end(by, reason), name=f"voice-end-{self.conversation_id}")

    async def end(self, by: str, reason: str) -> None:
        """Hang up both legs, close the recording (checked), then the service's on_end (idempotent)."""
        if self.ended:
            return
        self.ended = True
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self._close_legs()
        checked = self.recorder.close() if self.recorder is not None else None
        try:
            await self.on_end(self, by, reason, checked)
        except Exception:
            log.exception("voice_end_failed", conversation_id=self.conversation_id)

    async def _close_legs(self) -> None:
        # In a function of its own, so no local of end() keeps a leg alive while its bookkeeping runs:
        # nothing of the media outlives the call.
        legs = [leg for leg in (self.customer, self.agent, self.supervisor) if leg is not None]
        self.customer = self.agent = self.supervisor = None
        for leg in legs:
            await self._close(leg)

    async def _close(self, leg: Leg) -> None:
        if leg.timer is not None:
            leg.timer.cancel()  # its callback holds the leg
        if leg.reader is not None:
            await leg.reader.stop()
            if leg.reader.first_at is not None:
                expected = round((time.monotonic() - leg.reader.first_at) / FRAME_S) + 1
                self.stats.frames_expected += expected
                self.stats.frames_received += min(leg.reader.received, expected)
        leg.out.stop()
        with contextlib.suppress(Exception):
            await leg.pc.close()

    @property
    def loss_pct(self) -> float:
        s = self.stats
        return 100 * (s.frames_expected - s.frames_received) / s.frames_expected if s.frames_expected else 0.0

    @property
    def talk_s(self) -> float:
        return self.stats.talk_ticks * FRAME_S

"""The call's recording: one stereo WAV, customer left and agent right, written a tick at a time by the
bridge, so both channels always have the same length and a leg on hold or losing packets is silence, not a
gap. Checked when it ends: its duration must match the talk time the bridge counted."""

from __future__ import annotations

import struct
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

from contactcenter.channels.voice.media import RATE, SAMPLES


@dataclass(frozen=True)
class Checked:
    path: Path
    seconds: float
    ok: bool
    detail: str


class StereoRecorder:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.partial = path.with_suffix(".part")
        self.wav = wave.open(str(self.partial), "wb")  # closed in close()
        self.wav.setnchannels(2)
        self.wav.setsampwidth(2)
        self.wav.setframerate(RATE)
        self.ticks = 0
        self.buf = array("h", bytes(SAMPLES * 4))

    def write(self, customer: bytes, agent: bytes) -> None:
        """One 20 ms tick: the customer's frame on the left, the agent's on the right."""
        self.buf[0::2] = array("h", customer)
        self.buf[1::2] = array("h", agent)
        self.wav.writeframesraw(self.buf.tobytes())
        self.ticks += 1

    def close(self) -> Checked:
        """Finish the file and check it (opened afresh, as a player would)."""
        self.wav.close()
        if self.partial.exists():  # else a reaper salvaged it already (same file, now finished here too)
            self.partial.replace(self.path)
        expected = self.ticks * SAMPLES
        with wave.open(str(self.path), "rb") as w:
            frames, channels, rate = w.getnframes(), w.getnchannels(), w.getframerate()
        ok = frames == expected and channels == 2 and rate == RATE
        detail = f"{frames} frames of {expected}, {channels} channels at {rate} Hz"
        return Checked(path=self.path, seconds=frames / RATE, ok=ok, detail=detail)


HEADER = 44  # what `wave` writes for PCM: RIFF, fmt and the data chunk's header
FRAME_BYTES = 4  # one stereo frame of 16-bit samples


def salvage(path: Path) -> Checked | None:
    """Keep what a recording had when the process writing it died (its `.part`, whose header still says 0
    frames): the header is given the length of the whole stereo frames on disk and the file its final name,
    so it plays up to the moment the process stopped (less what that process had not flushed yet, a fraction
    of a second). Nothing is read into memory or cut off: a process that was only slow and still writes
    finishes the same file itself. None when there is no part file, or not even a header in it."""
    partial = path.with_suffix(".part")
    try:
        size = partial.stat().st_size
    except FileNotFoundError:
        return None
    if size < HEADER:
        partial.unlink(missing_ok=True)  # killed before the first tick reached the disk: nothing to keep
        return None
    with partial.open("r+b") as f:
        head = f.read(HEADER)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE" or head[36:40] != b"data":
            return None  # not what our recorder writes: left as it is, for someone to look at
        data = (size - HEADER) // FRAME_BYTES * FRAME_BYTES
        f.seek(4)
        f.write(struct.pack("<I", HEADER - 8 + data))
        f.seek(40)
        f.write(struct.pack("<I", data))
    partial.replace(path)
    seconds = data / FRAME_BYTES / RATE
    return Checked(path=path, seconds=seconds, ok=True, detail=f"salvaged: {seconds:.1f} s kept")


def channels(path: Path) -> tuple[array[int], array[int]]:
    """The left (customer) and right (agent) samples of a recording."""
    with wave.open(str(path), "rb") as w:
        data = array("h", w.readframes(w.getnframes()))
    return data[0::2], data[1::2]

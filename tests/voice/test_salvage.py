"""A recording whose process died mid-call is kept: its `.part` becomes a WAV of the whole frames on disk.
A process that was only slow and finishes afterwards still ends with one complete file."""

from __future__ import annotations

import wave
from array import array
from pathlib import Path

from contactcenter.channels.voice import recording
from contactcenter.channels.voice.media import SAMPLES

LEFT = array("h", [1000] * SAMPLES).tobytes()
RIGHT = array("h", [-2000] * SAMPLES).tobytes()


def _recorder(path: Path, ticks: int) -> recording.StereoRecorder:
    rec = recording.StereoRecorder(path)
    for _ in range(ticks):
        rec.write(LEFT, RIGHT)
    rec.wav._file.flush()  # type: ignore[attr-defined]  # what was on disk when the process was killed
    return rec


def test_a_killed_recorders_file_is_kept_up_to_its_last_whole_frame(tmp_path: Path) -> None:
    path = tmp_path / "c1.wav"
    rec = _recorder(path, 50)
    with path.with_suffix(".part").open("ab") as f:
        f.write(b"\x01\x02\x03")  # half a frame: the kill landed mid-write
    kept = recording.salvage(path)
    assert kept is not None and kept.seconds == 50 * SAMPLES / recording.RATE
    assert not path.with_suffix(".part").exists()
    left, right = recording.channels(path)
    assert len(left) == len(right) == 50 * SAMPLES
    assert set(left) == {1000} and set(right) == {-2000}
    del rec  # the killed process's writer: never closed


def test_a_slow_writer_that_finishes_after_the_salvage_leaves_one_complete_file(tmp_path: Path) -> None:
    path = tmp_path / "c2.wav"
    rec = _recorder(path, 10)
    assert recording.salvage(path) is not None
    for _ in range(15):
        rec.write(LEFT, RIGHT)
    checked = rec.close()
    assert checked.ok, checked.detail
    with wave.open(str(path), "rb") as w:
        assert w.getnframes() == 25 * SAMPLES


def test_nothing_to_keep(tmp_path: Path) -> None:
    assert recording.salvage(tmp_path / "none.wav") is None
    stub = tmp_path / "c3.part"
    stub.write_bytes(b"RIFF")  # killed before the first tick reached the disk
    assert recording.salvage(tmp_path / "c3.wav") is None
    assert not stub.exists() and not (tmp_path / "c3.wav").exists()


def test_a_file_that_is_not_our_recording_is_left_alone(tmp_path: Path) -> None:
    odd = tmp_path / "c4.part"
    odd.write_bytes(b"JUNK" + bytes(100))
    assert recording.salvage(tmp_path / "c4.wav") is None
    assert odd.read_bytes() == b"JUNK" + bytes(100)  # never deleted or rewritten

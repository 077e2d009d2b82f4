"""The hub's bus watch: a slow answer from a busy process is not an outage; a bus that stays unanswered is."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from contactcenter.bus.memory import MemoryBus
from contactcenter.db import Database
from contactcenter.realtime import hub as hub_module
from contactcenter.realtime.hub import Hub


class StallingBus(MemoryBus):
    """Its epoch check hangs (past the hub's timeout) for the next `stalls` calls, then answers."""

    def __init__(self) -> None:
        super().__init__()
        self.stalls = 0
        self.answered = asyncio.Event()
        self.called = asyncio.Event()

    async def epoch(self) -> str:
        self.called.set()
        if self.stalls:
            self.stalls -= 1
            await asyncio.Event().wait()  # never set: the hub's timeout ends it
        self.answered.set()
        return "same-epoch"


async def _watch(bus: StallingBus, tmp_path: Path, stalls: int) -> int:
    """How many times the hub resynced every socket after `stalls` slow epoch checks in a row."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")  # the watch itself reads nothing
    hub = Hub(bus, db)
    resyncs = 0

    async def counted() -> None:
        nonlocal resyncs
        resyncs += 1

    hub.resync_all = counted  # type: ignore[method-assign]
    watcher = asyncio.create_task(hub._watch_epoch())
    try:
        await asyncio.wait_for(bus.answered.wait(), 10)  # the first answer: the epoch is known
        bus.answered.clear()
        bus.stalls = stalls
        while bus.stalls or not bus.answered.is_set():  # every stall timed out, then one answer came
            await asyncio.wait_for(bus.answered.wait(), 10)
        # The answer after the stalls is handled before the next check starts.
        bus.called.clear()
        await asyncio.wait_for(bus.called.wait(), 10)
    finally:
        watcher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watcher
        await db.dispose()
    return resyncs


@pytest.fixture(autouse=True)
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "EPOCH_TIMEOUT_S", 0.05)
    monkeypatch.setattr(hub_module, "EPOCH_EVERY_S", 0.01)


async def test_one_slow_epoch_check_does_not_resync_every_socket(tmp_path: Path) -> None:
    assert await _watch(StallingBus(), tmp_path, stalls=hub_module.SLOW_EPOCHS - 1) == 0


async def test_a_bus_unanswered_several_times_in_a_row_resyncs_every_socket(tmp_path: Path) -> None:
    assert await _watch(StallingBus(), tmp_path, stalls=hub_module.SLOW_EPOCHS) >= 1

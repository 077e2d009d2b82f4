"""The shutdown is bounded per step: a capability whose stop never returns is named in the log, the steps
after it still run, and the process stops (an operator's restart must not hang on one part)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from fastapi import APIRouter

from contactcenter import app as app_module
from contactcenter.capabilities import AppContext
from contactcenter.settings import Settings
from tests.chat.conftest import serve
from tests.cobrowse.test_control import info_logs


class Stuck:
    name = "stuck"

    def routers(self) -> Sequence[APIRouter]:
        return []

    async def start(self, ctx: AppContext) -> None:
        pass

    async def stop(self) -> None:
        await asyncio.Event().wait()  # never set: a stop that hangs


class Recorder(Stuck):
    name = "recorder"

    def __init__(self) -> None:
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True


async def test_a_stop_that_hangs_is_cut_short_named_and_the_rest_still_stop(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "STOP_TIMEOUT_S", 0.3)
    recorder = Recorder()
    running = serve(settings, extra=[recorder, Stuck()])
    await running.__aenter__()
    with info_logs() as logs:  # after the start, which configures logging
        # Capabilities stop in reverse order: the stuck one first, then the recorder.
        await running.__aexit__(None, None, None)
    timed_out = [e for e in logs if e["event"] == "stop_timed_out"]
    assert [e["step"] for e in timed_out] == ["stuck"]
    assert recorder.stopped
    assert any(e["event"] == "stopped" for e in logs)  # the database and the bus were closed after it

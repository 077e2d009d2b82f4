"""The rule worker pool on its own: answers, zen's refusals, a run past the CPU limit killed and the next run
served by a fresh worker, and no orphan left burning a core when the app process is SIGKILLed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contactcenter.suggestions.sandbox import RuleError, RuleTimeout, Sandbox
from tests.suggestions.test_runaway import RUNAWAY

ROOT = Path(__file__).resolve().parents[2]


def graph(expr: str) -> str:
    """A one-node decision: an expression node answering `x`."""
    nodes = [
        {"id": "in", "type": "inputNode", "name": "in"},
        {"id": "e", "type": "expressionNode", "name": "e", "content": {"expressions": [
            {"id": "1", "key": "x", "value": expr}
        ]}},
        {"id": "out", "type": "outputNode", "name": "out"},
    ]  # fmt: skip
    edges = [{"id": "a", "sourceId": "in", "targetId": "e"}, {"id": "b", "sourceId": "e", "targetId": "out"}]
    return json.dumps({"nodes": nodes, "edges": edges})


async def test_runs_refusals_and_a_runaway_stopped() -> None:
    box = Sandbox(workers=1, time_limit_s=0.5)
    try:
        assert await box.run("sum", graph("a + 1"), {"a": 41}) == {"x": 42}
        with pytest.raises(RuleError):
            await box.run("bad", graph("a + 'text'"), {"a": None})
        with pytest.raises(RuleTimeout):
            await box.run("slow", graph(RUNAWAY), {})
        # A fresh worker (the old one was killed) loads what it needs again.
        assert await box.run("sum", graph("a + 1"), {"a": 1}) == {"x": 2}
    finally:
        await box.close()


PARENT = f"""
import asyncio, sys
from contactcenter.suggestions.sandbox import Sandbox, _cpu_s
from tests.suggestions.test_sandbox import graph
async def main():
    box = Sandbox(workers=1, time_limit_s=60)
    task = asyncio.create_task(box.run("slow", graph({RUNAWAY!r}), {{}}))
    while "slow" not in box._all[0].keys:  # loaded: the run itself has been sent
        await asyncio.sleep(0.01)
    pid = box._all[0].proc.pid
    while (_cpu_s(pid) or 0) < 0.3:  # and is under way
        await asyncio.sleep(0.01)
    print(pid, flush=True)
    await task
asyncio.run(main())
"""


def test_the_worker_dies_with_the_app_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{worker}").exists() and "Z" not in _state(worker):
        assert time.monotonic() < deadline, "the worker outlived its app process"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


async def test_the_event_loop_stays_free_during_a_run() -> None:
    box = Sandbox(workers=1, time_limit_s=0.5)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    try:
        with pytest.raises(RuleTimeout):
            await box.run("slow", graph(RUNAWAY), {})
    finally:
        ticker.cancel()
        await box.close()
    assert ticks > 100  # the loop kept turning while zen ran in the worker

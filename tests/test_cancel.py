"""Background loops stop when cancelled, even when the cancel lands just as their wake-up event is set. On
Python 3.11 `asyncio.wait_for` swallows such a cancel, so the loop went on and the app's shutdown waited for
ever (CI: a 120 s teardown time-out in tests/email/test_ack.py). The workers wait with asyncio.timeout."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from contactcenter.bus.memory import MemoryBus
from contactcenter.channels.email.sender import Sender
from contactcenter.webhooks.plugin import WebhooksCapability


async def _cancel_as_woken(task: asyncio.Task[None], wake: asyncio.Event) -> bool:
    """Set the event and cancel the task in the same moment; True if the task then ended."""
    for _ in range(20):  # let it reach its wait
        await asyncio.sleep(0)
    wake.set()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    if not done:  # put it out of its misery so the test ends
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
    return bool(done)


class _Idle:
    attempted = 0

    async def run_once(self) -> int:
        return 0


@pytest.mark.parametrize("worker", ["email-sender", "webhooks"])
async def test_a_worker_cancelled_as_it_is_woken_stops(worker: str) -> None:
    if worker == "email-sender":
        sender = Sender.__new__(Sender)  # only its loop runs: run_once finds nothing to do
        sender.wake, sender.poll_s = asyncio.Event(), 30.0
        sender.run_once = _Idle().run_once  # type: ignore[method-assign]
        assert await _cancel_as_woken(asyncio.create_task(sender._run()), sender.wake)
    else:
        hooks = WebhooksCapability.__new__(WebhooksCapability)
        hooks.wake, hooks.poll_s, hooks.attempted = asyncio.Event(), 30.0, 0
        hooks.deliverer = _Idle()  # type: ignore[assignment]
        assert await _cancel_as_woken(asyncio.create_task(hooks._work()), hooks.wake)


async def test_the_memory_bus_stream_wait_is_cancellable_as_it_is_woken() -> None:
    bus = MemoryBus()
    task = asyncio.create_task(bus.wait("s", "0-0", 30))
    for _ in range(20):
        await asyncio.sleep(0)
    await bus.append("s", "x")
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done and task.cancelled()

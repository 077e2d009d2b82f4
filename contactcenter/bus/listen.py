"""The one way a capability listens to the bus for as long as it runs: subscribe, hand every message over,
and when the bus is lost (Redis restarting) log it, wait a growing delay and subscribe again, telling the
caller it was away so it can catch up from the database (what was published meanwhile is gone)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import structlog

from contactcenter.bus.base import Bus, BusMessage

log = structlog.get_logger("bus")
FIRST_DELAY_S, MAX_DELAY_S = 0.1, 2.0


async def listen(
    bus: Bus,
    topics: Sequence[str],
    on_message: Callable[[BusMessage], Awaitable[None]],
    *,
    what: str,
    subscribed: asyncio.Event | None = None,
    on_subscribed: Callable[[bool], Awaitable[None]] | None = None,
) -> None:
    """Run until cancelled. `subscribed` is set while subscribed (tests wait on it); `on_subscribed(lost)`
    runs on every subscription, `lost` True when an earlier one was lost. A handler's exception counts as a
    lost subscription: the listener lives on."""
    delay, lost = FIRST_DELAY_S, False
    while True:
        try:
            async with bus.subscribe(*topics) as sub:
                if subscribed is not None:
                    subscribed.set()
                if on_subscribed is not None:
                    await on_subscribed(lost)
                delay, lost = FIRST_DELAY_S, False
                while True:
                    msg = await sub.get(timeout=None)
                    if msg is not None:
                        await on_message(msg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if subscribed is not None:
                subscribed.clear()
            lost = True
            log.warning("bus_subscription_lost", what=what, error=repr(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)

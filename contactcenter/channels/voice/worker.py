"""`contactcenter voice-worker`: a process that bridges calls and serves nothing else (decision 57). Web
processes started with CC_VOICE_WORKERS=external place every new call on the worker with the fewest calls
and forward the frames of each call to its worker over the bus. Start as many as the calls need (about 8 per
core, bench/voice.py); they share the database, Redis and the recordings directory with the web processes.

The worker writes what a call's end needs (the conversation closed, the agent freed, the touch logged), so it
routes like a web process: the same routing state over the same Redis."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog

from contactcenter.bus import make_bus
from contactcenter.capabilities import discover
from contactcenter.channels.voice.host import Host
from contactcenter.channels.voice.plugin import pin_host_addresses
from contactcenter.db import Database
from contactcenter.ops.service import setup_logging
from contactcenter.routing import service as routing
from contactcenter.settings import Settings

log = structlog.get_logger("voice")


class WorkerError(RuntimeError):
    """The worker cannot run with these settings."""


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Bridge calls until SIGTERM/SIGINT (or `stop`); the calls still up then end as `shutdown`."""
    if not settings.redis_url:
        raise WorkerError("a voice worker shares Redis with the web processes: set CC_REDIS_URL")
    setup_logging(settings)
    discover()  # every channel's conversations are known (a freed agent may be handed a chat)
    pin_host_addresses(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    db = Database(settings.database_url)
    bus = make_bus(settings)
    await bus.start()
    routing.attach_configured(bus, settings)
    host = Host(db, bus, settings)
    try:
        async with db.session() as s:
            await routing.load(s, bus)
        await host.start()
        log.info("voice_worker_ready", host=host.id, max_calls=settings.voice_max_calls)
        await stop.wait()
        log.info("voice_worker_stopping", calls=host.load())
    finally:
        await host.stop()
        await bus.close()
        await db.dispose()

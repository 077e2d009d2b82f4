"""The app stops when asked, even right after it started: a cancel that lands inside the routing sweeper's
first tick (on PostgreSQL + Redis, connections still being opened) used to be swallowed, and the lifespan's
shutdown then waited on the sweeper for ever."""

from __future__ import annotations

import asyncio

from contactcenter.app import create_app
from contactcenter.settings import Settings


async def test_the_app_stops_right_after_it_started(settings: Settings) -> None:
    for _ in range(3):
        app = create_app(settings)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        stopping = asyncio.ensure_future(lifespan.__aexit__(None, None, None))
        # Generous: a hang shows as this failure, not as a pytest-timeout in some later test's teardown.
        done, _ = await asyncio.wait({stopping}, timeout=60)
        assert done, "the app did not stop: " + ", ".join(sorted(t.get_name() for t in asyncio.all_tasks()))

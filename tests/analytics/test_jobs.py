"""The full analytics run as a job: two schedulers (processes) that see it due at the same moment run it once,
the CLI refuses while a run holds the lease, and a holder that died lets the lease lapse."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from asyncio.subprocess import PIPE
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from contactcenter.analytics import jobs
from contactcenter.analytics.figures import Config
from contactcenter.analytics.models import AnalyticsRun
from contactcenter.bus.memory import MemoryBus
from contactcenter.db import Database, utcnow
from contactcenter.settings import Settings
from tests.analytics.dataset import build


async def _runs(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(AnalyticsRun)) or 0)


async def test_two_processes_claiming_at_once_get_one_lease(db: Database) -> None:
    async def one(name: str) -> bool:
        async with db.session() as s:
            return await jobs.claim(s, holder=name)

    got = await asyncio.gather(*(one(f"p{i}") for i in range(6)))
    assert sorted(got) == [False] * 5 + [True]
    async with db.session() as s:
        lease = await jobs.holder(s)
        assert lease is not None and lease.holder == f"p{got.index(True)}"
        assert not await jobs.claim(s, holder="late")
        await jobs.release(s, holder="someone-else")  # only the holder's release counts
        assert await jobs.holder(s) is not None
        await jobs.release(s, holder=lease.holder)
        assert await jobs.holder(s) is None and await jobs.claim(s, holder="next")


async def test_a_lease_whose_holder_died_lapses(db: Database) -> None:
    long_ago = utcnow() - jobs.LEASE - timedelta(minutes=1)
    async with db.session() as s:
        assert await jobs.claim(s, holder="died", now=long_ago)
        assert await jobs.holder(s) is None  # its time is up
        assert await jobs.claim(s, holder="alive")


async def test_schedulers_on_two_processes_run_a_due_job_once(db: Database) -> None:
    async with db.session() as s:
        await build(s, now=utcnow())
    config = Config.from_settings(Settings(analytics_min_baskets=2))
    bus = MemoryBus()
    # Two schedulers see the job due at the same moment (no run yet): only one runs it.
    results = await asyncio.gather(*(jobs.run_once(db, bus, config=config) for _ in range(2)))
    assert sum(r is not None for r in results) == 1 and await _runs(db) == 1
    async with db.session() as s:
        assert not await jobs.due(s, every=timedelta(hours=24))
        assert await jobs.due(s, every=timedelta(hours=24), now=utcnow() + timedelta(hours=25))
        assert await jobs.holder(s) is None  # released after the run


async def test_the_cli_refuses_while_another_run_holds_the_lease(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    try:
        async with db.session() as s:
            assert await jobs.claim(s, holder="server-1:4242:ab")
        env = {**os.environ, "CC_DATABASE_URL": url, "CC_LOG_JSON": "false"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "contactcenter", "analytics", "run", env=env, stdout=PIPE, stderr=PIPE
        )
        _out, err = (b.decode() for b in await asyncio.wait_for(proc.communicate(), 120))
        assert proc.returncode == 1
        assert "another run is going on (server-1:4242:ab, since" in err
        assert await _runs(db) == 0
    finally:
        await db.dispose()

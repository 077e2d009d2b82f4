"""`contactcenter analytics run` as a real process: progress per stage, the figures stored."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

from contactcenter.analytics import service
from contactcenter.db import Database, utcnow
from tests.analytics.dataset import build


async def test_analytics_run_command(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    try:
        async with db.session() as s:
            ids = await build(s, now=utcnow())
        env = {**os.environ, "CC_DATABASE_URL": url, "CC_ANALYTICS_MIN_BASKETS": "2", "CC_LOG_JSON": "false"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "contactcenter", "analytics", "run", env=env, stdout=PIPE, stderr=PIPE
        )
        out, err = (b.decode() for b in await asyncio.wait_for(proc.communicate(), 120))
        assert proc.returncode == 0, err
        assert "analytics: 22 customers, 38 order lines, " in out
        # Not a terminal: one line per stage, when it is done.
        stages = [line.split("[")[0].strip() for line in err.splitlines() if "[" in line]
        assert stages[:2] == ["reading orders", "counting pairs"] and "writing customer_values" in stages
        assert all(line.endswith(("38/38", "1/1")) or "writing" in line for line in err.splitlines())
        async with db.session() as s:
            c5 = await service.figures(s, customer_id=ids[5])
            run = await service.last_run(s)
        assert c5 is not None and (c5.tier, c5.previous_tier) == ("silver", "platinum")
        assert run is not None and run.order_lines == 38
    finally:
        await db.dispose()

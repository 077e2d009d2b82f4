"""The demo accounts' passwords are public: seed-demo refuses any database but the embedded default unless
--force, and a server warns at start-up while a demo account still opens with its demo password."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from sqlalchemy import func, select, update

from contactcenter.auth.models import StaffUser
from contactcenter.db import Database
from contactcenter.demo.check import demo_accounts_open
from tests.conftest import psql
from tests.procs import app_process, cli
from tests.services import PostgresServer

SECRET = "demo-guard-secret-" + "d" * 32


async def _users(url: str) -> int:
    db = Database(url)
    try:
        async with db.session() as s:
            return int(await s.scalar(select(func.count()).select_from(StaffUser)) or 0)
    finally:
        await db.dispose()


async def test_seed_demo_refuses_postgresql_unless_forced(pg_server: PostgresServer) -> None:
    psql(pg_server, "CREATE DATABASE demo_guard")
    env = {"CC_DATABASE_URL": pg_server.url("demo_guard"), "CC_SECRET_KEY": SECRET}
    assert cli(env, "migrate").returncode == 0
    refused = cli(env, "seed-demo", "--customers", "3")
    assert refused.returncode == 2 and "--force" in refused.stderr, refused.stderr
    assert await _users(pg_server.url("demo_guard")) == 0
    forced = cli(env, "seed-demo", "--customers", "3", "--force")
    assert forced.returncode == 0, forced.stderr
    assert await _users(pg_server.url("demo_guard")) == 5


def _events(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


async def test_start_up_warns_while_demo_accounts_keep_their_public_passwords(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}"
    env = {"CC_DATABASE_URL": url, "CC_SECRET_KEY": SECRET}
    assert cli(env, "migrate").returncode == 0
    seeded = cli(env, "seed-demo", "--customers", "3")  # the embedded default: no --force needed
    assert seeded.returncode == 0, seeded.stderr
    log = tmp_path / "server.log"
    with app_process(env, log):
        deadline = time.monotonic() + 60  # the check runs beside the start-up (it hashes five passwords)
        while not (warned := [e for e in _events(log) if e.get("event") == "demo_accounts_present"]):
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            await asyncio.sleep(0.1)
    assert warned[0]["level"] == "warning"
    assert warned[0]["usernames"] == ["admin", "alice", "bob", "pat", "sam"]

    db = Database(url)
    try:
        async with db.session() as s:  # the admin deactivated, alice's password changed: no longer open
            await s.execute(update(StaffUser).where(StaffUser.username == "admin").values(active=False))
            await s.execute(update(StaffUser).where(StaffUser.username == "alice").values(password_hash="x"))
            await s.commit()
        assert await demo_accounts_open(db) == ["bob", "pat", "sam"]
    finally:
        await db.dispose()

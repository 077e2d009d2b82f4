"""The real command line and several app processes sharing PostgreSQL and Redis."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import httpx
import pytest

from contactcenter.app import create_app
from contactcenter.settings import Settings
from tests.conftest import psql
from tests.procs import app_process, cli
from tests.services import PostgresServer, RedisServer

SECRET = "multi-process-secret-" + "z" * 30


def test_cli_migrates_adds_a_user_and_serves_the_embedded_defaults(tmp_path: Path) -> None:
    env = {"CC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}", "CC_SECRET_KEY": SECRET}
    assert cli(env, "migrate").returncode == 0
    made = cli(env, "user", "add", "carol", "--role", "agent", "--password", "carol-long-pass")
    assert made.returncode == 0, made.stderr
    again = cli(env, "user", "add", "carol", "--role", "agent", "--password", "carol-long-pass")
    assert again.returncode == 1 and "username_taken" in again.stderr
    assert cli(env, "user", "add", "dan", "--role", "agent", "--password", "short").returncode == 2
    with app_process(env) as base:
        ready = httpx.get(f"{base}/readyz").json()
        assert ready == {"status": "ok", "database": True, "bus": True, "bus_backend": "memory"}
        with httpx.Client(base_url=base) as c:
            assert c.post("/api/session", json={"username": "carol", "password": "carol-long-pass"}).status_code == 200
            assert c.get("/staff/customers").status_code == 200


def test_two_processes_share_sessions_and_login_limits(
    pg_server: PostgresServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    psql(pg_server, "CREATE DATABASE multiproc")
    env = {"CC_DATABASE_URL": pg_server.url("multiproc"), "CC_REDIS_URL": redis_server.url, "CC_SECRET_KEY": SECRET}
    assert cli(env, "migrate").returncode == 0
    assert cli(env, "user", "add", "erin", "--role", "supervisor", "--password", "erin-long-pass").returncode == 0
    # Each process logs to a file of this test's own: an older run's var/proc-*.log cannot satisfy the check.
    logs = [tmp_path / "proc-a.log", tmp_path / "proc-b.log"]
    with app_process(env, log_path=logs[0]) as a, app_process(env, log_path=logs[1]) as b:
        assert httpx.get(f"{a}/readyz").json()["bus_backend"] == "redis"
        with httpx.Client(base_url=a) as ca:
            me = ca.post("/api/session", json={"username": "erin", "password": "erin-long-pass"}).json()
            cookie = ca.cookies.get("cc_session")
        with httpx.Client(
            base_url=b, cookies={"cc_session": cookie or ""}, headers={"X-CSRF-Token": me["csrf_token"]}
        ) as cb:
            assert cb.get("/api/me").json()["user"]["username"] == "erin"
            made = cb.post("/api/customers", json={"display_name": "Made on B"})
            assert made.status_code == 201
        with httpx.Client(base_url=a, cookies={"cc_session": cookie or ""}) as ca2:
            assert ca2.get(f"/api/customers/{made.json()['id']}").json()["display_name"] == "Made on B"
        # Failures spread over both processes hit one shared counter.
        codes = [
            httpx.post(f"{url}/api/session", json={"username": "erin", "password": "nope"}).status_code
            for url in (a, b, a, b, a, b)
        ]
        assert codes == [401, 401, 401, 401, 401, 429]
    # Read once the processes have exited (their output is flushed): each logged its start, as JSON.
    for f in logs:
        events = [json.loads(line) for line in f.read_text().splitlines() if line.startswith("{")]
        assert any(e.get("event") == "started" and e.get("bus") == "redis" for e in events), f.read_text()[-2000:]


@pytest.mark.parametrize("settings", ["sqlite+memory"], indirect=True)
async def test_the_served_app_takes_its_start_up_objects_out_of_the_cyclic_gc(settings: Settings) -> None:
    """`contactcenter serve` freezes what start-up built (modules, routes, rules), so full collections under
    load walk only what the sockets hold; the test process gets its objects back afterwards."""
    app = create_app(settings, freeze_gc=True)
    try:
        async with app.router.lifespan_context(app):
            frozen = gc.get_freeze_count()
            assert frozen > 50_000  # the imported modules alone are tens of thousands of objects
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as h:
                assert (await h.get("/readyz")).status_code == 200
    finally:
        gc.unfreeze()

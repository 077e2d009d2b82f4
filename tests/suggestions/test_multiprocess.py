"""Two real app processes on PostgreSQL and redis-server: a rule published (or rolled back) on one is what the
other evaluates next, without a restart, well before the safety poll could have done it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from contactcenter.auth.models import StaffUser
from contactcenter.db import Database
from contactcenter.suggestions.runtime import POLL_S
from tests.chat.multiproc import AppProc, Deployment, app_processes, fresh_deployment, staff_login
from tests.procs import cli
from tests.services import PostgresServer, RedisServer
from tests.suggestions.helpers import conversation, customer, demo_rule, table

SECRET = "multi-process-rules-secret-" + "r" * 30


@pytest.fixture
def deployment(pg_server: PostgresServer, redis_server: RedisServer) -> Deployment:
    dep = fresh_deployment(pg_server, redis_server, SECRET)
    made = cli(dep.env, "user", "add", "pat", "--role", "planner", "--name", "Pat", "--password", "pat-long-pass")
    assert made.returncode == 0, made.stderr
    return dep


@pytest.fixture
def procs(deployment: Deployment) -> Iterator[list[AppProc]]:
    with app_processes(deployment.env, 2) as ps:
        yield ps


async def _client(base: str, user: str, password: str) -> httpx.AsyncClient:
    cookie, csrf = await staff_login(base, user, password)
    return httpx.AsyncClient(base_url=base, cookies={"cc_session": cookie}, headers={"X-CSRF-Token": csrf})


async def _until(get: Any, ok: Any, limit: float) -> float:
    """Seconds until ok(await get()) holds; fails after `limit`."""
    began = time.monotonic()
    while True:
        if ok(await get()):
            return time.monotonic() - began
        assert time.monotonic() - began < limit, "the other process never used the new version"
        await asyncio.sleep(0.02)


async def test_a_publish_on_one_process_is_used_by_the_other(deployment: Deployment, procs: list[AppProc]) -> None:
    a, b = procs
    db = Database(deployment.database_url)
    try:
        async with db.session() as s:
            agent_id = await s.scalar(select(StaffUser.id).where(StaffUser.username == deployment.agent))
            cid = await customer(s, name="Grace Gold", value_tier="gold")
            conv = await conversation(
                s, customer_id=cid, agent_id=agent_id, page="https://bank.example/funds/global-equity"
            )
    finally:
        await db.dispose()
    agent = await _client(b.base, deployment.agent, deployment.agent_password)
    planner = await _client(a.base, "pat", "pat-long-pass")
    async with agent, planner:

        async def seen() -> list[tuple[str, int, str]]:
            r = await agent.get(f"/api/conversations/{conv}/suggestions")
            assert r.status_code == 200, r.text
            return [(x["rule_id"], x["version"], x["reason"]) for x in r.json()["suggestions"]]

        assert await seen() == [("fund-advisor", 1, "Gold or platinum customer reading about funds right now")]

        edited = demo_rule("fund-advisor")
        rows = table(edited)["rules"]
        rows.insert(0, {**rows[0], "_id": "fund-advisor-edited", "out_reason": '"Edited in version 2"'})
        r = await planner.post("/api/rules/fund-advisor/publish", json={"content": edited, "comment": "new row"})
        assert r.status_code == 200 and r.json()["version"] == 2, r.text
        took = await _until(seen, lambda got: ("fund-advisor", 2, "Edited in version 2") in got, POLL_S)
        print(f"publish on one process used by the other after {took * 1000:.0f} ms")

        bad = demo_rule("fund-advisor")
        bad["nodes"].append({"id": "js", "type": "functionNode", "name": "JS", "content": {"source": "1"}})
        r = await planner.post("/api/rules/fund-advisor/publish", json={"content": bad, "comment": "js"})
        assert r.status_code == 422 and r.json()["error"] == "invalid_rule"
        r = await planner.post("/api/rules/fund-advisor/rollback", json={"version": 1, "comment": "undo"})
        assert r.status_code == 200 and r.json()["version"] == 3
        took = await _until(seen, lambda got: all(v != 2 for _, v, _ in got), POLL_S)
        print(f"rollback used by the other process after {took * 1000:.0f} ms")
        assert await seen() == [("fund-advisor", 1, "Gold or platinum customer reading about funds right now")]

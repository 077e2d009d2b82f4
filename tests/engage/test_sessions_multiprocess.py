"""Browsing sessions across two real app processes sharing PostgreSQL and redis-server: one visitor's
beacons, sent at once to both processes (two tabs behind a load balancer), make one session with every
page counted; none is lost and none starts a second open session."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from contactcenter.db import Database
from contactcenter.engage.models import BrowseSession
from tests.chat.multiproc import AppProc, Deployment, app_processes, fresh_deployment, visitor_token
from tests.services import PostgresServer, RedisServer

SECRET = "multi-process-sessions-secret-" + "s" * 30
PLAIN = {"Content-Type": "text/plain;charset=UTF-8"}
FUND = "https://bank.example/demo/funds/global-equity.html"
CONTACT = "https://bank.example/demo/contact.html"


@pytest.fixture
def deployment(pg_server: PostgresServer, redis_server: RedisServer) -> Deployment:
    return fresh_deployment(pg_server, redis_server, SECRET)


@pytest.fixture
def procs(deployment: Deployment) -> Iterator[list[AppProc]]:
    with app_processes(deployment.env, 2) as ps:
        yield ps


async def test_beacons_to_two_processes_at_once_make_one_session(deployment: Deployment, procs: list[AppProc]) -> None:
    a, b = procs
    token = await visitor_token(a.base)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=a.base) as h:
        version = (await h.get("/api/consent/policy")).json()["version"]
        r = await h.post("/api/consent", json={"version": version, "storage": True, "browsing": True}, headers=auth)
        assert r.status_code == 200, r.text
    async with httpx.AsyncClient(base_url=a.base) as ha, httpx.AsyncClient(base_url=b.base) as hb:

        async def beacon(n: int) -> httpx.Response:
            url = FUND if n % 3 == 0 else CONTACT
            view = {"url": url, "title": "Page", "at": datetime.now(UTC).isoformat(), "seconds": n}
            body = json.dumps({"token": token, "views": [view]})
            return await (ha if n % 2 else hb).post("/api/consent/pageviews", content=body, headers=PLAIN)

        replies = await asyncio.gather(*(beacon(n) for n in range(16)))
    assert [r.status_code for r in replies] == [202] * 16, [r.text for r in replies]
    db = Database(deployment.database_url)
    try:
        async with db.session() as s:
            rows = list(await s.scalars(select(BrowseSession)))
    finally:
        await db.dispose()
    assert [(r.pages, r.product_pages, r.is_open) for r in rows] == [(16, 6, True)]

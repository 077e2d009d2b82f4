"""CSAT across two real app processes sharing PostgreSQL and redis-server: the agent on one closes the chat,
the customer on the other is asked once (both processes hear the close; the first to record the ask pushes),
rates through their own process, and the other process's figures count it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.chat.conftest import Client
from tests.chat.multiproc import AppProc, Deployment, app_processes, fresh_deployment, staff_login, visitor_token
from tests.procs import cli
from tests.services import PostgresServer, RedisServer

SECRET = "multi-process-csat-secret-" + "s" * 30


@pytest.fixture
def deployment(pg_server: PostgresServer, redis_server: RedisServer) -> Deployment:
    dep = fresh_deployment(pg_server, redis_server, SECRET)
    made = cli(dep.env, "user", "add", "sam", "--role", "supervisor", "--name", "Sam", "--password", "sam-long-pass")
    assert made.returncode == 0, made.stderr
    return dep


@pytest.fixture
def procs(deployment: Deployment) -> Iterator[list[AppProc]]:
    with app_processes(deployment.env, 2) as ps:
        yield ps


async def test_asked_once_across_processes_and_counted_by_the_other(
    deployment: Deployment, procs: list[AppProc]
) -> None:
    a, b = procs
    cookie, _ = await staff_login(b.base, deployment.agent, deployment.agent_password)
    token = await visitor_token(a.base)
    async with (
        websockets.connect(b.ws_url, additional_headers={"Cookie": f"cc_session={cookie}"}) as aws,
        websockets.connect(a.ws_url) as cws,
    ):
        agent, cust = Client(aws), Client(cws)
        await agent.send({"type": "hello", "v": 1, "resume": {}})
        await agent.next("welcome")
        await cust.send({"type": "hello", "v": 1, "token": token, "resume": {}})
        await cust.next("welcome")
        await cust.send({"type": "start", "name": "Ann", "topic": "Mortgage"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation", timeout=10)
        await cust.say(cid, "hello")
        await agent.send({"type": "close", "conversation_id": cid})
        asked = await cust.next("csat_ask", timeout=10, conversation_id=cid)
        assert asked["agent_name"] == "Alice"
        async with httpx.AsyncClient(base_url=a.base) as h:
            r = await h.post(
                "/api/csat/ratings",
                json={"conversation_id": cid, "score": 5, "comment": "Great"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 201, r.text
        sam_cookie, _ = await staff_login(b.base, "sam", "sam-long-pass")
        async with httpx.AsyncClient(base_url=b.base, cookies={"cc_session": sam_cookie}) as h:
            got = (await h.get("/api/csat/stats")).json()
        assert got["overall"]["count"] == 1 and got["overall"]["satisfied_pct"] == 100.0
        assert [q["name"] for q in got["agents"]] == ["Alice"]
        # After all that, a round trip on the customer's socket: still the one ask.
        await cust.send({"type": "ping", "t": 1.0})
        await cust.next("pong")
        asks = [f for f in cust.frames if f["type"] == "csat_ask"]
        assert [json.dumps(f, sort_keys=True) for f in asks] == [json.dumps(asked, sort_keys=True)]

"""Anonymous floods (issue 11, item 3): one address cannot fill the agents with junk chats. Each test performs the
flood against a real server (both deployments), and the limits hold across two processes sharing Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from contactcenter.settings import Settings
from tests.chat.conftest import Client, Live
from tests.chat.multiproc import app_processes, check_server_frame, fresh_deployment
from tests.chat.test_attachments_transcript import PNG, bearer, upload
from tests.services import PostgresServer, RedisServer


@contextlib.asynccontextmanager
async def visitor(ws_url: str, token: str) -> AsyncIterator[Client]:
    async with websockets.connect(ws_url) as ws:
        c = Client(ws)
        await c.send({"type": "hello", "v": 1, "token": token, "resume": {}})
        await c.next("welcome")
        yield c


async def new_token(base: str) -> str:
    async with httpx.AsyncClient(base_url=base) as h:
        r = await h.post("/api/visitors")
        assert r.status_code == 201, r.text
        token: str = r.json()["token"]
        return token


async def start(c: Client) -> dict[str, Any]:
    """Send a start; the conversation frame, or the error frame refusing it."""
    await c.send({"type": "start", "name": "Junk"})
    async with asyncio.timeout(5):
        while True:
            f = check_server_frame(await c.ws.recv())
            if f["type"] == "conversation" or (f["type"] == "error" and f.get("ref") == "start"):
                return f


async def close(c: Client, conversation_id: str) -> None:
    await c.send({"type": "close", "conversation_id": conversation_id})
    async with asyncio.timeout(5):
        while True:
            f = await c.next("conversation")
            if f["conversation"]["id"] == conversation_id and f["conversation"]["status"] == "closed":
                return


@pytest.fixture
def tight(settings: Settings) -> Settings:
    """Low limits, set before the server starts (request it before `live`)."""
    settings.chat_open_per_address = 3
    settings.chat_new_per_address_per_hour = 100
    settings.chat_new_per_visitor_per_hour = 100
    settings.chat_new_per_queue_per_minute = 100
    return settings


async def test_one_address_opens_only_so_many_chats_at_once(tight: Settings, live: Live) -> None:
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(visitor(live.ws_url, await new_token(live.base))) for _ in range(5)]
        answers = [await start(c) for c in clients]
        assert [a["type"] for a in answers] == ["conversation"] * 3 + ["error"] * 2
        refused = answers[3]
        assert refused["code"] == "too_many_chats" and refused["retry_after"] > 0, refused
        # A visitor with an open chat asking again gets that chat, not a refusal (a reload of the page).
        again = await start(clients[0])
        assert again["type"] == "conversation" and again["conversation"]["id"] == answers[0]["conversation"]["id"]
        # One chat ends: the address may open one more.
        await close(clients[0], answers[0]["conversation"]["id"])
        assert (await start(clients[3]))["type"] == "conversation"
        assert (await start(clients[4]))["code"] == "too_many_chats"


async def test_one_visitor_starts_only_so_many_chats_an_hour(tight: Settings, live: Live) -> None:
    tight.chat_new_per_visitor_per_hour = 2
    async with visitor(live.ws_url, await new_token(live.base)) as c:
        for _ in range(2):
            conv = (await start(c))["conversation"]
            await close(c, conv["id"])
        refused = await start(c)
    assert refused["type"] == "error" and refused["code"] == "too_many_chats"
    assert 0 < refused["retry_after"] <= 3600


async def test_one_address_starts_only_so_many_chats_an_hour(tight: Settings, live: Live) -> None:
    tight.chat_new_per_address_per_hour = 2
    codes = []
    for _ in range(3):
        async with visitor(live.ws_url, await new_token(live.base)) as c:
            f = await start(c)
            codes.append(f.get("code", f["type"]))
    assert codes == ["conversation", "conversation", "too_many_chats"]


async def test_past_the_queue_limit_everyone_hears_we_are_busy(tight: Settings, live: Live) -> None:
    tight.chat_new_per_queue_per_minute = 2
    answers = []
    for _ in range(3):
        async with visitor(live.ws_url, await new_token(live.base)) as c:
            answers.append(await start(c))
    assert [a["type"] for a in answers] == ["conversation", "conversation", "error"]
    assert answers[2]["code"] == "busy" and 0 < answers[2]["retry_after"] <= 60
    assert "busy" in answers[2]["detail"]


async def test_visitor_tokens_per_address_are_limited_with_retry_after(settings: Settings, live: Live) -> None:
    settings.visitor_tokens_per_minute = 3
    async with httpx.AsyncClient(base_url=live.base) as h:
        codes = [(await h.post("/api/visitors")).status_code for _ in range(4)]
        r = await h.post("/api/visitors")
    assert codes == [201, 201, 201, 429]
    assert r.json()["error"] == "too_many_visitors" and 1 <= int(r.headers["Retry-After"]) <= 60


async def test_the_limits_hold_across_two_processes_on_redis(
    pg_server: PostgresServer, redis_server: RedisServer
) -> None:
    dep = fresh_deployment(pg_server, redis_server, "limits-two-processes-" + "k" * 30)
    env = {
        **dep.env,
        "CC_CHAT_OPEN_PER_ADDRESS": "3",
        "CC_VISITOR_TOKENS_PER_MINUTE": "7",
        "CC_UPLOAD_PER_VISITOR_PER_MINUTE": "3",
    }
    with app_processes(env, 2) as procs:
        bases = [p.base for p in procs]
        async with contextlib.AsyncExitStack() as stack:
            # Five visitors from one address, alternating between the processes: three chats, then refusals.
            clients, tokens = [], []
            for i in range(5):
                tokens.append(await new_token(bases[i % 2]))
                clients.append(await stack.enter_async_context(visitor(procs[(i + 1) % 2].ws_url, tokens[-1])))
            answers = [await start(c) for c in clients]
            # One visitor's uploads, alternating between the processes: three a minute between both.
            cid = answers[0]["conversation"]["id"]
            uploads = []
            for i in range(5):
                async with httpx.AsyncClient(base_url=bases[i % 2], headers=bearer(tokens[0])) as h:
                    uploads.append((await upload(h, cid, f"{i}.png", PNG)).status_code)
        async with httpx.AsyncClient() as h:
            codes = [(await h.post(bases[i % 2] + "/api/visitors")).status_code for i in range(4)]
    assert [a["type"] for a in answers] == ["conversation"] * 3 + ["error"] * 2
    assert {a["code"] for a in answers[3:]} == {"too_many_chats"}
    assert uploads == [201, 201, 201, 429, 429]
    # Seven tokens a minute between both processes: five were taken above.
    assert codes == [201, 201, 429, 429]

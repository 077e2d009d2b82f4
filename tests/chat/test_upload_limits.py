"""Upload limits (issue 11, item 4): a visitor's rate, quotas per conversation and per visitor, bodies refused
before they are read, and uploads no sent message references swept away."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import select

from contactcenter.app import create_app
from contactcenter.channels.chat.models import ChatAttachment
from contactcenter.channels.chat.plugin import SWEEPER_TASK, sweep_once
from contactcenter.settings import Settings
from tests.chat.conftest import Client, Live, customer
from tests.chat.test_attachments_transcript import PNG, bearer, start_chat, upload

KB = PNG + b"\0" * (1000 - len(PNG))


@pytest.fixture
def quotas(settings: Settings) -> Settings:
    """Roomy limits a test then lowers; set before the server starts (request it before `live`)."""
    settings.upload_per_visitor_per_minute = 100
    return settings


async def test_a_visitor_uploads_only_so_many_files_a_minute(quotas: Settings, live: Live) -> None:
    quotas.upload_per_visitor_per_minute = 3
    async with customer(live) as (cust, token):
        cid = await start_chat(cust)
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(token)) as h:
            codes = [(await upload(h, cid, f"{i}.png", KB)).status_code for i in range(4)]
            r = await upload(h, cid, "again.png", KB)
    assert codes == [201, 201, 201, 429]
    assert r.json()["error"] == "too_many_uploads" and 1 <= int(r.headers["Retry-After"]) <= 60


async def test_a_conversation_holds_only_so_many_files_and_bytes(quotas: Settings, live: Live) -> None:
    quotas.upload_max_files_per_conversation = 2
    async with customer(live) as (cust, token):
        cid = await start_chat(cust)
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(token)) as h:
            codes = [(await upload(h, cid, f"{i}.png", KB)).status_code for i in range(3)]
            quotas.upload_max_files_per_conversation = 100
            quotas.upload_max_bytes_per_conversation = 3500
            r = await upload(h, cid, "third.png", KB)
            too_big = await upload(h, cid, "fourth.png", KB)
    assert codes == [201, 201, 413] and r.status_code == 201
    assert too_big.status_code == 413 and too_big.json()["error"] == "upload_quota"


async def test_a_visitor_holds_only_so_many_files_across_chats(quotas: Settings, live: Live) -> None:
    quotas.upload_max_files_per_visitor = 2
    async with customer(live) as (cust, token):
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(token)) as h:
            first = await start_chat(cust)
            assert (await upload(h, first, "a.png", KB)).status_code == 201
            await close(cust, first)
            second = await start_chat(cust)
            assert (await upload(h, second, "b.png", KB)).status_code == 201
            r = await upload(h, second, "c.png", KB)
    assert r.status_code == 413 and r.json()["error"] == "upload_quota"


async def close(c: Client, conversation_id: str) -> None:
    await c.send({"type": "close", "conversation_id": conversation_id})
    async with asyncio.timeout(5):
        while True:
            f = await c.next("conversation")
            if f["conversation"]["id"] == conversation_id and f["conversation"]["status"] == "closed":
                return


async def raw_post(live: Live, headers: dict[str, str], body_start: bytes) -> bytes:
    """Send a request's headers and the start of its body only, then read the answer: a server that waits for
    the rest of the body never answers (the read times out and the test fails)."""
    url = urlparse(live.base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"POST /api/chat/attachments HTTP/1.1\r\nHost: {url.netloc}\r\n{head}\r\n".encode() + body_start)
    await writer.drain()
    try:
        async with asyncio.timeout(10):
            return await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()


async def test_a_body_over_the_limit_or_the_quota_is_refused_before_it_is_read(quotas: Settings, live: Live) -> None:
    quotas.upload_max_bytes_per_visitor = 4096
    async with customer(live) as (_cust, token):
        form = {"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=xx"}
        # Declared bigger than any upload may be: refused on the header.
        answer = await raw_post(live, {**form, "Content-Length": str(50 * 1_048_576)}, b"--xx\r\n")
        assert answer.startswith(b"HTTP/1.1 413")
        # Declared within the size cap but beyond what this visitor has left today: refused before reading.
        answer = await raw_post(live, {**form, "Content-Length": str(1_048_576)}, b"--xx\r\n")
        assert answer.startswith(b"HTTP/1.1 413")
    assert await rows(live) == 0


async def rows(live: Live) -> int:
    async with live.app.state.db.session() as s:
        return len(list(await s.scalars(select(ChatAttachment.id))))


async def test_unsent_uploads_are_swept_and_sent_ones_kept(quotas: Settings, live: Live) -> None:
    async with customer(live) as (cust, token):
        cid = await start_chat(cust)
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(token)) as h:
            kept = (await upload(h, cid, "sent.png", KB)).json()["id"]
            dropped = (await upload(h, cid, "unsent.png", KB)).json()["id"]
        await cust.say(cid, "here it is", attachments=[kept])
        db = live.app.state.db
        assert await sweep_once(db, max_age_s=3600) == 0  # both are younger than an hour
        assert await sweep_once(db, max_age_s=0.001) == 1
        async with db.session() as s:
            left = set(await s.scalars(select(ChatAttachment.id)))
        assert left == {kept} and dropped not in left
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(token)) as h:
            assert (await h.get(f"/api/chat/attachments/{kept}")).status_code == 200
            assert (await h.get(f"/api/chat/attachments/{dropped}")).status_code == 404
        # An upload swept away cannot be sent later.
        late = {"type": "send", "conversation_id": cid, "client_id": "late", "body": "", "attachments": [dropped]}
        await cust.send(late)
        assert (await cust.next("error"))["code"] == "unknown_attachment"


async def test_the_chat_capability_sweeps_while_the_app_runs(settings: Settings) -> None:
    def sweepers() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == SWEEPER_TASK and not t.done()]

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert len(sweepers()) == 1  # started by the chat capability's start()
    assert sweepers() == []  # and stopped by its stop()

"""The email read API: a conversation's parsed messages (sanitised, quote stripped, with the thread reason),
the raw download, and splitting a message off; role and visibility checks are part of each test."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from contactcenter.auth.models import StaffUser as User
from contactcenter.conversations import service as conversations
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.conftest import UserFactory, login
from tests.email.helpers import by_message_id, mail, running_mail_app, send_async, until_filed

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 20
HTML_MAIL = (
    "From: Ann <ann@example.com>\r\nTo: help@localhost\r\nSubject: Broken kettle\r\nMessage-ID: <h1@ex>\r\n"
    "Content-Type: multipart/mixed; boundary=B\r\n\r\n"
    "--B\r\nContent-Type: text/plain\r\n\r\nIt leaks.\r\n\r\nOn Mon, Help <help@localhost> wrote:\r\n> old\r\n"
    "--B\r\nContent-Type: text/html\r\n\r\n<p onclick='x()'>It leaks.<script>steal()</script></p>\r\n"
    '--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="photo.pdf"\r\n'
    f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(PNG).decode()}\r\n--B--\r\n"
).encode()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async for a in running_mail_app(settings):
        yield a


async def _user_id(app: FastAPI, name: str) -> int:
    async with app.state.db.session() as s:
        uid = await s.scalar(select(User.id).where(User.username == name))
        assert uid is not None
        return int(uid)


async def test_messages_raw_and_split(app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory) -> None:
    await send_async(app, HTML_MAIL, mail("ann@example.com", "<h2@ex>", "Re: Broken kettle", reply_to="<h1@ex>"))
    await until_filed(app, 2)
    found = await by_message_id(app)
    conv_id = found["<h1@ex>"].conversation_id
    assert found["<h2@ex>"].conversation_id == conv_id
    first_id, second_id = found["<h1@ex>"].id, found["<h2@ex>"].id
    url = f"/api/email/conversations/{conv_id}/messages"

    assert (await client.get(url)).status_code == 401
    other, agent = await make_user(Role.agent), await make_user(Role.agent)
    await login(client, other)
    assert (await client.get(url)).json()["error"] == "conversation_not_found"  # not theirs
    assert (await client.get(f"/api/email/messages/{first_id}/raw")).status_code == 404
    await login(client, agent)
    agent_id = await _user_id(app, agent)
    async with app.state.db.session() as s:
        assert await conversations.assign(s, app.state.bus, conversation_id=conv_id, agent_id=agent_id)

    r = await client.get(url)
    assert r.status_code == 200, r.text
    first, second = r.json()
    assert "script" not in first["html"] and "onclick" not in first["html"] and "It leaks." in first["html"]
    assert first["display_text"] == "It leaks." and "> old" in first["text"]
    assert first["attachments"] == [{"name": "photo.pdf", "type": "image/png", "size": len(PNG)}]
    assert (first["reason"], second["reason"]) == ("new", "in-reply-to")
    assert (first["from_addr"], first["from_name"], first["unreadable"]) == ("ann@example.com", "Ann", False)

    raw = await client.get(f"/api/email/messages/{first_id}/raw")
    assert raw.status_code == 200 and raw.content == HTML_MAIL
    assert raw.headers["content-type"] == "application/octet-stream"
    assert raw.headers["content-disposition"].startswith("attachment;")

    split_url = f"/api/email/messages/{second_id}/split"
    csrf = client.headers.pop("X-CSRF-Token")
    assert (await client.post(split_url)).json()["error"] == "csrf_failed"
    client.headers["X-CSRF-Token"] = csrf
    r = await client.post(split_url)
    assert r.status_code == 200, r.text
    new_conv = r.json()
    assert new_conv["id"] != conv_id and new_conv["channel"] == "email" and new_conv["status"] == "queued"
    assert new_conv["customer_id"] == found["<h1@ex>"].customer_id
    moved = await by_message_id(app)
    assert (moved["<h2@ex>"].conversation_id, moved["<h2@ex>"].reason) == (new_conv["id"], "split")
    assert [m["id"] for m in (await client.get(url)).json()] == [first_id]
    # the lone message left cannot be split again
    assert (await client.post(f"/api/email/messages/{first_id}/split")).json()["error"] == "nothing_to_split"
    # a reply to the split-off message follows it
    await send_async(app, mail("ann@example.com", "<h3@ex>", "Re: Broken kettle", reply_to="<h2@ex>"))
    await until_filed(app, 3)
    assert (await by_message_id(app))["<h3@ex>"].conversation_id == new_conv["id"]

    # a supervisor sees any email conversation; a planner none
    await login(client, await make_user(Role.supervisor))
    assert (await client.get(f"/api/email/conversations/{new_conv['id']}/messages")).status_code == 200
    await login(client, await make_user(Role.planner))
    assert (await client.get(url)).json()["error"] == "forbidden"

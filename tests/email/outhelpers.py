"""Shared by the outbound tests: an app whose relay is a test sink, a received mail assigned to an agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from contactcenter.auth.models import StaffUser
from contactcenter.auth.service import create_user
from contactcenter.conversations import service as conversations
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.conftest import PASSWORD, UserFactory, _counter, login
from tests.email.helpers import by_message_id, free_port, mail, running_mail_app, send_async, until, until_filed
from tests.email.relay import Sink


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    """A relay on a free loopback port, not started: a test starts it (or leaves the relay down)."""
    s = Sink(port=free_port())
    yield s
    await s.close()


@pytest.fixture
async def app(settings: Settings, sink: Sink) -> AsyncIterator[FastAPI]:
    """The app (SMTP in, relay out to `sink`); conftest's client and make_user use it."""
    async with relayed_app(settings, sink.port) as a:
        yield a


def relay_settings(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "email_relay_host": "127.0.0.1",
        "email_relay_port": port,
        "email_relay_timeout_s": 10.0,
        "email_poll_s": 0.05,
        "email_retry_s": 0.05,
        "email_retry_max_s": 0.2,
        "email_ack_enabled": False,
        **extra,
    }


@asynccontextmanager
async def relayed_app(settings: Settings, relay_port: int | None = None, **extra: Any) -> AsyncIterator[FastAPI]:
    port = relay_port or free_port()
    async for app in running_mail_app(settings, **relay_settings(port, **extra)):
        app.state.relay_port = port
        yield app


async def user_id(app: FastAPI, name: str) -> int:
    async with app.state.db.session() as s:
        uid = await s.scalar(select(StaffUser.id).where(StaffUser.username == name))
        assert uid is not None
        return int(uid)


async def received_and_assigned(
    app: FastAPI,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    mid: str = "<q1@example.com>",
    n: int = 1,
    subject: str = "Question about my card",
) -> tuple[str, str]:
    """Ann's mail filed (the n-th message filed), its conversation assigned to a new agent who is signed in;
    returns (conversation id, the agent's username)."""
    await send_async(app, mail("Ann <ann@example.com>", mid, subject, body="Where is my card?"))
    await until_filed(app, n)
    conv_id = (await by_message_id(app))[mid].conversation_id
    agent = await make_user(Role.agent)
    async with app.state.db.session() as s:
        assert await conversations.assign(s, app.state.bus, conversation_id=conv_id, agent_id=await user_id(app, agent))
    await login(client, agent)
    return conv_id, agent


async def until_outgoing(client: httpx.AsyncClient, conv_id: str, **want: Any) -> dict[str, Any]:
    """Poll the thread until its first reply has the wanted fields; return it."""
    got: dict[str, Any] = {}

    async def check() -> bool:
        nonlocal got
        r = await client.get(f"/api/email/conversations/{conv_id}/thread")
        outs = [o for o in r.json()["outgoing"] if o["kind"] == "reply"]
        if not outs:
            return False
        got = outs[0]
        return all(got.get(k) == v if not callable(v) else v(got.get(k)) for k, v in want.items())

    await until(check)
    return got


def user_maker(app: FastAPI) -> UserFactory:
    """conftest's make_user for an app a test started itself."""

    async def make(role: Role) -> str:
        name = f"{role.value}m{next(_counter)}"
        async with app.state.db.session() as s:
            await create_user(s, username=name, display_name=name.title(), role=role, password=PASSWORD)
        return name

    return make

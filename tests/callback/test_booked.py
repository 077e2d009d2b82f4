"""A booked callback: stored, still there after the app restarts, entering routing `lead` before its slot
ahead of contacts that waited longer; two schedulers (two processes) claim it once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from fastapi import FastAPI

from contactcenter.app import create_app
from contactcenter.auth.service import create_user
from contactcenter.channels.callback import routes, scheduler
from contactcenter.conversations import service as conversations
from contactcenter.db import Database
from contactcenter.routing import presence
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.callback.conftest import FakeClock, callback_settings, key, run_due, visitor
from tests.conftest import PASSWORD
from tests.routing.test_api import start_chat


async def _book(app: FastAPI, index: int = 1) -> dict[str, str]:
    v = await visitor(app)
    free = (await v.get("/api/callback/slots")).json()
    body = {"idempotency_key": key(), "name": "Ben", "phone": "+44 20 7946 0019", "slot_start": free[index]["start"]}
    r = await v.post("/api/callback/requests", json=body)
    await v.aclose()
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["attempts"], r.json()["slot_start"]) == ("booked", 0, free[index]["start"])
    found: dict[str, str] = r.json()
    return found


async def test_a_booked_callback_survives_a_restart_and_goes_ahead_of_waiting_contacts(settings: Settings) -> None:
    cfg, clock = callback_settings(settings), FakeClock()
    first = create_app(cfg)
    async with first.router.lifespan_context(first):
        first.dependency_overrides[routes.get_now] = clock
        booked = await _book(first)
        assert await run_due(first, clock) == 0  # its slot is a while off
    slot = datetime.fromisoformat(booked["slot_start"])
    second = create_app(cfg)  # as after a restart: nothing of the first app but its database
    async with second.router.lifespan_context(second):
        chat, _ = await start_chat(second, "Waiting since before")  # an ordinary contact, queued first
        clock.now = slot - timedelta(seconds=121)
        assert await run_due(second, clock) == 0
        clock.advance(1)  # CC_CALLBACK_LEAD_S before the slot
        assert await run_due(second, clock) == 1
        async with second.state.db.session() as s:
            agent = await create_user(s, username="agent-x", display_name="X", role=Role.agent, password=PASSWORD)
        await presence.agent_online(second.state.db, second.state.bus, agent_id=agent.id)
        async with second.state.db.session() as s:
            held = await conversations.open_for_agent(s, agent_id=agent.id)
            waiting = await conversations.get(s, conversation_id=chat)
        # The callback (priority 5) is offered before the chat that queued earlier; it takes the whole agent.
        assert [c.channel for c in held] == ["callback"] and waiting.status == "queued"


async def test_two_schedulers_open_a_due_callback_once(app: FastAPI, clock: FakeClock) -> None:
    booked = await _book(app)
    clock.now = datetime.fromisoformat(booked["slot_start"])
    other = Database(app.state.settings.database_url)  # a second process's connections
    try:
        runs = [
            scheduler.run_due(db, app.state.bus, settings=app.state.settings, now=clock.now)
            for db in (app.state.db, other, app.state.db, other)
        ]
        assert sum(await asyncio.gather(*runs)) == 1
    finally:
        await other.dispose()
    async with app.state.db.session() as s:
        queued = await conversations.listing(s, status="queued", agent_id=None)
    assert [c.channel for c in queued] == ["callback"]

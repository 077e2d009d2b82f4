"""Callback fixtures: the real app on both deployments with a fake clock the routes and the scheduler's
passes decide by (the background scheduler ticks too rarely to run during a test), visitors and staff."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contactcenter.app import create_app
from contactcenter.auth.https import SESSION_COOKIE
from contactcenter.auth.service import create_user, start_session
from contactcenter.channels.callback import routes, scheduler
from contactcenter.routing import presence
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.conftest import PASSWORD

_keys = itertools.count()
# Open all day every day, so the tests find slots whenever they run; 23:30-24:00 is outside the hours.
CALLBACK_SETTINGS: dict[str, Any] = {
    "callback_hours": "mon-sun=00:00-23:30",
    "callback_timezone": "UTC",
    "callback_tick_s": 300.0,
    "callback_slot_capacity": 2,
    "callback_max_attempts": 2,
    "callback_retry_delay_s": 600.0,
    "callback_lead_s": 120.0,
    "callback_new_per_visitor_per_hour": 6,
}


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def callback_settings(settings: Settings) -> Settings:
    return settings.model_copy(update=CALLBACK_SETTINGS)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(callback_settings(settings))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    c = FakeClock()
    app.dependency_overrides[routes.get_now] = c
    return c


def key() -> str:
    return f"key-{next(_keys):08d}"


async def visitor(app: FastAPI) -> httpx.AsyncClient:
    """A widget's client holding a fresh visitor token."""
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    token = (await c.post("/api/visitors")).json()["token"]
    c.headers["Authorization"] = f"Bearer {token}"
    return c


class Staff:
    def __init__(self, client: httpx.AsyncClient, user_id: int) -> None:
        self.c, self.id = client, user_id


ROLES = {"a1": Role.agent, "a2": Role.agent, "sup": Role.supervisor, "plan": Role.planner}
People = Callable[..., Awaitable[dict[str, Staff]]]


@pytest.fixture
async def people(app: FastAPI) -> AsyncIterator[People]:
    """`await people("a1", "sup")`: those staff, signed in (a session started directly: one password hash
    each instead of two, the suite's time budget is tight)."""
    clients: list[httpx.AsyncClient] = []

    async def make(*names: str) -> dict[str, Staff]:
        found = {}
        for name in names:
            async with app.state.db.session() as s:
                user = await create_user(
                    s, username=f"{name}-{next(_keys)}", display_name=name, role=ROLES[name], password=PASSWORD
                )
                token, csrf = await start_session(s, app.state.bus, user=user, hours=1)
            c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
            c.cookies.set(SESSION_COOKIE, token)
            c.headers["X-CSRF-Token"] = csrf
            clients.append(c)
            found[name] = Staff(c, user.id)
        return found

    yield make
    for c in clients:
        await c.aclose()


async def online(app: FastAPI, *agents: Staff) -> None:
    for a in agents:
        await presence.agent_online(app.state.db, app.state.bus, agent_id=a.id)


async def run_due(app: FastAPI, clock: FakeClock) -> int:
    return await scheduler.run_due(app.state.db, app.state.bus, settings=app.state.settings, now=clock())

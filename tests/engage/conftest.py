"""Invitation fixtures: the real app on both deployments (SQLite + in-process bus, PostgreSQL + Redis) with
callback hours open all day, no hold-out unless a test asks, a short linger; visitors with browsing consent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contactcenter.app import create_app
from contactcenter.settings import Settings
from tests.callback.conftest import CALLBACK_SETTINGS, People, Staff, online, people

__all__ = ["People", "Staff", "online", "people"]

ENGAGE: dict[str, Any] = CALLBACK_SETTINGS | {"engage_holdout_pct": 0.0, "engage_linger_s": 20}
PRICING = "https://bank.example/demo/pricing.html"
PLAIN = {"Content-Type": "text/plain;charset=UTF-8"}


@pytest.fixture
def engage_settings(settings: Settings) -> Settings:
    return settings.model_copy(update=ENGAGE)


@pytest.fixture
async def app(engage_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(engage_settings)
    async with application.router.lifespan_context(application):
        yield application


class Visitor:
    def __init__(self, client: httpx.AsyncClient, token: str, customer_id: int) -> None:
        self.c, self.token, self.customer_id = client, token, customer_id

    async def check(self, url: str = PRICING, seconds: int = 0, **extra: Any) -> httpx.Response:
        return await self.c.post("/api/engage/check", json={"url": url, "seconds": seconds, **extra})

    async def beacon(self, *views: tuple[str, int]) -> None:
        body = {
            "token": self.token,
            "views": [{"url": u, "title": u.rsplit("/", 1)[-1], "at": datetime.now(UTC).isoformat(), "seconds": s}
                      for u, s in views],
        }  # fmt: skip
        r = await self.c.post("/api/consent/pageviews", content=json.dumps(body), headers=PLAIN)
        assert r.status_code == 202, r.text


async def visitor(app: FastAPI, *, browsing: bool | None = True) -> Visitor:
    """A widget's client with a visitor token; browsing consent given (True), refused (False) or not asked."""
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    r = await c.post("/api/visitors")
    token, customer_id = r.json()["token"], r.json()["customer_id"]
    c.headers["Authorization"] = f"Bearer {token}"
    if browsing is not None:
        version = app.state.settings.consent_policy_version
        r = await c.post("/api/consent", json={"version": version, "storage": True, "browsing": browsing})
        assert r.status_code == 200, r.text
    return Visitor(c, token, customer_id)

"""Fixtures for the knowledge base's browser tests: the widget server with a planner who writes a few
articles (one with script in it, one translated into Chinese) through the API, as staff would."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ROOT
from tests.e2e.widget_fixtures import AGENT, AGENT_PASSWORD, WidgetServer, run_server

PLANNER, PLANNER_PASSWORD = "paula", "paula-long-pass"
CLI = [sys.executable, "-m", "contactcenter"]
ARTICLES: list[dict[str, Any]] = [
    {
        "slug": "block-lost-card",
        "category": "cards",
        "title": "Block a lost or stolen card",
        "body_md": "Open the app, go to **Cards** and tap *Block*. A new card comes within 5 working days.\n\n"
        "<script>window.__xss = 1</script> [Card help](https://bank.example/cards) "
        "[bad](javascript:window.__xss=2)",
        "zh": ("冻结丢失或被盗的银行卡", "打开应用，进入**银行卡**，点击*冻结*。新卡将在 5 个工作日内寄到。"),
    },
    {
        "slug": "reset-password",
        "category": "online-banking",
        "title": "Reset your online banking password",
        "body_md": "Choose *Forgot password* on the sign-in page and follow the code we text you.",
    },
]


@contextlib.contextmanager
def staff_client(server: WidgetServer, username: str, password: str) -> Iterator[httpx.Client]:
    """A signed-in staff client with its CSRF header."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        r = client.post("/api/session", json={"username": username, "password": password})
        r.raise_for_status()
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        yield client


def write_articles(client: httpx.Client) -> dict[str, int]:
    ids: dict[str, int] = {}
    for a in ARTICLES:
        body = {k: a[k] for k in ("slug", "category", "title", "body_md")} | {"status": "published"}
        r = client.post("/api/kb/manage/articles", json=body)
        assert r.status_code == 201, r.text
        ids[a["slug"]] = r.json()["id"]
        if "zh" in a:
            title, md = a["zh"]
            url = f"/api/kb/manage/articles/{ids[a['slug']]}/translations/zh"
            r = client.put(url, json={"title": title, "body_md": md})
            assert r.status_code == 200, r.text
    return ids


@pytest.fixture(scope="module")
def kb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WidgetServer]:
    with run_server(tmp_path_factory.mktemp("kb")) as server:
        subprocess.run(
            [*CLI, "user", "add", PLANNER, "--role", "planner", "--name", "Paula", "--password", PLANNER_PASSWORD],
            cwd=ROOT,
            env=server_env(server),
            check=True,
            capture_output=True,
        )
        with staff_client(server, PLANNER, PLANNER_PASSWORD) as client:
            write_articles(client)
        yield server


def server_env(server: WidgetServer) -> dict[str, str]:
    """The CLI's environment for the server's database (run_server keeps it beside the log)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_")}
    return env | {
        "CC_DATABASE_URL": f"sqlite+aiosqlite:///{server.log.parent / 'cc.db'}",
        "CC_SECRET_KEY": "widget-e2e-secret-" + "y" * 40,
    }


def article(client: httpx.Client, slug: str) -> dict[str, Any]:
    listed: list[dict[str, Any]] = client.get("/api/kb/manage/articles").json()
    return next(a for a in listed if a["slug"] == slug)


def console_page(browser: Browser, server: WidgetServer) -> Page:
    """The agent signed in on the console, online; page errors collected in page.errors."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=server.base_url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto("/login?next=/staff/console")
    page.fill("#username", AGENT)
    page.fill("#password", AGENT_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#presence")).to_have_attribute("data-state", "online")
    return page

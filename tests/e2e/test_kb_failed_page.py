"""The writers' failed-searches page in Debian's Chromium against the real server (issue 17 item 5): texts
visitors searched before asking for help, reported through the widget's route, listed most frequent first
with their counts, when last and chat / callback; a text that looks like HTML is shown as text; the
period changes the list; agents get 403 and no link to it. Screenshot in test-artifacts/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Watch
from tests.e2e.planner_fixtures import AGENT, PLANNER, ROOT, PlannerServer
from tests.procs import app_process

OpenAs = Callable[[str], Page]
PAGE = "/staff/kb/failed"
SCRIPTED = '<img src=x onerror="window.__pwned=1">'
REPORTS = [  # (text, asked for instead), one visitor each
    ("card blocked abroad", "chat"), ("Card blocked  abroad", "callback"), ("card blocked abroad", "chat"),
    ("change address", "chat"), ("Change address", "chat"),
    (SCRIPTED, "callback"),
]  # fmt: skip


def _report(base: str) -> None:
    with httpx.Client(base_url=base, timeout=20) as c:
        for text, asked in REPORTS:
            token = c.post("/api/visitors").json()["token"]
            body = {"query": text, "asked": asked, "lang": "en-GB"}
            r = c.post("/api/kb/failed-searches", json=body, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 204, r.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlannerServer]:
    tmp = tmp_path_factory.mktemp("kbfailed")
    url = f"sqlite+aiosqlite:///{tmp / 'kbfailed.db'}"
    env = {**os.environ, "CC_DATABASE_URL": url, "CC_SECRET_KEY": "kb-failed-e2e-" + "k" * 40}
    env |= {"CC_LOG_JSON": "false", "CC_RULES_DIR": str(ROOT / "rules")}
    cli = [sys.executable, "-m", "contactcenter"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "seed-demo", "--customers", "5"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = tmp / "server.log"
    with app_process(env, log) as base:
        _report(base)
        yield PlannerServer(base_url=base, log=log)


@pytest.fixture
def open_as(browser: Browser, server: PlannerServer, watch: Watch) -> Iterator[OpenAs]:
    contexts: list[BrowserContext] = []

    def open_(username: str) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.base_url, locale="en-GB")
        contexts.append(context)
        with server.client(username) as c:
            cookie = c.cookies["cc_session"]
        context.add_cookies([{"name": "cc_session", "value": cookie, "url": server.base_url}])
        page = context.new_page()
        page.on("request", lambda req: watch.requests.append(req.url))
        page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
        page.set_default_timeout(20_000)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not watch.errors, f"page errors: {watch.errors}"
    assert not watch.foreign(), f"requests to other hosts: {watch.foreign()}"


def test_a_writer_sees_the_failed_searches_most_frequent_first(open_as: OpenAs, artifacts: Path) -> None:
    page = open_as(PLANNER)
    page.goto("/staff/customers")
    page.get_by_role("link", name="Failed searches").click()
    expect(page).to_have_url(f"{page.url.split('/staff/')[0]}{PAGE}")
    expect(page.get_by_role("link", name="Failed searches")).to_have_attribute("aria-current", "page")
    rows = page.locator("#failed tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#failed-status")).to_have_text("6 failed searches, 3 different texts.")
    first = rows.nth(0).locator("td")
    expect(first.nth(0)).to_have_text("card blocked abroad")  # the most frequent spelling of the three
    expect(first.nth(1)).to_have_text("3")
    expect(first.nth(3)).to_have_text("2")  # then a chat
    expect(first.nth(4)).to_have_text("1")  # then a callback
    expect(first.nth(5)).to_have_text("en")
    expect(first.nth(2).locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    expect(rows.nth(1).locator("td").nth(1)).to_have_text("2")
    expect(rows.nth(1).locator("td").nth(0)).to_have_text("change address", ignore_case=True)
    expect(rows.nth(2).locator("td").nth(0)).to_have_text(SCRIPTED)  # as text: no image, nothing run
    expect(page.locator("#failed img")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=artifacts / "kb-failed-searches.png", full_page=True)
    # Another period asks again; all of these are from today, so they stay listed.
    with page.expect_response(lambda r: "failed-queries?days=7" in r.url):
        page.select_option("#days", "7")
    expect(rows).to_have_count(3)


def test_agents_get_403_and_no_link(open_as: OpenAs, server: PlannerServer) -> None:
    page = open_as(AGENT)
    response = page.goto(PAGE)
    assert response is not None and response.status == 403
    page.goto("/staff/console")
    expect(page.get_by_role("link", name="Failed searches")).to_have_count(0)
    with server.client(AGENT) as c:
        assert c.get("/api/kb/manage/failed-queries").status_code == 403

"""The admins' webhooks page in Chromium against a real server: add a subscriber (the secret shown once, a
private host refused), a delivery the receiver refuses is listed dead, Replay delivers it."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from contactcenter.auth.service import create_user
from contactcenter.cli import migrate
from contactcenter.db import Database
from contactcenter.types import Role
from tests.e2e.conftest import PASSWORD, Watch, _in_thread, _watched_page
from tests.procs import app_process
from tests.webhooks.receiver import Receiver, running


async def _admin(url: str) -> None:
    db = Database(url)
    async with db.session() as s:
        await create_user(s, username="ada", display_name="Ada Admin", role=Role.admin, password=PASSWORD)
    await db.dispose()


@pytest.fixture(scope="module")
def hooks_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, httpx.Client]]:
    tmp = tmp_path_factory.mktemp("hooks")
    url = f"sqlite+aiosqlite:///{tmp / 'cc.db'}"
    _in_thread(lambda: (migrate(url), asyncio.run(_admin(url)))[0])  # type: ignore[func-returns-value]
    env = {
        "CC_DATABASE_URL": url,
        "CC_SECRET_KEY": "e2e-secret-" + "x" * 40,
        "CC_LOG_JSON": "false",
        "CC_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "CC_WEBHOOK_POLL_S": "0.2",
    }
    with app_process(env, tmp / "server.log") as base, httpx.Client(base_url=base) as admin:
        r = admin.post("/api/session", json={"username": "ada", "password": PASSWORD})
        r.raise_for_status()
        admin.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        yield base, admin


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_add_see_dead_and_replay(browser: Browser, hooks_server: tuple[str, httpx.Client], artifacts: Path) -> None:
    base, admin = hooks_server
    watch = Watch()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base, locale="en-GB")
    context.add_cookies([{"name": "cc_session", "value": admin.cookies["cc_session"], "url": base}])
    page: Page = _watched_page(context, watch)
    rx: Receiver
    with running() as rx:
        page.goto("/staff/webhooks")
        expect(page.locator("#hooks-empty")).to_be_visible()
        expect(page.get_by_role("link", name="Webhooks")).to_have_attribute("aria-current", "page")

        page.fill("#add-url", "http://10.0.0.1/hook")
        page.click("#add-submit")
        expect(page.locator("#add-error")).to_contain_text("not a public address")

        page.fill("#add-url", rx.url)
        page.fill("#add-description", "Order system")
        page.click("#add-submit")
        expect(page.locator("#secret-box")).to_be_visible()
        secret = page.locator("#secret-value").text_content() or ""
        assert secret.startswith("whsec_")
        rx.secret = secret
        expect(page.locator("#hooks tbody tr")).to_have_count(1)
        expect(page.locator("#hooks tbody tr")).to_contain_text("Order system")

        # A touch the receiver refuses (400): dead at once.
        rx.script = [(400, {})]
        cid = admin.post("/api/customers", json={"display_name": "Hook Customer"}).json()["id"]
        assert admin.post(f"/api/customers/{cid}/notes", json={"summary": "Met in branch"}).status_code == 201

        def dead_listed() -> bool:
            return any(s["dead"] == 1 for s in admin.get("/api/webhooks/subscribers").json())

        _until(dead_listed, "the refused delivery is dead")
        page.reload()
        rows = page.locator("#dead tbody tr")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("touch.logged")
        expect(rows).to_contain_text("HTTP 400")
        expect(page.locator("#hooks .dead-count")).to_have_text("1")
        page.screenshot(path=artifacts / "webhooks-dead.png", full_page=True)
        shutil.copy(artifacts / "webhooks-dead.png", "/tmp/webhooks-dead.png")

        page.get_by_role("button", name="Replay").click()
        expect(page.locator("#hooks-status")).to_contain_text("back in the outbox")
        _until(lambda: len(rx.got) == 2, "the replay reached the receiver")
        assert all(r.verified for r in rx.got) and len(set(rx.ids())) == 1
        _until(lambda: not dead_listed(), "the replayed delivery is no longer dead")
        page.reload()
        expect(page.locator("#dead-panel")).to_be_hidden()
        expect(page.locator("#hooks .dead-count")).to_have_text("0")
        page.screenshot(path=artifacts / "webhooks-delivered.png", full_page=True)
    context.close()
    assert not watch.errors, watch.errors
    assert not watch.foreign(), watch.foreign()

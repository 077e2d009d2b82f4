"""The agent sees, in Chromium, that a supervisor follows their chat (the `monitor` frame from a supervisor's
socket), and sees it end."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import websockets
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Watch
from tests.e2e.console_fixtures import AGENT, PASSWORD, SUPERVISOR, ConsoleServer, Customer, console_server

T = TypeVar("T")


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("console-monitor")) as server:
        yield server


class SupervisorSocket:
    """A supervisor's socket on a loop of its own (Playwright's sync API holds the main thread's)."""

    def __init__(self, cc: ConsoleServer) -> None:
        client, _csrf = cc.staff_client(SUPERVISOR)
        self.cookie = client.cookies["cc_session"]
        client.close()
        self.cc = cc
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._run(self._open())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    async def _open(self) -> None:
        headers = {"Cookie": f"cc_session={self.cookie}"}
        self.ws = await websockets.connect(self.cc.ws_url, additional_headers=headers, origin=self.cc.base_url)  # type: ignore[arg-type]
        await self.ws.send(json.dumps({"type": "hello", "v": 1, "resume": {}}))
        while json.loads(await self.ws.recv())["type"] != "welcome":
            pass

    async def _monitor(self, conversation_id: str, on: bool) -> None:
        await self.ws.send(json.dumps({"type": "monitor", "conversation_id": conversation_id, "on": on}))
        await self.ws.send(json.dumps({"type": "ping", "t": 1}))  # answered after the monitor frame is handled
        while (f := json.loads(await self.ws.recv()))["type"] != "pong":
            assert f["type"] != "error", f

    def monitor(self, conversation_id: str, on: bool = True) -> None:
        self._run(self._monitor(conversation_id, on))

    def close(self) -> None:
        self._run(self.ws.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_the_agent_sees_who_follows_their_chat(
    browser: Browser, cc: ConsoleServer, watch: Watch, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=cc.base_url, locale="en-GB")
    page = context.new_page()
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.set_default_timeout(10_000)
    cust = Customer(cc)
    try:
        page.goto("/login?next=/staff/console")
        page.fill("#username", AGENT)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#presence")).to_have_attribute("data-state", "online")
        conv = cust.start(name="Mo Watched", topic="Loan")
        page.locator(f'.conv-item[data-conv-id="{conv}"]').click()
        expect(page.locator("#thread-monitored")).to_be_hidden()
        sup = SupervisorSocket(cc)
        sup.monitor(conv)
        expect(page.locator("#thread-monitored")).to_have_text("Dana Whitfield is following")
        expect(page.locator("#announcer")).to_have_text("Dana Whitfield is following your chat with Mo Watched")
        page.screenshot(path=str(artifacts / "console-monitored.png"))
        sup.monitor(conv, on=False)
        expect(page.locator("#thread-monitored")).to_be_hidden()
        sup.monitor(conv)
        expect(page.locator("#thread-monitored")).to_be_visible()
        sup.close()  # the supervisor's console went away: no longer watched
        expect(page.locator("#thread-monitored")).to_be_hidden()
        expect(page.locator("#announcer")).to_have_text("Dana Whitfield stopped following your chat with Mo Watched")
    finally:
        cust.shutdown()
        context.close()
    assert not watch.errors, watch.errors

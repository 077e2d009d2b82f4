"""A supervisor on a live chat from the wallboard, in Chromium: follows it (the agent is told), whispers a
note the agent alone sees, joins it (the customer is told first) and speaks to the customer, then leaves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.e2e.conftest import Watch
from tests.e2e.console_fixtures import AGENT, SUPERVISOR, ConsoleServer, Customer, console_server
from tests.e2e.test_wallboard import sign_in

SUP_NAME = "Dana Whitfield"


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("wallboard-live")) as server:
        yield server


@pytest.fixture
def contexts(browser: Browser, cc: ConsoleServer) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for c in made:
        c.close()


def test_a_supervisor_follows_whispers_joins_and_leaves_a_chat(
    browser: Browser, cc: ConsoleServer, contexts: list[BrowserContext], watch: Watch, artifacts: Path
) -> None:
    console = sign_in(browser, cc, contexts, watch, AGENT, "/staff/console")
    expect(console.locator("#presence")).to_have_attribute("data-state", "online")
    cust = Customer(cc)
    try:
        conv = cust.start(name="Mo Live", topic="Savings")
        console.locator(f'.conv-item[data-conv-id="{conv}"]').click()
        board = sign_in(browser, cc, contexts, watch, SUPERVISOR, "/staff/wallboard")
        row = board.locator(f'#live-convs tr[data-conv-id="{conv}"]')
        expect(row).to_contain_text("Mo Live")
        expect(row).to_contain_text("chat")

        row.get_by_role("button", name="Follow").click()
        expect(console.locator("#thread-monitored")).to_have_text(f"{SUP_NAME} is following")
        cust.say("is the rate fixed?")
        expect(board.locator("#live-log")).to_contain_text("is the rate fixed?")
        expect(board.locator("#live-mode")).to_have_text("Listening")

        # A whisper: the agent sees a note from the supervisor; the customer gets nothing.
        board.fill("#live-text", "offer the 2-year fix")
        board.click("#live-send")
        note = console.locator(".msg-note", has_text="offer the 2-year fix")
        expect(note).to_be_visible()
        expect(note).to_contain_text(SUP_NAME)
        expect(console.locator("#thread-monitored")).to_have_text(f"{SUP_NAME} is following and may send you notes")
        expect(board.locator("#live-log .live-note")).to_contain_text("offer the 2-year fix")

        # Joining: the customer is told before the supervisor's first word.
        board.once("dialog", lambda d: d.accept())
        board.click("#live-join")
        joined = cust.message(f"{SUP_NAME} (supervisor) joined the conversation")
        assert joined["sender"] == "system"
        expect(console.locator("#thread-monitored")).to_have_text(f"{SUP_NAME} has joined")
        expect(board.locator("#live-send")).to_have_text("Send")
        board.fill("#live-text", "Hello Mo, I can confirm it is fixed for two years")
        board.click("#live-send")
        said = cust.message("Hello Mo, I can confirm it is fixed for two years")
        assert (said["sender"], said["sender_name"]) == ("agent", SUP_NAME)
        expect(console.locator(".msg-system", has_text="joined the conversation")).to_be_visible()
        expect(console.locator(f'.conv-item[data-conv-id="{conv}"]')).to_contain_text(f"{SUP_NAME}: Hello Mo")
        board.screenshot(path=str(artifacts / "wallboard-live-joined.png"), full_page=True)
        console.screenshot(path=str(artifacts / "console-supervisor-joined.png"))

        board.click("#live-stop")
        cust.message(f"{SUP_NAME} (supervisor) left the conversation")
        expect(console.locator("#thread-monitored")).to_be_hidden()
        expect(board.locator("#live-follow")).to_be_hidden()
        bodies = [m["body"] for m in cust.messages()]
        assert "offer the 2-year fix" not in bodies, "a whisper reached the customer"
    finally:
        cust.shutdown()
    assert not watch.errors, watch.errors

"""Co-browse in two Chromium contexts on the demo site: the customer's widget and the agent's console.
The card number typed into a field and the one shown as page text never reach the agent: not in what the
server relays, not in the replay's DOM; the agent still sees the page, and the IBAN the browser did not
mask is masked by the server with a warning."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, WebSocket, expect

from tests.e2e.console_fixtures import AGENT, PASSWORD, ConsoleServer, console_server

TYPED = "4111 1111 1111 1111"
SHOWN = "4000 0566 5566 5556"
IBAN = "GB82 WEST 1234 5698 7654 32"


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("cobrowse")) as server:
        yield server


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_agent_sees_the_page_but_never_the_card_numbers(browser: Browser, cc: ConsoleServer) -> None:
    errors: list[str] = []
    sent_by_customer: list[str] = []  # every websocket frame and HTTP body the widget sent
    relayed_to_agent: list[str] = []  # every websocket frame the console received

    agent_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=cc.base_url)
    cust_ctx = browser.new_context(viewport={"width": 1100, "height": 800}, base_url=cc.base_url)
    try:
        agent = agent_ctx.new_page()
        agent.set_default_timeout(15_000)
        agent.on("pageerror", lambda e: errors.append(f"agent: {e}"))

        def on_agent_ws(ws: WebSocket) -> None:
            ws.on("framereceived", lambda payload: relayed_to_agent.append(str(payload)))

        agent.on("websocket", on_agent_ws)
        agent.goto("/login?next=/staff/console")
        agent.fill("#username", AGENT)
        agent.fill("#password", PASSWORD)
        agent.click("button[type=submit]")
        expect(agent.locator("#presence")).to_have_attribute("data-state", "online")

        cust = cust_ctx.new_page()
        cust.set_default_timeout(15_000)
        cust.on("pageerror", lambda e: errors.append(f"customer: {e}"))

        def on_cust_ws(ws: WebSocket) -> None:
            ws.on("framesent", lambda payload: sent_by_customer.append(str(payload)))

        cust.on("websocket", on_cust_ws)
        cust.on("request", lambda r: r.method == "POST" and sent_by_customer.append(r.post_data or ""))
        cust.goto("/demo/card.html")
        cust.locator("#cc-chat-widget .launcher").click()
        cust.get_by_label("Your name").fill("Carla Customer")
        cust.get_by_role("button", name="Start chat").click()
        item = agent.locator(".conv-item").filter(has_text="Carla Customer")
        item.click()
        expect(agent.locator("#thread-name")).to_have_text("Carla Customer")

        # The agent asks; nothing is recorded until the customer agrees.
        agent.locator("#cobrowse-btn").click()
        expect(agent.locator("#cobrowse-status")).to_have_text("Waiting for the customer to accept…")
        ask = cust.locator(".cb-ask")
        expect(ask).to_contain_text("would like to see this page with you")
        assert not [f for f in sent_by_customer if '"cobrowse_events"' in f]
        cust.get_by_role("button", name="Show my page").click()
        expect(cust.locator(".cb-bar")).to_contain_text("can see this page")

        # The agent sees the customer's page in the replay's sandboxed iframe (no scripts run in it).
        frame_el = agent.locator("#cobrowse-view iframe")
        expect(frame_el).to_have_count(1)
        sandbox = frame_el.get_attribute("sandbox") or ""
        assert "allow-scripts" not in sandbox
        replay = agent.frame_locator("#cobrowse-view iframe")
        expect(replay.locator("h1")).to_have_text("Report a problem with a card")
        expect(replay.locator("#card-on-file")).to_contain_text("Debit card on file")
        expect(replay.locator("#payee")).to_contain_text("**** **** ****")  # the server's mask
        expect(agent.locator("#cobrowse-warning")).to_contain_text("iban")

        # The customer puts the chat away and types card numbers: into a card field (blocked, never sent)
        # and into free text (masked in the browser).
        cust.locator("#cc-chat-widget .launcher").click()
        expect(cust.locator("#cc-chat-widget .panel")).to_be_hidden()
        cust.locator("#cardnumber").fill(TYPED)
        cust.locator("#what").click()
        cust.locator("#what").press_sequentially(f"charged twice on {TYPED}", delay=5)
        expect(replay.locator("#what")).to_have_value(re.compile(r"^\*{10,}$"))
        cust.screenshot(path="/tmp/cobrowse-customer.png")
        agent.screenshot(path="/tmp/cobrowse-agent.png")

        replay_dom = agent.locator("#cobrowse-view iframe").evaluate(
            "(f) => f.contentDocument.documentElement.outerHTML + JSON.stringify("
            "[...f.contentDocument.querySelectorAll('input,textarea')].map((i) => i.value))"
        )
        everything_sent = json.dumps(sent_by_customer)
        everything_relayed = json.dumps(relayed_to_agent)
        for number in (TYPED, SHOWN):
            d = digits(number)
            for where, text in (("replay DOM", replay_dom), ("relayed", everything_relayed)):
                assert d not in digits_only_runs(text), f"{number} in the {where}"
        assert digits(TYPED) not in digits_only_runs(everything_sent), "the typed card left the browser"
        assert digits(IBAN) not in digits_only_runs(everything_relayed)
        assert "Available balance" not in replay_dom and "Security questions" not in replay_dom

        # The customer stops: the banner goes, the agent is told, the tab forgets the session.
        cust.locator(".cb-bar").get_by_role("button", name="Stop sharing").click()
        expect(cust.locator(".cb-bar")).to_be_hidden()
        expect(agent.locator("#cobrowse-pane")).to_be_hidden()
        assert cust.evaluate("() => sessionStorage.getItem('cc_chat_cobrowse')") is None
        assert not errors, errors
    finally:
        agent_ctx.close()
        cust_ctx.close()


def digits_only_runs(text: str) -> str:
    """The text with every separator between digits removed (so '4111 1111' is found as '41111111')."""
    return re.sub(r"(?<=\d)[\s.\-]+(?=\d)", "", text)

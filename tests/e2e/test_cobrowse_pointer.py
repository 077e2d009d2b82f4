"""The agent's highlight box and pointer on the customer's page during co-browse (issue 15 item 4): the
agent drags a box over a heading of the replay and the customer sees it drawn over the same heading of
their own page; the pointer follows the agent's mouse; Clear takes them away. Screenshots in
test-artifacts/issue15/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, FloatRect, Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.console_fixtures import AGENT, PASSWORD, ConsoleServer, console_server

SHOTS = ARTIFACTS / "issue15"


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("cobrowse-pointer")) as server:
        yield server


def box_of(page: Page, selector: str) -> FloatRect:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box


def test_the_agents_highlight_and_pointer_show_on_the_customers_page(browser: Browser, cc: ConsoleServer) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    agent_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=cc.base_url)
    cust_ctx = browser.new_context(viewport={"width": 1100, "height": 800}, base_url=cc.base_url)
    try:
        agent = agent_ctx.new_page()
        agent.set_default_timeout(15_000)
        agent.on("pageerror", lambda e: errors.append(f"agent: {e}"))
        agent.goto("/login?next=/staff/console")
        agent.fill("#username", AGENT)
        agent.fill("#password", PASSWORD)
        agent.click("button[type=submit]")
        expect(agent.locator("#presence")).to_have_attribute("data-state", "online")

        cust = cust_ctx.new_page()
        cust.set_default_timeout(15_000)
        cust.on("pageerror", lambda e: errors.append(f"customer: {e}"))
        cust.goto("/demo/card.html")
        cust.locator("#cc-chat-widget .launcher").click()
        cust.get_by_label("Your name").fill("Pia Pointer")
        cust.get_by_role("button", name="Start chat").click()
        agent.locator(".conv-item").filter(has_text="Pia Pointer").click()
        agent.locator("#cobrowse-btn").click()
        cust.get_by_role("button", name="Show my page").click()
        cust.locator("#cc-chat-widget .launcher").click()  # the chat put away: the page is in view
        replay = agent.frame_locator("#cobrowse-view iframe")
        heading = replay.locator("h1")
        expect(heading).to_have_text("Report a problem with a card")

        # Highlight: a box dragged over the replay's heading lands on the customer's heading.
        agent.locator("#cobrowse-mark").click()
        expect(agent.locator("#cobrowse-mark")).to_have_attribute("aria-pressed", "true")
        h = heading.bounding_box()
        assert h is not None
        agent.mouse.move(h["x"] + 1, h["y"] + 1)
        agent.mouse.down()
        agent.mouse.move(h["x"] + h["width"] - 1, h["y"] + h["height"] - 1, steps=6)
        agent.mouse.up()
        mark = cust.locator("#cc-chat-widget .cb-mark")
        expect(mark).to_be_visible()
        got, want = box_of(cust, "#cc-chat-widget .cb-mark"), box_of(cust, "h1")
        # The replay is scaled down: a few of the customer's pixels per pixel of the agent's drag.
        for a, b in ((got["x"], want["x"]), (got["y"], want["y"]), (got["width"], want["width"])):
            assert abs(a - b) <= 12, (got, want)
        assert abs(got["height"] - want["height"]) <= 12, (got, want)
        # It stays on the heading when the customer scrolls.
        cust.mouse.wheel(0, 120)
        cust.wait_for_function("() => scrollY > 0")
        expect(mark).to_have_js_property("hidden", False)
        cust.wait_for_function(
            "() => { const m = document.querySelector('#cc-chat-widget').shadowRoot.querySelector('.cb-mark');"
            " const h = document.querySelector('h1').getBoundingClientRect();"
            " return Math.abs(m.getBoundingClientRect().top - h.top) <= 12; }"
        )
        cust.evaluate("() => scrollTo(0, 0)")

        # Pointer: follows the agent's mouse over the replay.
        agent.locator("#cobrowse-point").click()
        agent.mouse.move(h["x"] + h["width"] / 2, h["y"] + h["height"] / 2, steps=4)
        pointer = cust.locator("#cc-chat-widget .cb-pointer")
        expect(pointer).to_be_visible()
        expect(pointer).to_contain_text("Priya")
        # The last position is sent, whatever the pacing: the pointer ends on the heading's middle.
        cust.wait_for_function(
            "() => { const p = document.querySelector('#cc-chat-widget').shadowRoot.querySelector('.cb-pointer');"
            " const r = p.getBoundingClientRect(), h = document.querySelector('h1').getBoundingClientRect();"
            " return Math.abs(r.left + r.width / 2 - (h.left + h.width / 2)) <= 12"
            " && Math.abs(r.top + r.height / 2 - (h.top + h.height / 2)) <= 12; }"
        )
        cust.screenshot(path=str(SHOTS / "cobrowse-highlight-customer.png"))
        agent.screenshot(path=str(SHOTS / "cobrowse-highlight-agent.png"))

        agent.locator("#cobrowse-clear").click()
        expect(mark).to_be_hidden()
        expect(pointer).to_be_hidden()
        assert not errors, errors
    finally:
        agent_ctx.close()
        cust_ctx.close()

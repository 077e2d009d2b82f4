"""Proactive invitations in Debian's Chromium against the real server (issue 17 item 3): a visitor who
allowed page views lingers on the demo site's prices page (the rule's threshold set small for the test) and
is offered a callback while no agent is online, and the callback form opens with the offered slot chosen;
then, with an agent online, another visitor is invited to
chat: "Chat now" opens a chat the agent gets, and the agent's timeline shows the pages viewed. A visitor
without consent is never checked for an invitation. Phone and desktop screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.e2e.kb_fixtures import console_page
from tests.e2e.widget_fixtures import Customers, WidgetServer, customers, eventually, run_server

__all__ = ["customers"]  # fixture used below

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WidgetServer]:
    env = {
        "CC_ENGAGE_LINGER_S": "2",
        "CC_ENGAGE_HOLDOUT_PCT": "0",
        "CC_CALLBACK_HOURS": "mon-sun=00:00-23:30",
        "CC_CALLBACK_TIMEZONE": "UTC",
    }
    with run_server(tmp_path_factory.mktemp("invite"), **env) as s:
        yield s


def _allow_then_read_prices(site: Page) -> None:
    site.goto("/demo/")
    site.locator("#cc-chat-widget .launcher").click()
    site.locator(".consent").get_by_role("button", name="Allow").click()
    site.wait_for_function("() => localStorage.getItem('ccw.token') !== null")
    site.get_by_role("button", name="Minimise chat").click()  # the panel closed again
    site.goto("/demo/pricing.html")  # leaving the home page sends its beacon


def test_lingering_on_prices_offers_a_callback_then_a_chat_the_agent_sees_with_the_pages(
    browser: Browser, customers: Customers, server: WidgetServer, artifacts: Path
) -> None:
    # Nobody online: the invitation offers the next callback slot; "Call me back" opens the callback form.
    phone = customers.page(server, **PHONE)
    checks: list[Response] = []
    phone.on("response", lambda r: checks.append(r) if "/api/engage/check" in r.url else None)
    _allow_then_read_prices(phone)
    card = phone.locator(".invite")
    expect(card).to_have_attribute("data-offer", "callback")
    expect(card).to_contain_text("Shall we call you?")
    on_prices = [r for r in checks if "pricing.html" in (r.request.post_data or "")]  # the page still open
    [offered] = [r.json()["invitation"] for r in on_prices if r.json()["invitation"]]
    assert offered["slot_start"]
    phone.screenshot(path=artifacts / "invite-callback-phone.png", animations="disabled")
    card.get_by_role("button", name="Call me back").click()
    expect(phone.get_by_label("Who should we ask for?")).to_be_visible()
    expect(card).to_have_count(0)
    # The form has the offered slot chosen already, not "as soon as possible": one tap books what was offered.
    when = phone.locator("#ccw-cbwhen")
    phone.wait_for_function(
        "([sel, want]) => sel.value !== '' && Date.parse(sel.value) === Date.parse(want)",
        arg=[when.element_handle(), offered["slot_start"]],
    )
    phone.locator(".panel").screenshot(path=artifacts / "invite-callback-form-phone.png", animations="disabled")

    # Another visitor without consent: no check is ever made.
    quiet = customers.page(server)
    checks: list[str] = []
    quiet.on("request", lambda r: checks.append(r.url) if "/api/engage/" in r.url else None)
    quiet.goto("/demo/pricing.html")
    quiet.locator("#cc-chat-widget .launcher").click()
    expect(quiet.locator(".consent")).to_be_visible()
    quiet.goto("/demo/")
    expect(quiet.locator("#cc-chat-widget .launcher")).to_be_visible()
    assert checks == []

    # An agent online with room: the next visitor who lingers is invited to chat.
    agent = console_page(browser, server)
    site = customers.page(server)
    _allow_then_read_prices(site)
    card = site.locator(".invite")
    expect(card).to_have_attribute("data-offer", "chat")
    expect(card).to_contain_text("An adviser is free to chat with you now.")
    site.screenshot(path=artifacts / "invite-chat-desktop.png", animations="disabled")
    card.get_by_role("button", name="Chat now").click()
    expect(site.get_by_role("textbox", name="Message")).to_be_visible()
    site.get_by_role("textbox", name="Message").fill("Which account has no monthly fee?")
    site.get_by_role("textbox", name="Message").press("Enter")

    agent.locator(".conv-item").first.click()
    timeline = agent.locator("#cp-timeline")

    def listed() -> bool:  # the beacons may land after the panel loaded: Refresh, as an agent would
        agent.get_by_role("button", name="Refresh").click()
        text = timeline.inner_text()
        return "Viewed Prices and fees — Harbour Bank" in text and "Viewed Harbour Bank — Everyday banking" in text

    eventually(listed, what="the pages viewed on the agent's timeline")
    expect(agent.locator("body")).to_contain_text("Which account has no monthly fee?")
    timeline.scroll_into_view_if_needed()
    agent.screenshot(path=artifacts / "invite-console-timeline.png")
    assert agent.errors == []  # type: ignore[attr-defined]
    agent.context.close()

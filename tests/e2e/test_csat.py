"""CSAT in Debian's Chromium against the real server: the agent closes a chat from the console; the
customer's widget asks at once (desktop: "No thanks" puts it away and is stored; phone: rated 2 with a comment that
looks like HTML); the rating shows on the customer's timeline as text and on the supervisor's wallboard
per agent and queue. Screenshots in test-artifacts/issue17/ (the prompt on a phone and on a desktop)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from contactcenter.csat import links
from contactcenter.db import utcnow
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.console_fixtures import AGENT, AGENT_NAME, PASSWORD, SUPERVISOR, ConsoleServer, console_server

SHOTS = ARTIFACTS / "issue17"
SECRET = "console-e2e-" + "k" * 40  # console_server's CC_SECRET_KEY
CSP_RECORD = """(() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));
})()"""
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
COMMENT = 'Took ages <img src=x onerror="window.__pwned=1"> to answer'


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("csat")) as server:
        yield server


def conversation_of(cc: ConsoleServer, customer_name: str) -> str:
    """The id of the customer's conversation, read from the server's SQLite file beside its log."""
    with sqlite3.connect(cc.log.parent / "console.db") as db:
        row = db.execute("SELECT id FROM conversations WHERE customer_name = ?", (customer_name,)).fetchone()
    return str(row[0])


def signed_in(ctx: BrowserContext, user: str, to: str, errors: list[str]) -> Page:
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda e: errors.append(f"{user}: {e}"))
    page.goto(f"/login?next={to}")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return page


def chat_then_close(agent: Page, cust: Page, name: str) -> str:
    """The customer starts a chat on the demo site; the agent opens it and closes it with an outcome.
    Returns the customer page's path as the console links it."""
    cust.goto("/demo/")
    cust.locator("#cc-chat-widget .launcher").click()
    cust.get_by_label("Your name").fill(name)
    cust.get_by_role("button", name="Start chat").click()
    agent.locator(".conv-item").filter(has_text=name).click()
    expect(agent.locator("#thread-name")).to_have_text(name)
    expect(agent.locator("#cp-link")).to_have_attribute("href", re.compile(r"^/staff/customers/\d+$"))
    href = str(agent.locator("#cp-link").get_attribute("href"))
    agent.locator("#close-conv").click()
    wrapup = agent.locator("#wrapup-dialog")
    wrapup.get_by_label("Resolved").check()
    wrapup.locator("#wrapup-submit").click()
    expect(wrapup).to_be_hidden()
    return href


def test_a_closed_chat_is_rated_and_shows_on_the_timeline_and_the_wallboard(
    browser: Browser, cc: ConsoleServer
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    agent_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=cc.base_url)
    desk_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=cc.base_url)
    phone_ctx = browser.new_context(**PHONE, base_url=cc.base_url)  # type: ignore[arg-type]
    sup_ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=cc.base_url, locale="en-GB")
    try:
        agent = signed_in(agent_ctx, AGENT, "/staff/console", errors)
        expect(agent.locator("#presence")).to_have_attribute("data-state", "online")

        # Desktop: the card appears as the chat ends; "No thanks" puts it away and is stored, once.
        desk = desk_ctx.new_page()
        desk.set_default_timeout(15_000)
        desk.on("pageerror", lambda e: errors.append(f"desktop: {e}"))
        chat_then_close(agent, desk, "Dora Desk")
        card = desk.locator("#cc-chat-widget .csat")
        expect(card).to_be_visible()
        expect(card).to_contain_text("How did we do?")
        expect(card).to_contain_text(f"Please rate your conversation with {AGENT_NAME}.")
        expect(desk.locator("#cc-chat-widget .ended")).to_be_visible()
        desk.screenshot(path=str(SHOTS / "csat-widget-desktop.png"))
        with desk.expect_response(lambda r: r.url.endswith("/decline") and r.request.method == "POST") as declined:
            card.get_by_role("button", name="No thanks").click()
        assert declined.value.status == 200 and declined.value.json()["declined_at"] is not None
        expect(card).to_be_hidden()

        # Phone: rated 2 with a comment; "Send" without stars first asks for them.
        phone = phone_ctx.new_page()
        phone.set_default_timeout(15_000)
        phone.on("pageerror", lambda e: errors.append(f"phone: {e}"))
        customer_page = chat_then_close(agent, phone, "Pia Phone")
        card = phone.locator("#cc-chat-widget .csat")
        expect(card).to_be_visible()
        card.get_by_role("button", name="Send rating").click()
        expect(card.locator(".csat-status")).to_have_text("Please choose 1 to 5 stars.")
        card.get_by_role("radio", name="2 stars").click()
        expect(card.get_by_role("radio", name="2 stars")).to_have_attribute("aria-checked", "true")
        card.locator("textarea").fill(COMMENT)
        phone.screenshot(path=str(SHOTS / "csat-widget-phone.png"))
        card.get_by_role("button", name="Send rating").click()
        expect(card).to_contain_text("Thank you!")
        phone.screenshot(path=str(SHOTS / "csat-widget-phone-thanks.png"))

        # The agent reads it on the customer's timeline, as text.
        agent.goto(customer_page)
        touch = agent.locator(".touch").filter(has_text="Rated the chat 2/5")
        expect(touch).to_have_count(1)
        expect(touch.locator(".touch-summary")).to_have_text(f"Rated the chat 2/5 (poor): {COMMENT}")
        expect(touch.locator("img")).to_have_count(0)
        assert agent.evaluate("window.__pwned") is None

        # The supervisor's wallboard: Priya has one rating, average 2.0, 0 % gave 4-5; one in "general".
        sup = signed_in(sup_ctx, SUPERVISOR, "/staff/wallboard", errors)
        row = sup.locator("#csat-agents tbody tr").filter(has_text=AGENT_NAME)
        expect(row.locator("td")).to_have_text([AGENT_NAME, "1", "2.0", "0 %"])
        expect(sup.locator("#csat-queues tbody tr td").first).to_have_text("general")
        expect(sup.locator("#csat-summary")).to_have_text("1 rating, average 2.0 / 5, 0 % gave 4–5 · 1 said no thanks")
        sup.locator("#csat [data-period='7d']").click()
        expect(sup.locator("#csat [data-period='7d']")).to_have_attribute("aria-pressed", "true")
        expect(row.locator("td")).to_have_text([AGENT_NAME, "1", "2.0", "0 %"])
        sup.locator("#csat").screenshot(path=str(SHOTS / "csat-wallboard.png"))

        # The desktop customer said "No thanks" in the widget; the email's signed link still rates it, from a
        # page without a script under the app's CSP, and then it is a rating, no longer a "no thanks".
        link = links.link_for(
            SECRET, conversation_id=conversation_of(cc, "Dora Desk"), closed_at=utcnow(), rate_days=14
        )
        page = phone_ctx.new_page()
        page.add_init_script(CSP_RECORD)
        page.goto(link)
        expect(page.locator("h1")).to_have_text("How did we do?")
        expect(page.locator("main")).to_contain_text(f"Rate your chat conversation with {AGENT_NAME}.")
        page.locator("label[for=csat-s4]").click()
        page.locator("#csat-comment").fill("Fine in the end")
        page.screenshot(path=str(SHOTS / "csat-link-page-phone.png"))
        page.get_by_role("button", name="Send").click()
        expect(page.locator("#csat-done")).to_have_text("You rated it 4 out of 5. We have passed your comment on.")
        assert page.evaluate("window.__violations") == []
        sup.reload()
        expect(sup.locator("#csat-summary")).to_have_text("2 ratings, average 3.0 / 5, 50 % gave 4–5")
        assert errors == []
    finally:
        for c in (agent_ctx, desk_ctx, phone_ctx, sup_ctx):
            c.close()

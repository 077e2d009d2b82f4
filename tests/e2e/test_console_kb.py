"""Help articles beside a conversation in the agent's console, in Debian's Chromium against the real server:
the articles for the chat's topic are listed, the agent searches for another, inserts it into the reply in a
click and sends it; the customer gets the link, and the link opens the article as a page of its own."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.e2e.kb_fixtures import console_page, kb_server
from tests.e2e.widget_fixtures import Customers, WidgetServer, customers

__all__ = ["customers", "kb_server"]  # fixtures used below


def test_the_agent_sees_articles_for_the_topic_searches_inserts_one_and_the_customer_opens_its_link(
    browser: Browser, customers: Customers, kb_server: WidgetServer, artifacts: Path
) -> None:
    agent = console_page(browser, kb_server)
    site = customers.page(kb_server)
    site.goto("/demo/card.html")  # its chats have the topic "Cards" (data-topic)
    site.locator("#cc-chat-widget .launcher").click()
    site.get_by_label("Your name").fill("Nina Berg")
    site.get_by_role("button", name="Start chat").click()
    expect(site.get_by_role("textbox", name="Message")).to_be_visible()

    agent.locator(".conv-item", has=agent.locator(".conv-name", has_text="Nina Berg")).click()
    expect(agent.locator("#thread-name")).to_have_text("Nina Berg")
    cards = agent.locator("#kb-list .kb-card")
    # The chat's topic ("Cards") finds the card article without the agent typing anything.
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".kb-title")).to_have_text("Block a lost or stolen card")
    agent.get_by_role("searchbox", name="Search help articles").fill("password")
    expect(cards.first.locator(".kb-title")).to_have_text("Reset your online banking password")
    agent.get_by_role("searchbox", name="Search help articles").fill("")
    expect(cards.first.locator(".kb-title")).to_have_text("Block a lost or stolen card")
    agent.locator("#kb-list").scroll_into_view_if_needed()
    agent.screenshot(path=artifacts / "console-kb-panel.png")

    composer = agent.locator("#composer-input")
    composer.fill("Here is how:")
    cards.first.get_by_role("button", name="Insert “Block a lost or stolen card” into the reply").click()
    link = f"{kb_server.base_url}/help/block-lost-card?lang=en"
    expect(composer).to_have_value(
        f"Here is how:\nBlock a lost or stolen card: {cards.first.locator('.kb-summary').inner_text()}\n{link}"
    )
    expect(composer).to_be_focused()
    composer.press("Enter")
    expect(site.locator(".msg.agent .bubble").last).to_contain_text(link)

    help_page = site.context.new_page()
    help_page.goto(link)
    expect(help_page.get_by_role("heading", name="Block a lost or stolen card")).to_be_visible()
    expect(help_page.locator(".help-body strong")).to_have_text("Cards")
    assert help_page.locator(".help-body script").count() == 0 and help_page.evaluate("window.__xss") is None
    expect(help_page.locator(".help-body a[href^=javascript]")).to_have_count(0)
    help_page.screenshot(path=artifacts / "help-article-page.png")
    assert agent.errors == []  # type: ignore[attr-defined]
    agent.context.close()

"""Pages visited, with consent, on the agent's timeline, in Debian's Chromium against the real server: the
visitor allows, reads two pages of the demo site, then asks for a chat; each page left sends one beacon
and the agent's "Recent contacts" lists the pages. Without consent no beacon is sent at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, expect

from tests.e2e.kb_fixtures import console_page, kb_server
from tests.e2e.widget_fixtures import Customers, WidgetServer, customers, eventually

__all__ = ["customers", "kb_server"]  # fixtures used below


def _web_touches(server: WidgetServer, customer_id: int) -> list[dict[str, Any]]:
    cookie = server.agent_cookie()
    r = httpx.get(f"{server.base_url}/api/customers/{customer_id}/timeline", cookies={"cc_session": cookie})
    r.raise_for_status()
    return [t for t in r.json()["items"] if t["channel"] == "web"]


def test_pages_visited_after_allow_are_on_the_agents_timeline_and_none_without(
    browser: Browser, customers: Customers, kb_server: WidgetServer, artifacts: Path
) -> None:
    agent = console_page(browser, kb_server)
    site = customers.page(kb_server)
    site.goto("/demo/")
    site.locator("#cc-chat-widget .launcher").click()
    site.locator(".consent").get_by_role("button", name="Allow").click()
    site.wait_for_function("() => localStorage.getItem('ccw.token') !== null")
    site.goto("/demo/mortgages.html")  # leaving the home page sends its beacon
    site.goto("/demo/contact.html")  # and the mortgages page's
    site.get_by_label("Your name").fill("Petra Pages")
    site.get_by_role("button", name="Start chat").click()
    agent.locator(".conv-item", has=agent.locator(".conv-name", has_text="Petra Pages")).click()
    timeline = agent.locator("#cp-timeline")

    def listed() -> bool:  # the beacons may land after the panel loaded: Refresh, as an agent would
        agent.get_by_role("button", name="Refresh").click()
        return "Viewed Mortgages — Harbour Bank" in timeline.inner_text()

    eventually(listed, what="the pages on the timeline")
    customer_id = int(agent.locator("#cp-link").get_attribute("href").rsplit("/", 1)[1])  # type: ignore[union-attr]
    titles = sorted(t["payload"]["title"] for t in _web_touches(kb_server, customer_id))
    assert titles == ["Harbour Bank — Everyday banking, mortgages and investments", "Mortgages — Harbour Bank"]
    expect(timeline).to_contain_text("Viewed Harbour Bank — Everyday banking")
    timeline.scroll_into_view_if_needed()
    agent.screenshot(path=artifacts / "console-timeline-pageviews.png")

    # Another visitor says nothing about consent and starts a chat: it goes through, no beacon is ever sent.
    other = customers.page(kb_server)
    other.goto("/demo/")
    other.locator("#cc-chat-widget .launcher").click()
    other.get_by_label("Your name").fill("Quentin Quiet")
    other.get_by_role("button", name="Start chat").click()
    expect(other.get_by_role("textbox", name="Message")).to_be_visible()
    beacons: list[str] = []
    other.on("request", lambda r: beacons.append(r.url) if r.url.endswith("/pageviews") else None)
    other.goto("/demo/mortgages.html")
    expect(other.locator("#cc-chat-widget .launcher")).to_be_visible()
    assert beacons == []
    assert agent.errors == []  # type: ignore[attr-defined]
    agent.context.close()

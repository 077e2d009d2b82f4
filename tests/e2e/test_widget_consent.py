"""Consent first, in Debian's Chromium against the real server: before the visitor interacts, the widget has
written nothing (localStorage, sessionStorage, cookies, IndexedDB) and sent nothing but its own script;
opening it and searching the help articles store nothing either; "Allow" stores the visitor and records the
answer (purpose, version, time) on the server; a stored answer to an older policy version is asked again;
"No thanks" is recorded and leaves the device empty even through a chat."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.kb_fixtures import kb_server
from tests.e2e.widget_fixtures import Customers, WidgetServer, customers

__all__ = ["customers", "kb_server"]  # fixtures used below

# Everything a page can keep about its visitor, from inside the page.
STORED = """async () => ({
  local: Object.keys(localStorage).sort(),
  session: Object.keys(sessionStorage).sort(),
  cookies: document.cookie,
  idb: (await indexedDB.databases()).map((d) => d.name),
})"""
EMPTY = {"local": [], "session": [], "cookies": "", "idb": []}


def stored(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(STORED)
    found["jar"] = page.context.cookies()  # HttpOnly ones too
    return found


def empty(page: Page) -> bool:
    return stored(page) == {**EMPTY, "jar": []}


def server_consent(server: WidgetServer, page: Page) -> dict[str, Any]:
    token = json.loads(page.evaluate("localStorage.getItem('ccw.token')"))
    r = httpx.get(f"{server.base_url}/api/consent", headers={"Authorization": f"Bearer {token}"})
    r.raise_for_status()
    answer: dict[str, Any] = r.json()
    return answer


def test_nothing_is_stored_or_sent_before_the_visitor_allows_it_then_the_answer_is_stored_and_recorded(
    customers: Customers, kb_server: WidgetServer, artifacts: Path
) -> None:
    page = customers.page(kb_server)
    page.goto("/demo/")
    launcher = page.locator("#cc-chat-widget .launcher")
    expect(launcher).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert empty(page)
    assert [u for u in customers.watch.requests if "/api/" in u or "/ws" in u] == []  # no page view, no visitor

    launcher.click()
    card = page.locator(".consent")
    expect(card).to_be_visible()
    expect(card).to_contain_text("May we remember you?")
    expect(card).to_contain_text("Privacy text version 1")
    page.get_by_role("searchbox", name="Find an answer").fill("lost card")
    expect(page.locator(".kb-hit")).to_have_count(1)
    page.get_by_label("Your name").fill("Vera Visitor")  # typed, not sent: still nothing stored
    assert empty(page)
    page.screenshot(path=artifacts / "widget-consent-ask.png")

    card.get_by_role("button", name="Allow").click()
    expect(card).to_be_hidden()
    page.wait_for_function("() => localStorage.getItem('ccw.token') !== null")
    after = stored(page)
    assert {"ccw.consent", "ccw.token", "ccw.open"} <= set(after["local"])
    consent = json.loads(page.evaluate("localStorage.getItem('ccw.consent')"))
    assert consent["v"] == "1" and consent["storage"] is True
    answer = server_consent(kb_server, page)
    assert answer["current"] is True
    assert {(a["purpose"], a["granted"], a["version"]) for a in answer["answers"]} == {
        ("storage", True, "1"),
        ("browsing", True, "1"),
    }

    # The next page: the answer stands, nothing is asked again.
    page.goto("/demo/mortgages.html")
    expect(page.locator(".panel")).to_be_visible()  # it stayed open: remembered
    expect(card).to_be_hidden()


def test_an_answer_to_an_older_policy_is_asked_again_and_no_thanks_leaves_the_device_empty(
    customers: Customers, kb_server: WidgetServer, artifacts: Path
) -> None:
    page = customers.page(kb_server, viewport={"width": 390, "height": 844}, is_mobile=True)
    old = {"v": "0", "storage": True, "browsing": True, "at": "2026-01-01T00:00:00Z"}
    page.add_init_script(
        f"localStorage.getItem('ccw.consent') || localStorage.setItem('ccw.consent', {json.dumps(json.dumps(old))})"
    )
    page.goto("/demo/")
    page.locator("#cc-chat-widget .launcher").click()
    card = page.locator(".consent")
    expect(card).to_be_visible()  # the policy is version 1 now
    page.screenshot(path=artifacts / "widget-consent-ask-phone.png")
    with page.expect_response(lambda r: r.url.endswith("/api/consent") and r.request.method == "POST") as answer:
        card.get_by_role("button", name="No thanks").click()
    recorded = answer.value.json()
    assert recorded["current"] is True and {(a["purpose"], a["granted"]) for a in recorded["answers"]} == {
        ("storage", False),
        ("browsing", False),
    }
    expect(card).to_be_hidden()
    page.wait_for_function("() => localStorage.getItem('ccw.consent') === null")  # the old answer went too
    page.get_by_label("Your name").fill("Nora Nobody")
    page.get_by_role("button", name="Start chat").click()
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_be_visible()
    box.fill("A question, but keep nothing on my phone")
    box.press("Enter")
    expect(page.locator(".msg.customer .bubble")).to_have_text(["A question, but keep nothing on my phone"])
    # The chat works from this page's memory: the device keeps nothing.
    after = stored(page)
    assert after == {**EMPTY, "jar": []}, after

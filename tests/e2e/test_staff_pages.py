"""Staff pages of the customer contact repository, driven in Debian's Chromium against the real server."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import ALICE_CHANNELS, ALICE_TOUCHES, EVIL_NAME, PASSWORD, XSS, Server, Watch

ALICE_TOTAL = ALICE_TOUCHES + 2  # plus the two order touches
WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"""


def _times(page: Page) -> list[str]:
    return page.locator("#timeline .touch time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")


def _summaries(page: Page) -> list[str]:
    return page.locator("#timeline .touch-summary").all_text_contents()


def test_login_errors_then_lands_on_customers_and_logout_ends_session(
    anon_page: Page, server: Server, artifacts: Path
) -> None:
    page = anon_page
    page.goto("/staff/customers")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fstaff%2Fcustomers$"))
    expect(page.get_by_text("Contact Center").first).to_be_visible()
    page.screenshot(path=artifacts / "login.png")

    page.fill("#username", server.seed.supervisor)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("wrong username or password")
    expect(page.locator("#username")).to_have_value(server.seed.supervisor)
    expect(page.locator("input[name=next]")).to_have_value("/staff/customers")
    page.screenshot(path=artifacts / "login-error.png")

    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.base_url}/staff/customers")
    expect(page.locator("#who-name")).to_have_text(server.seed.supervisor_name)
    expect(page.locator("#who-role")).to_have_text("supervisor")
    assert page.locator('meta[name="csrf-token"]').get_attribute("content")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/staff/customers")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fstaff%2Fcustomers$"))


def test_search_by_name_and_email_then_open_timeline(page: Page, server: Server, artifacts: Path) -> None:
    page.goto("/staff/customers")
    expect(page.locator("#who-name")).to_have_text(server.seed.agent_name)

    page.fill("#q", "johns")
    rows = page.locator("#results tbody tr")
    expect(page.locator("#results .customer-link")).to_have_text(["Alice Johnson", "Amir Johns"])
    page.fill("#q", "joh")
    expect(rows).to_have_count(4)
    alice_row = rows.filter(has_text="Alice Johnson")
    expect(alice_row).to_contain_text("alice.johnson@example.com")
    expect(alice_row).to_contain_text("+442079460018")
    expect(alice_row.locator(".segment")).to_have_text("gold")
    page.screenshot(path=artifacts / "customers-search.png", full_page=True)

    page.fill("#q", "020 7946 0018")  # a national phone number finds the E.164 identity
    expect(page.locator("#results .customer-link")).to_have_text(["Alice Johnson"])

    page.fill("#q", "nobody-like-this")
    expect(page.locator("#search-empty")).to_be_visible()
    expect(page.locator("#search-empty")).to_contain_text("No customers match")
    expect(page.locator("#results")).to_be_hidden()
    page.screenshot(path=artifacts / "customers-no-match.png")

    page.fill("#q", "Alice.Johnson@example.com")
    page.press("#q", "Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Alice Johnson")
    rows.first.click()
    expect(page).to_have_url(server.customer_url("alice"))
    expect(page.locator("#customer-name")).to_have_text("Alice Johnson")
    expect(page.locator("#timeline .touch")).to_have_count(50)


def test_search_api_error_is_shown_plainly(page: Page) -> None:
    def fail(route: Route) -> None:
        route.fulfill(status=500, json={"error": "internal", "detail": "unexpected server error; it has been logged"})

    page.route("**/api/customers?*", fail)
    page.goto("/staff/customers?q=alice")
    expect(page.locator("#search-error")).to_have_text("Search failed: unexpected server error; it has been logged")
    expect(page.locator("#results")).to_be_hidden()


def test_timeline_newest_first_filters_and_loads_more(page: Page, server: Server, artifacts: Path) -> None:
    page.goto(server.customer_url("alice"))
    items = page.locator("#timeline .touch")
    expect(items).to_have_count(50)
    expect(items.first.locator(".touch-summary")).to_have_text(f"Alice touch {ALICE_TOUCHES:03d}")
    times = _times(page)
    assert times == sorted(times, reverse=True)
    first = items.first
    expect(first.locator(".channel-badge")).to_have_text("Chat")
    expect(first.locator(".touch-kind")).to_have_text("Message")
    expect(first.locator(".touch-direction")).to_have_text("Outbound")
    expect(first.locator(".touch-agent")).to_have_text(re.compile(r"Agent #\d+"))
    expect(first.locator("time")).to_have_text(re.compile(r"^(Today|Yesterday), \d\d:\d\d$"))
    expect(page.locator("#orders .order")).to_have_count(2)
    expect(page.locator("#orders")).to_contain_text("Wi-Fi 6 router")
    expect(page.locator("#orders")).to_contain_text("129.00")
    page.screenshot(path=artifacts / "customer-timeline.png")
    page.screenshot(path=artifacts / "customer-timeline-full.png", full_page=True)

    held: list[Route] = []
    page.route("**/timeline?*cursor=*", lambda route: held.append(route))
    more = page.locator("#load-more")
    more.click()
    expect(more).to_be_disabled()
    expect(more).to_have_text("Loading…")
    expect(page.locator("#timeline-status")).to_have_text("Loading timeline…")
    page.screenshot(path=artifacts / "customer-timeline-loading.png")
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    expect(items).to_have_count(ALICE_TOTAL)
    expect(more).to_be_hidden()
    expect(page.locator("#timeline-status")).to_contain_text("end of timeline")
    all_times = _times(page)
    assert all_times == sorted(all_times, reverse=True)
    ids = items.evaluate_all("els => els.map(e => e.dataset.touchId)")
    assert len(set(ids)) == ALICE_TOTAL
    assert _summaries(page)[-1].startswith("Ordered ")
    page.unroute("**/timeline?*cursor=*")

    chips = page.locator("#channel-chips")
    chips.get_by_role("button", name="Email").click()
    expect(chips.get_by_role("button", name="Email")).to_have_attribute("aria-pressed", "true")
    n_email = sum(1 for i in range(ALICE_TOUCHES) if ALICE_CHANNELS[i % len(ALICE_CHANNELS)].value == "email")
    expect(items).to_have_count(n_email)
    assert set(items.evaluate_all("els => els.map(e => e.dataset.channel)")) == {"email"}
    chips.get_by_role("button", name="Voice").click()
    n_voice = sum(1 for i in range(ALICE_TOUCHES) if ALICE_CHANNELS[i % len(ALICE_CHANNELS)].value == "voice")
    expect(items).to_have_count(n_email + n_voice)
    assert set(items.evaluate_all("els => els.map(e => e.dataset.channel)")) == {"email", "voice"}
    chips.get_by_role("button", name="Face to face").click()
    chips.get_by_role("button", name="Email").click()
    chips.get_by_role("button", name="Voice").click()
    expect(page.locator("#timeline-empty")).to_have_text("No contacts on the selected channels.")
    expect(items).to_have_count(0)
    chips.get_by_role("button", name="All channels").click()
    expect(items).to_have_count(50)
    expect(more).to_be_visible()


def test_add_note_appears_on_top_without_reload_and_persists(
    page: Page, server: Server, watch: Watch, artifacts: Path
) -> None:
    page.goto(server.customer_url("erin"))
    items = page.locator("#timeline .touch")
    expect(items).to_have_count(1)
    page.evaluate("window.__same_page = true")

    page.click("#note-submit")
    expect(page.locator("#note-summary-error")).to_have_text("Enter a short summary of the conversation.")
    expect(page.locator("#note-summary")).to_have_attribute("aria-invalid", "true")
    assert not [u for u in watch.requests if u.endswith("/notes")]

    # The server's own validation is shown beside the field it concerns.
    page.fill("#note-summary", "Too long a body")
    page.evaluate("document.getElementById('note-body').removeAttribute('maxlength')")
    page.fill("#note-body", "x" * 8001)
    page.click("#note-submit")
    expect(page.locator("#note-body-error")).to_contain_text("8000")
    expect(page.locator("#note-summary-error")).to_be_hidden()
    expect(items).to_have_count(1)
    page.screenshot(path=artifacts / "customer-note-invalid.png")

    page.fill("#note-summary", "Visited the Leeds branch about her bill")
    page.fill("#note-body", "Explained the pro-rata charge.\nShe will call back on Friday.")
    page.click("#note-submit")
    expect(items).to_have_count(2)
    top = items.first
    expect(top.locator(".touch-summary")).to_have_text("Visited the Leeds branch about her bill")
    expect(top).to_have_attribute("data-channel", "face_to_face")
    expect(top.locator(".channel-badge")).to_have_text("Face to face")
    expect(top.locator(".touch-body")).to_have_text("Explained the pro-rata charge.\nShe will call back on Friday.")
    expect(top.locator(".touch-meta")).to_contain_text(server.seed.agent_name)
    expect(page.locator("#note-status")).to_have_text("Note added to the timeline.")
    expect(page.locator("#note-summary")).to_have_value("")
    assert page.evaluate("window.__same_page") is True
    page.screenshot(path=artifacts / "customer-note-added.png")

    page.reload()
    expect(items).to_have_count(2)
    expect(items.first.locator(".touch-summary")).to_have_text("Visited the Leeds branch about her bill")
    assert page.evaluate("window.__same_page") is None


def test_html_in_customer_data_renders_as_text(page: Page, server: Server, artifacts: Path) -> None:
    page.goto("/staff/customers?q=bob@example.com")
    link = page.locator("#results .customer-link")
    expect(link).to_have_text(EVIL_NAME)
    assert page.locator("#results img, #results b").count() == 0

    link.click()
    expect(page.locator("#customer-name")).to_have_text(EVIL_NAME)
    expect(page).to_have_title(f"{EVIL_NAME} · Contact Center")
    top = page.locator("#timeline .touch").first
    expect(top.locator(".touch-summary")).to_have_text(XSS)
    expect(top.locator(".touch-body")).to_have_text(XSS)

    page.fill("#note-summary", XSS)
    page.click("#note-submit")
    expect(page.locator("#timeline .touch")).to_have_count(2)
    expect(page.locator("#timeline .touch").first.locator(".touch-summary")).to_have_text(XSS)
    page.wait_for_timeout(200)
    assert page.locator("main img, main script, main b").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    page.screenshot(path=artifacts / "customer-html-as-text.png")


def test_merged_customer_shows_notice_and_target_history(page: Page, server: Server) -> None:
    page.goto(server.customer_url("carol_dup"))
    notice = page.locator("#merged-notice")
    expect(notice).to_contain_text(f"merged into customer #{server.seed.ids['carol']}")
    expect(page.locator("#timeline .touch-summary")).to_have_text(["Called from a new number"])
    notice.get_by_role("link").click()
    expect(page).to_have_url(server.customer_url("carol"))
    expect(page.locator("#customer-name")).to_have_text("Carol Dupont")
    expect(page.locator("#identities")).to_contain_text("+442071838750")
    expect(page.locator("#merged-notice")).to_have_count(0)


def test_every_request_stays_on_the_server_host(page: Page, server: Server, watch: Watch) -> None:
    page.goto("/staff/customers?q=alice")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.goto(server.customer_url("alice"))
    expect(page.locator("#timeline .touch")).to_have_count(50)
    paths = {u.removeprefix(server.base_url).split("?")[0] for u in watch.requests}
    assert {"/static/app.css", "/static/customers.js", "/static/customer.js"} <= paths
    assert f"/api/customers/{server.seed.ids['alice']}/orders" in paths
    assert watch.foreign() == []


def test_narrow_screen_has_no_sideways_scroll(page: Page, server: Server, artifacts: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    for url, ready in ((server.customer_url("alice"), "#timeline .touch"), ("/staff/customers?q=joh", "#results tr")):
        page.goto(url)
        expect(page.locator(ready).first).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = page.evaluate(WIDER_THAN_VIEWPORT)
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px: {wide}"
    page.goto(server.customer_url("alice"))
    expect(page.locator("#timeline .touch").first).to_be_visible()
    page.screenshot(path=artifacts / "customer-narrow.png")

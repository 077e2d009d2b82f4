"""Web callback in Debian's Chromium against the real server: the widget's "call me back" form (a slot
offered, then as soon as possible), its confirmation with the place in line and the reference, the
attempt in the agent's console with the number to dial and the outcomes, and the customer's cancel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.widget_fixtures import WidgetServer, eventually, run_server


@pytest.fixture(scope="module")
def cb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WidgetServer]:
    # Open all day, so slots are offered whenever the test runs.
    with run_server(tmp_path_factory.mktemp("callback"), CC_CALLBACK_HOURS="mon-sun=00:00-23:30") as s:
        yield s


def _page(browser: Browser, base: str, cookie: str | None = None) -> Page:
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, base_url=base, locale="en-GB", timezone_id="Europe/London"
    )
    if cookie:
        context.add_cookies([{"name": "cc_session", "value": cookie, "url": base}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def test_a_customer_books_a_callback_the_agent_dials_and_records_no_answer_the_customer_cancels(
    browser: Browser, cb_server: WidgetServer, artifacts: Path
) -> None:
    console = _page(browser, cb_server.base_url, cb_server.agent_cookie())
    console.goto("/staff/console")
    expect(console.locator("#presence")).to_have_attribute("data-state", "online")

    site = _page(browser, cb_server.base_url)
    site.goto("/demo/")
    site.locator("#cc-chat-widget .launcher").click()
    site.get_by_role("button", name="Call me back instead").click()
    form = site.locator(".cbform")
    expect(form).to_be_visible()
    form.get_by_label("Who should we ask for?").fill("Olivia Brown")
    form.get_by_label("Phone number").fill("020 7946 0018")
    form.get_by_label("What is it about? (optional)").fill("Mortgage renewal")
    when = form.get_by_label("When")
    eventually(lambda: when.locator("option").count() > 1, what="free slots listed")
    when.select_option(index=1)  # a slot: the form as a customer fills it in
    site.screenshot(path=artifacts / "widget-callback-form.png")
    form.get_by_text("Here in the browser").click()
    expect(form.get_by_label("Phone number")).to_be_hidden()
    form.get_by_text("On my phone").click()
    when.select_option(index=0)  # as soon as possible: it goes to the agent now
    form.get_by_role("button", name="Request a callback").click()

    done = site.locator(".cbdone")
    expect(done).to_contain_text("An adviser will call you as soon as one is free.")
    expect(done).to_contain_text("Your reference: CB-")
    site.screenshot(path=artifacts / "widget-callback-confirmed.png")

    item = console.locator("#active-list li", has_text="Olivia Brown")
    item.click()
    card = console.locator("#cb-card")
    expect(card.get_by_role("link", name="Call +442079460018")).to_have_attribute("href", "tel:+442079460018")
    expect(card).to_contain_text("Mortgage renewal")
    expect(console.locator("#composer")).to_be_hidden()
    expect(card).not_to_contain_text("null")
    console.screenshot(path=artifacts / "console-callback.png")
    card.get_by_role("button", name="No answer").click()
    expect(card.locator(".cb-result")).to_contain_text("Recorded. It comes back at")

    site.get_by_role("button", name="Cancel the callback").click()
    expect(done).to_contain_text("Your callback is cancelled.")
    assert site.errors == [] and console.errors == []  # type: ignore[attr-defined]
    site.context.close()
    console.context.close()

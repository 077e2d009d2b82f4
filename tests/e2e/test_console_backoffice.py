"""The console's "In the order system" section in Chromium, against a real back office over HTTP: the orders
found under the customer's email and phone, a product's stock on demand, and when the back office hangs the
last known orders with their time and a warning, never "no orders"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Watch
from tests.e2e.console_fixtures import ADMIN, AGENT, PASSWORD, ConsoleServer, Customer, console_server
from tests.integration.backoffice import BackOfficeState, back_office

ORDERS = [
    {
        "ref": "SO-7731",
        "sku": "HB-MORT-5FIX",
        "product_name": "5-year fixed mortgage",
        "quantity": 1,
        "amount": "182500.00",
        "status": "active",
        "placed_at": "2024-03-14T10:00:00Z",
    },
    {
        "ref": "SO-9120",
        "sku": "HB-CARD-GOLD",
        "product_name": "Gold credit card",
        "quantity": 1,
        "amount": "95.00",
        "status": "shipped",
        "placed_at": "2026-11-28T16:20:00Z",
    },
]


@pytest.fixture(scope="module")
def office() -> Iterator[tuple[str, BackOfficeState]]:
    with back_office() as found:
        yield found


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory, office: tuple[str, BackOfficeState]) -> Iterator[ConsoleServer]:
    url, state = office
    env = {"CC_BACKOFFICE_URL": url, "CC_BACKOFFICE_TOKEN": state.token, "CC_BACKOFFICE_TIMEOUT_S": "1"}
    with console_server(tmp_path_factory.mktemp("console-bo"), env) as server:
        yield server


def _signed_in(browser: Browser, cc: ConsoleServer, watch: Watch) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=cc.base_url, locale="en-GB")
    page = context.new_page()
    page.on("request", lambda req: watch.requests.append(req.url))
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.set_default_timeout(10_000)
    page.goto("/login?next=/staff/console")
    page.fill("#username", AGENT)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#presence")).to_have_attribute("data-state", "online")
    return context, page


def _identities(cc: ConsoleServer, customer_id: int) -> None:
    client, csrf = cc.staff_client(ADMIN)
    try:
        for kind, value in (("email", "hana.berg@example.com"), ("phone", "+44 20 7946 0018")):
            r = client.post(
                f"/api/customers/{customer_id}/identities",
                json={"kind": kind, "value": value},
                headers={"X-CSRF-Token": csrf},
            )
            assert r.status_code == 201, r.text
    finally:
        client.close()


def test_orders_from_the_back_office_stock_on_demand_and_the_last_known_when_it_hangs(
    browser: Browser,
    cc: ConsoleServer,
    office: tuple[str, BackOfficeState],
    watch: Watch,
    artifacts: Path,
) -> None:
    _url, state = office
    state.orders[("email", "hana.berg@example.com")] = [ORDERS[0]]
    state.orders[("phone", "+442079460018")] = [ORDERS[1], ORDERS[0]]
    state.stock["HB-CARD-GOLD"] = 42
    cust = Customer(cc)
    try:
        _identities(cc, cust.customer_id)
        context, page = _signed_in(browser, cc, watch)
        try:
            conv = cust.start(name="Hana Berg", topic="Card delivery")
            page.locator(f'.conv-item[data-conv-id="{conv}"]').click()
            box = page.locator("#cp-bo")
            expect(box).to_be_visible()
            expect(box.locator(".bo-order")).to_have_count(2)
            expect(box.locator(".bo-order .order-name")).to_have_text(["Gold credit card", "5-year fixed mortgage"])
            expect(page.locator("#cp-bo-warning")).to_be_hidden()
            expect(page.locator("#cp-bo-when")).to_contain_text("live")
            box.locator('.bo-order[data-ref="SO-9120"] .bo-stock-btn').click()
            expect(box.locator('.bo-order[data-ref="SO-9120"] .bo-stock')).to_have_text("42 in stock")
            box.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "console-backoffice-live.png"))

            state.mode = "hang"  # the order system stops answering
            page.locator("#cp-bo-refresh").click()
            warning = page.locator("#cp-bo-warning")
            expect(warning).to_be_visible()
            expect(warning).to_contain_text("Couldn't reach the order system: it did not answer in time.")
            expect(warning).to_contain_text("Last known at")
            expect(box.locator(".bo-order")).to_have_count(2)  # the last answer, not "no orders"
            expect(box).to_have_attribute("data-status", "unreachable")
            box.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "console-backoffice-unreachable.png"))
        finally:
            state.mode = "ok"
            context.close()
    finally:
        cust.shutdown()
    assert not watch.errors, watch.errors
    assert not watch.foreign(), watch.foreign()
    assert httpx.get(f"{cc.base_url}/api/customers/{cust.customer_id}/backoffice/orders").status_code == 401

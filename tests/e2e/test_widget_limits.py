"""The widget and the visitor limits (docs/security.md, "Anonymous visitors"), in Chromium: past the queue's
limit a visitor is told plainly that the centre is busy, and an expired visitor token is renewed for the same
customer instead of starting over as a stranger."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from contactcenter.auth.service import sign_visitor
from tests.e2e.test_widget import Widget
from tests.e2e.widget_fixtures import Customers, WidgetServer, customers, run_server, widget_server

__all__ = ["customers", "widget_server"]  # fixtures used below
SECRET = "widget-e2e-secret-" + "y" * 40  # run_server's key: this test signs a token as the server would
BUSY = "We're very busy right now, please try again in a few minutes."


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WidgetServer]:
    with run_server(tmp_path_factory.mktemp("widget-busy"), CC_CHAT_NEW_PER_QUEUE_PER_MINUTE="1") as s:
        yield s


def test_past_the_queue_limit_the_visitor_is_told_the_centre_is_busy(
    customers: Customers, busy_server: WidgetServer, artifacts: Path
) -> None:
    first = customers.page(busy_server)
    first.goto("/demo/")
    w1 = Widget(first)
    w1.open()
    w1.start("Fran First")
    expect(w1.status).to_have_text("Waiting for an agent…")

    page = customers.page(busy_server)
    page.goto("/demo/")
    w = Widget(page)
    w.open()
    page.get_by_label("Your name").fill("Sam Second")
    page.get_by_role("button", name="Start chat").click()
    expect(w.notice).to_have_text(BUSY)
    # Back at the form, name kept, to try again later: never a chat that silently waits forever.
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Sam Second")
    page.screenshot(path=artifacts / "widget-busy.png", animations="disabled")


def test_an_expired_token_is_renewed_for_the_same_customer(customers: Customers, widget_server: WidgetServer) -> None:
    issued = httpx.post(f"{widget_server.base_url}/api/visitors").json()
    # Issued 25 hours ago (expired), while the page believes it has hours left: the server's 4401 tells it.
    old = sign_visitor(
        SECRET,
        visitor_id=issued["visitor_id"],
        customer_id=issued["customer_id"],
        issued_at=int(time.time() - 25 * 3600),
    )
    page = customers.page(widget_server)
    later = int(time.time() * 1000) + 10 * 3600 * 1000
    page.context.add_init_script(
        f"localStorage.setItem('ccw.token', {json.dumps(json.dumps(old))});"
        f"localStorage.setItem('ccw.tokenExp', '{later}');"
    )
    page.goto("/demo/")
    w = Widget(page)
    w.open()
    w.start("Rita Returning")
    expect(w.status).to_have_text("Waiting for an agent…")
    token = page.evaluate("JSON.parse(localStorage.getItem('ccw.token'))")
    assert token != old
    me = httpx.get(f"{widget_server.base_url}/api/visitors/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"visitor_id": issued["visitor_id"], "customer_id": issued["customer_id"]}

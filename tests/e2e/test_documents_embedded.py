"""A pushed PDF on the company's own website (another origin, listed in CC_WIDGET_ORIGINS): the widget
imports pdf.js from the contact center (CORS), pdf.js runs the app's own worker (wrapped for the other
origin), fetches the document with the visitor's token, and draws it; the agent gets the receipt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.documents import samples
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_documents import blue_pixels
from tests.e2e.test_embedding import page_embedding, site
from tests.e2e.test_widget import Connect, Widget
from tests.e2e.widget_fixtures import (
    AGENT,
    AGENT_PASSWORD,
    Customers,
    WidgetServer,
    agent,
    customers,
    eventually,
    run_server,
)

__all__ = ["agent", "customers"]  # fixtures used below


@pytest.fixture(scope="module")
def cc_and_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WidgetServer, str]]:
    tmp = tmp_path_factory.mktemp("documents-embedded")
    with site(tmp / "site", "") as origin, run_server(tmp / "cc", CC_WIDGET_ORIGINS=origin) as cc:
        (tmp / "site" / "index.html").write_text(page_embedding(cc.base_url))
        yield cc, origin


@pytest.fixture(scope="module")
def widget_server(cc_and_site: tuple[WidgetServer, str]) -> WidgetServer:
    return cc_and_site[0]


def test_a_pdf_pushed_to_a_widget_on_another_origin_is_drawn(
    customers: Customers, cc_and_site: tuple[WidgetServer, str], agent: Connect, tmp_path: Path
) -> None:
    cc, origin = cc_and_site
    with httpx.Client(base_url=cc.base_url, timeout=10) as h:
        csrf = h.post("/api/session", json={"username": AGENT, "password": AGENT_PASSWORD}).json()["csrf_token"]
        r = h.post(
            "/api/documents", files={"file": ("fund.pdf", samples.pdf(2, "Fund chart"))}, data={"title": "Fund chart"},
            headers={"X-CSRF-Token": csrf},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        doc = r.json()
    page = customers.page(cc)
    page.goto(origin + "/")
    w = Widget(page)
    a = agent()
    w.open()
    w.start("Erin Embedded")
    conv = a.conversation("Erin Embedded")
    a.send({"type": "document_push", "conversation_id": conv["id"], "document_id": doc["id"]})
    viewer = page.locator("#cc-chat-widget .doc-view")
    expect(viewer).to_have_attribute("data-rendered", "1")
    expect(viewer.locator(".doc-page")).to_have_text("Page 1 of 2")
    assert blue_pixels(page) > 1000
    opened = eventually(
        lambda: [f for f in a.of_type("document_receipt") if f["event"] == "opened"], what="the opened receipt"
    )
    assert opened[0]["push"]["page_count"] == 2
    (ARTIFACTS / "issue15").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "issue15" / "customer-pdf-other-origin.png"))

"""The widget on the company's own website: a page served from another origin embeds it by one script tag and
chats with an agent (offline and back included) when that origin is in CC_WIDGET_ORIGINS; a site that is not
listed gets nothing from the contact center."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.test_widget import Connect, Widget
from tests.e2e.widget_fixtures import Customers, WidgetServer, agent, customers, eventually, run_server
from tests.services import free_port

__all__ = ["agent", "customers"]  # fixtures used below


@contextlib.contextmanager
def site(folder: Path, page: str) -> Iterator[str]:
    """A company website of its own (another port: another origin) serving `page` as index.html."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(page)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def page_embedding(base: str, attributes: str = "") -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bank of the Example</title>
<script src="{base}/widget.js" {attributes} defer></script></head>
<body><h1>Bank of the Example</h1><p>Our savings accounts.</p></body></html>"""


@pytest.fixture(scope="module")
def cc_and_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WidgetServer, str, str]]:
    tmp = tmp_path_factory.mktemp("embedding")
    page_dir_good, page_dir_bad = tmp / "good", tmp / "bad"
    # The site's origin must be known before the contact center starts: serve first, then start it.
    with site(page_dir_good, "") as good, site(page_dir_bad, "") as bad:
        with run_server(tmp / "cc", CC_WIDGET_ORIGINS=good) as cc:
            for folder in (page_dir_good, page_dir_bad):
                (folder / "index.html").write_text(page_embedding(cc.base_url))
            # The same site's savings page names its queue and topic; another names a queue that does not exist.
            (page_dir_good / "savings.html").write_text(
                page_embedding(cc.base_url, 'data-queue="general" data-topic="Savings accounts"')
            )
            (page_dir_good / "typo.html").write_text(page_embedding(cc.base_url, 'data-queue="savingz"'))
            yield cc, good, bad


@pytest.fixture(scope="module")
def widget_server(cc_and_sites: tuple[WidgetServer, str, str]) -> WidgetServer:
    """The contact center of these tests (the agent fixture connects to it)."""
    return cc_and_sites[0]


def test_a_listed_site_embeds_the_widget_and_chats_through_offline_and_back(
    customers: Customers, cc_and_sites: tuple[WidgetServer, str, str], agent: Connect, artifacts: Path
) -> None:
    cc, good, _ = cc_and_sites
    page = customers.page(cc)
    page.goto(good + "/")
    expect(page).to_have_title("Bank of the Example")
    w = Widget(page)
    a = agent()
    w.open()
    w.start("Erin Embedded")
    conv = a.conversation("Erin Embedded")
    expect(w.status).to_contain_text("Chatting with")
    w.say("Hello from the bank's own website")
    eventually(lambda: a.messages(conv["id"]), what="the customer's message at the agent")
    a.say(conv["id"], "Hello Erin, how can I help?")
    expect(w.bubbles().last).to_have_text("Hello Erin, how can I help?")
    page.context.set_offline(True)
    w.say("Typed while offline")
    page.context.set_offline(False)
    eventually(lambda: len(a.messages(conv["id"])) == 2, timeout=30, what="the offline message delivered")
    assert [m["body"] for m in a.messages(conv["id"])] == ["Hello from the bank's own website", "Typed while offline"]
    page.screenshot(path=artifacts / "widget-embedded-other-origin.png")


def test_a_site_not_listed_gets_a_refusal_and_nothing_is_created(
    customers: Customers, cc_and_sites: tuple[WidgetServer, str, str]
) -> None:
    cc, _, bad = cc_and_sites
    page = customers.page(cc)
    page.goto(bad + "/")
    w = Widget(page)
    w.open()
    page.get_by_label("Your name").fill("Mallory")
    page.get_by_role("button", name="Start chat").click()
    expect(w.notice).to_contain_text("Couldn't start the chat")
    # The refusal the browser hid from the page, as the contact center gave it.
    r = httpx.post(f"{cc.base_url}/api/visitors", headers={"Origin": bad})
    assert (r.status_code, r.json()["error"], r.headers.get("access-control-allow-origin")) == (
        403,
        "origin_not_allowed",
        None,
    )


def test_the_script_tag_names_the_queue_and_topic_and_the_agent_sees_the_full_address(
    customers: Customers, cc_and_sites: tuple[WidgetServer, str, str], agent: Connect
) -> None:
    cc, good, _ = cc_and_sites
    page = customers.page(cc)
    page.goto(good + "/savings.html?utm_source=mail#top")
    w = Widget(page)
    a = agent()
    w.open()
    w.start("Sasha Saver")
    conv = a.conversation("Sasha Saver")
    # Origin and path (no query, no fragment): an agent serving several sites tells them apart.
    assert (conv["page_url"], conv["topic"], conv["queue"]) == (good + "/savings.html", "Savings accounts", "general")


def test_a_queue_that_does_not_exist_is_a_clear_error_not_a_silent_fallback(
    customers: Customers, cc_and_sites: tuple[WidgetServer, str, str]
) -> None:
    cc, good, _ = cc_and_sites
    page = customers.page(cc)
    logged: list[str] = []
    page.on("console", lambda m: logged.append(m.text) if m.type == "error" else None)
    page.goto(good + "/typo.html")
    w = Widget(page)
    w.open()
    page.get_by_label("Your name").fill("Tom Typo")
    page.get_by_role("button", name="Start chat").click()
    expect(w.notice).to_contain_text("Couldn't start the chat")
    eventually(lambda: [t for t in logged if "savingz" in t and "data-queue" in t], what="the console error")

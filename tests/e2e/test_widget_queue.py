"""The widget's outgoing queue: messages typed before the conversation exists, and paced resends of a long
queue after a reconnect (the server closes a socket that floods it with sends: 4429)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.e2e.conftest import COUNT_SOCKETS
from tests.e2e.test_widget import Connect, Widget
from tests.e2e.widget_fixtures import Customers, WidgetServer, agent, customers, widget_server

__all__ = ["agent", "customers", "widget_server"]  # fixtures used below


def stored(server: WidgetServer, page: Page, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's customer messages as the server stored them (the widget's own history API)."""
    token = json.loads(page.evaluate("localStorage.getItem('ccw.token')"))
    r = httpx.get(
        f"{server.base_url}/api/chat/conversations/{conversation_id}/messages?after=0",
        headers={"Authorization": f"Bearer {token}"},
    )
    r.raise_for_status()
    return [m for m in r.json() if m["sender"] == "customer"]


def test_message_sent_right_after_start_is_queued_then_delivered(
    customers: Customers, widget_server: WidgetServer, agent: Connect, artifacts: Path
) -> None:
    """Phone-sized: Start chat, then Enter before the server has answered with the conversation."""
    page = customers.page(
        widget_server, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    held: list[str] = []
    hold = {"on": True}
    routes: list[WebSocketRoute] = []

    def proxy(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        routes.append(ws)

        def down(m: str | bytes) -> None:
            # Every frame from the conversation frame on waits until the test lets it through.
            if hold["on"] and (held or json.loads(m)["type"] == "conversation"):
                held.append(str(m))
            else:
                ws.send(m)

        server.on_message(down)

    page.route_web_socket(re.compile(r"/ws$"), proxy)
    page.goto("/demo/mortgages.html")
    w = Widget(page)
    a = agent()
    w.launcher.tap()
    w.start("Quinn Quick")
    first, second = "Typed before the chat opened", "And a second one"
    w.say(first)
    w.say(second)
    expect(w.input).to_have_value("")
    expect(w.pending).to_have_count(2)
    expect(w.pending).to_contain_text([first, second])
    expect(w.pending.first).to_contain_text("Sending…")
    expect(page.locator("#ccw-panel > .notice")).to_be_hidden()
    page.screenshot(path=artifacts / "widget-phone-queued-before-start.png", animations="disabled")
    cid = a.conversation("Quinn Quick")["id"]  # the server has opened it; the page does not know yet
    assert a.bodies(cid) == []

    hold["on"] = False
    for m in held:
        routes[-1].send(m)
    w.expect_history([first, second])
    expect(w.pending).to_have_count(0)
    assert a.wait_bodies(cid, 2) == [first, second]
    assert [m["body"] for m in stored(widget_server, page, cid)] == [first, second]
    page.screenshot(path=artifacts / "widget-phone-queued-delivered.png", animations="disabled")


def test_forty_messages_queued_offline_are_paced_and_stored_once(
    customers: Customers, widget_server: WidgetServer, agent: Connect
) -> None:
    page = customers.page(widget_server)
    page.add_init_script(COUNT_SOCKETS)
    sends: list[str] = []
    refused: set[str] = set()
    errors: list[dict[str, Any]] = []
    refuse = {"n": 0}

    def proxy(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def up(m: str | bytes) -> None:
            f = json.loads(m)
            if f["type"] == "send":
                sends.append(f["client_id"])
                if refuse["n"] and f["client_id"] not in refused:
                    # As the server answers a send over its budget: the widget must keep it and retry later.
                    refuse["n"] -= 1
                    refused.add(f["client_id"])
                    detail = "too many messages; wait a moment and resend"
                    ws.send(
                        json.dumps({"type": "error", "code": "rate_limited", "detail": detail, "ref": f["client_id"]})
                    )
                    return
            server.send(m)

        def down(m: str | bytes) -> None:
            f = json.loads(m)
            if f["type"] == "error":
                errors.append(f)
            ws.send(m)

        ws.on_message(up)
        server.on_message(down)

    page.route_web_socket(re.compile(r"/ws$"), proxy)
    page.goto("/demo/")
    w = Widget(page)
    a = agent()
    w.open()
    w.start("Fran Forty")
    expect(w.status).to_contain_text("Chatting with")  # Playwright runs the proxy only while the test waits on it
    cid = a.conversation("Fran Forty")["id"]

    page.context.set_offline(True)
    expect(w.banner).to_be_visible()
    bodies = [f"Queued message {n:02d}" for n in range(1, 41)]
    for body in bodies:
        w.say(body)
    expect(w.pending).to_have_count(40)
    refuse["n"] = 3  # the first three sends after the reconnect are refused as rate_limited
    page.context.set_offline(False)
    expect(w.pending).to_have_count(0, timeout=60_000)
    expect(w.bubbles()).to_have_count(40)

    got = [m["body"] for m in stored(widget_server, page, cid)]
    assert sorted(got) == bodies  # every one, exactly once
    assert len(refused) == 3 and all(sends.count(c) >= 2 for c in refused)  # refused ones went again
    assert 4429 not in page.evaluate("window.__ws.closes")
    assert not [e for e in errors if e["code"] == "rate_limited"], errors  # the real server never had to refuse
    assert a.wait_bodies(cid, 40)

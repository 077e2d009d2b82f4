"""The embeddable chat widget on the Harbour Bank demo site, in Debian's Chromium against the real server.

The agent side is a websocket client in a thread of its own (tests/e2e/widget_fixtures.py)."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.widget_fixtures import (
    AGENT_NAME,
    Agent,
    Customers,
    WidgetServer,
    agent,
    customers,
    eventually,
    server_without_mail,
    widget_server,
)

__all__ = ["agent", "customers", "server_without_mail", "widget_server"]  # fixtures used below
Connect = Callable[[], Agent]
XSS_NAME = '<img src=x onerror="window.__xss=1">Eve <b>Evil</b>'
XSS_BODIES = ["<script>window.__xss=2</script>", '<img src=x onerror="window.__xss=3"> & &amp; <i>hi</i>']
XSS_AGENT = '<svg onload="window.__xss=4"></svg><a href="javascript:window.__xss=5">click</a>'


class Widget:
    """Locators inside the widget's (open) Shadow DOM; Playwright's CSS engine pierces it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.locator("#cc-chat-widget .launcher")
        self.panel = page.locator(".panel")
        self.input = page.get_by_role("textbox", name="Message")
        self.banner = page.locator(".banner")
        self.status = page.locator(".status")
        self.history = page.locator(".log[role=log] .msg")
        self.pending = page.locator(".msg.sending")
        self.notice = page.locator(".notice")

    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()

    def start(self, name: str = "", email: str = "") -> None:
        self.page.get_by_label("Your name").fill(name)
        self.page.get_by_label("Email", exact=True).fill(email)
        self.page.get_by_role("button", name="Start chat").click()
        expect(self.input).to_be_visible()

    def say(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def bubbles(self) -> Locator:
        return self.page.locator(".log[role=log] .msg .bubble")

    def expect_history(self, texts: list[str]) -> None:
        expect(self.bubbles()).to_have_text(texts)


def _chat(
    customers: Customers, server: WidgetServer, connect: Connect, name: str, path: str = "/demo/", email: str = ""
) -> tuple[Page, Widget, Agent, str]:
    """A customer on `path` chatting with a connected agent: (page, widget, agent, conversation id)."""
    page = customers.page(server)
    page.goto(path)
    w = Widget(page)
    a = connect()
    w.open()
    w.start(name, email)
    conv = a.conversation(name)
    expect(w.status).to_contain_text("Chatting with")
    return page, w, a, conv["id"]


def test_customer_chats_with_agent_across_pages(
    customers: Customers, widget_server: WidgetServer, agent: Connect, artifacts: Path
) -> None:
    page = customers.page(widget_server)
    page.goto("/demo/")
    w = Widget(page)
    expect(w.launcher).to_be_visible()
    expect(w.launcher).to_have_attribute("aria-label", "Open chat")
    page.screenshot(path=artifacts / "widget-launcher.png", animations="disabled")
    page.evaluate("window.__sameDocument = 1")

    w.open()
    page.get_by_label("Your name").fill("Ann Example")
    page.screenshot(path=artifacts / "widget-prechat.png", animations="disabled")
    w.start("Ann Example", "ann@example.com")
    expect(page.locator(".waiting")).to_have_text("Waiting for an agent…")
    expect(w.status).to_have_text("Waiting for an agent…")

    a = agent()  # the agent comes online: the queued chat is handed to them
    conv = a.conversation("Ann Example")
    cid = conv["id"]
    assert conv["page_url"] == widget_server.base_url + "/demo/"  # the full address: which site, which page
    expect(page.locator(".waiting")).to_be_hidden()

    w.say("Hello, I have a question about mortgages")
    w.input.fill("line one")
    w.input.press("Shift+Enter")
    w.input.press_sequentially("line two")
    eventually(lambda: [f for f in a.of_type("typing") if f["state"] is True], what="the customer typing")
    w.input.press("Enter")
    w.say("Is the 5-year fix available?")
    sent = ["Hello, I have a question about mortgages", "line one\nline two", "Is the 5-year fix available?"]
    assert a.wait_bodies(cid, 3) == sent

    a.typing(cid, True)
    expect(page.locator(".typing")).to_have_text(f"{AGENT_NAME} is typing…")
    a.say(cid, "Hi Ann, I'm Alice. Yes, it is.")
    a.say(cid, "Would you like a call back?")
    expect(page.locator(".typing")).to_be_hidden()
    w.expect_history([*sent, "Hi Ann, I'm Alice. Yes, it is.", "Would you like a call back?"])
    expect(w.status).to_have_text(f"Chatting with {AGENT_NAME}")
    expect(page.locator(".msg.agent .who")).to_have_text([AGENT_NAME])  # one label for consecutive messages
    expect(page.locator(".msg.customer").first.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d"))
    last = a.say(cid, "Take your time.")
    eventually(lambda: [f for f in a.of_type("read") if f["reader"] == "customer" and f["seq"] >= last], what="ack")
    page.screenshot(path=artifacts / "widget-chat-desktop.png", animations="disabled")
    assert page.evaluate("window.__sameDocument") == 1  # nothing reloaded the page

    # Another page of the site: the chat is replayed from the server, once, and goes on.
    page.get_by_role("link", name="Mortgages").first.click()
    expect(page).to_have_url(re.compile(r"/demo/mortgages\.html$"))
    w.expect_history([*sent, "Hi Ann, I'm Alice. Yes, it is.", "Would you like a call back?", "Take your time."])
    a.say(cid, "Here is our rate table.")
    w.say("Thanks, found it")
    assert a.wait_bodies(cid, 4)[-1] == "Thanks, found it"
    expect(w.bubbles()).to_have_count(8)
    expect(w.pending).to_have_count(0)

    # The customer ends the chat; a new one can start later.
    page.get_by_role("button", name="End chat").click()
    page.get_by_role("group", name="End chat").get_by_role("button", name="End chat").click()
    expect(page.locator(".ended")).to_contain_text("Chat ended")
    eventually(lambda: a.status(cid) == "closed", what="the agent to see the close")
    page.get_by_role("button", name="Start a new chat").click()
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Ann Example")


def test_agent_ends_chat_and_customer_starts_another(
    customers: Customers, widget_server: WidgetServer, agent: Connect, artifacts: Path
) -> None:
    page, w, a, cid = _chat(customers, widget_server, agent, "Ben Closing")
    w.say("Just checking my balance")
    page.get_by_role("button", name="Minimise chat").click()
    expect(w.panel).to_be_hidden()
    a.say(cid, "All done. Goodbye!")
    expect(page.locator(".badge")).to_have_text("1")  # unread while the panel is closed
    expect(w.launcher).to_have_attribute("aria-label", "Open chat, 1 unread")
    page.screenshot(path=artifacts / "widget-unread.png", animations="disabled")
    w.open()
    expect(page.locator(".badge")).to_be_hidden()
    a.close_conversation(cid)
    expect(page.locator(".ended")).to_contain_text("Chat ended")
    expect(w.input).to_be_hidden()
    w.expect_history(["Just checking my balance", "All done. Goodbye!"])
    page.screenshot(path=artifacts / "widget-ended.png", animations="disabled")

    page.get_by_role("button", name="Start a new chat").click()
    w.start("Ben Closing")
    expect(w.bubbles()).to_have_count(0)
    eventually(lambda: any(f["conversation"]["id"] != cid for f in a.of_type("conversation")), what="new chat")
    new = a.conversation("Ben Closing")
    assert new["id"] != cid


def test_offline_then_back_delivers_everything_once(
    customers: Customers, widget_server: WidgetServer, agent: Connect, artifacts: Path
) -> None:
    page, w, a, cid = _chat(customers, widget_server, agent, "Olive Offline")
    w.say("Before going offline")
    a.wait_bodies(cid, 1)
    a.say(cid, "Hello Olive")
    expect(w.bubbles()).to_have_count(2)

    page.context.set_offline(True)
    expect(w.banner).to_be_visible()
    expect(w.banner).to_have_text("Reconnecting…")
    for n in (1, 2, 3):
        a.say(cid, f"While you were away {n}")
    w.say("Typed while offline")
    expect(w.pending).to_have_count(1)
    expect(w.pending).to_contain_text("Sending…")
    page.screenshot(path=artifacts / "widget-reconnecting.png", animations="disabled")

    page.context.set_offline(False)
    expect(w.banner).to_be_hidden(timeout=5_000)
    expect(w.pending).to_have_count(0)
    w.expect_history(
        [
            "Before going offline",
            "Hello Olive",
            "While you were away 1",
            "While you were away 2",
            "While you were away 3",
            "Typed while offline",
        ]
    )
    # A message sent after the reconnect reaches the agent after any duplicate of a resend would have
    # (one socket, stored and announced in order): once it is there, there was none.
    w.say("After the reconnect")
    a.wait_bodies(cid, 3)
    assert a.bodies(cid) == ["Before going offline", "Typed while offline", "After the reconnect"]
    expect(w.pending).to_have_count(0)
    assert len(set(page.locator(".log[role=log] .msg").evaluate_all("els => els.map(e => e.dataset.seq)"))) == 7


def test_silent_socket_is_dropped_after_two_heartbeats(
    customers: Customers, widget_server: WidgetServer, agent: Connect
) -> None:
    """A socket that stays open but delivers nothing (a dead NAT path) is closed and replaced."""
    page = customers.page(widget_server)
    state = {"mute": False}

    def proxy(ws) -> None:  # type: ignore[no-untyped-def]
        server = ws.connect_to_server()
        server.on_message(lambda m: None if state["mute"] else ws.send(m))

    page.route_web_socket(re.compile(r"/ws$"), proxy)
    page.goto("/demo/contact.html")
    w = Widget(page)
    a = agent()
    w.open()
    w.start("Sam Silent")
    expect(w.status).to_contain_text("Chatting with")  # Playwright runs the proxy only while the test waits on it
    cid = a.conversation("Sam Silent")["id"]
    state["mute"] = True
    expect(w.banner).to_be_visible(timeout=4_000)  # 2 × heartbeat (1 s) without a pong
    a.say(cid, "Are you still there?")
    state["mute"] = False
    expect(w.banner).to_be_hidden(timeout=8_000)
    w.expect_history(["Are you still there?"])


def test_markup_is_shown_as_text_and_stored_verbatim(
    customers: Customers, widget_server: WidgetServer, agent: Connect
) -> None:
    page, w, a, cid = _chat(customers, widget_server, agent, XSS_NAME)
    for body in XSS_BODIES:
        w.say(body)
    assert a.wait_bodies(cid, 2) == XSS_BODIES
    assert a.conversation(XSS_NAME)["customer_name"] == XSS_NAME
    a.say(cid, XSS_AGENT)
    a.typing(cid, True)
    w.expect_history([*XSS_BODIES, XSS_AGENT])
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"
    widget = page.locator("#cc-chat-widget")
    assert widget.evaluate("h => h.shadowRoot.querySelectorAll('.log script, .log img, .log svg, .log b').length") == 0
    assert a.messages(cid, "agent")[-1]["body"] == XSS_AGENT


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    w, h = 96, 64  # a small blue-to-green gradient
    raw = b"".join(b"\x00" + b"".join(bytes((20 + x, 90 + y * 2, 200 - x)) for x in range(w)) for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_attachments_images_and_pdfs_only(
    customers: Customers, widget_server: WidgetServer, agent: Connect, artifacts: Path
) -> None:
    page, w, a, cid = _chat(customers, widget_server, agent, "Pat Papers")
    picker = page.locator("input[type=file]")
    expect(page.get_by_role("button", name="Attach an image or PDF")).to_be_visible()

    picker.set_input_files({"name": "receipt.png", "mimeType": "image/png", "buffer": _png()})
    thumb = page.locator(".msg.customer img.thumb")
    expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    eventually(lambda: thumb.evaluate("i => i.complete && i.naturalWidth") == 96, what="the thumbnail to load")
    picker.set_input_files({"name": "statement.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(page.locator(".msg.customer .att-file")).to_contain_text("statement.pdf")
    msgs = eventually(lambda: len(a.messages(cid)) >= 2 and a.messages(cid), what="two attachments")
    assert [m["attachments"][0]["name"] for m in msgs] == ["receipt.png", "statement.pdf"]
    assert [m["attachments"][0]["type"] for m in msgs] == ["image/png", "application/pdf"]
    assert msgs[1]["attachments"][0]["size"] == len(PDF)
    with page.expect_download() as dl:
        page.locator(".att-file").click()
    assert Path(dl.value.path()).read_bytes() == PDF

    picker.set_input_files({"name": "photo.png", "mimeType": "image/png", "buffer": b"MZ\x90\x00" + b"\x00" * 200})
    expect(w.notice).to_contain_text("“photo.png” can't be sent: only PNG, JPEG, GIF or WebP images and PDF")
    picker.set_input_files({"name": "big.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-" + b"0" * 5_300_000})
    expect(w.notice).to_contain_text("“big.pdf” is too large (5.1 MB). Files can be at most 5 MB.")
    expect(w.banner).to_be_hidden()  # a busy page (the 5 MB file) is not mistaken for a dead socket
    page.screenshot(path=artifacts / "widget-attachments.png", animations="disabled")
    page.wait_for_timeout(500)
    assert len(a.messages(cid)) == 2
    expect(page.locator(".msg.customer")).to_have_count(2)


def test_transcript_by_email(customers: Customers, widget_server: WidgetServer, agent: Connect) -> None:
    # Transcripts go only to the address given before the chat (docs/security.md): the sheet offers it.
    page, w, a, cid = _chat(customers, widget_server, agent, "Tess Transcript", email="tess@example.com")
    w.say("Please send me what we said")
    a.wait_bodies(cid, 1)
    a.say(cid, "Of course, Tess: rates start at 4.29%.")
    expect(w.bubbles()).to_have_count(2)
    page.get_by_role("button", name="Email me the transcript").click()
    expect(page.get_by_label("Send a copy of this chat to")).to_have_value("tess@example.com")
    page.get_by_role("button", name="Send transcript").click()
    expect(page.locator(".t-result")).to_have_text("Transcript sent to tess@example.com (2 messages).")
    assert widget_server.sink is not None
    mail = eventually(lambda: [m for m in widget_server.sink.messages if m["To"] == "tess@example.com"], what="mail")
    text = mail[0].get_payload(decode=True).decode()
    assert "Please send me what we said" in text
    assert "Of course, Tess: rates start at 4.29%." in text


def test_transcript_unavailable_without_mail_relay(customers: Customers, server_without_mail: WidgetServer) -> None:
    page = customers.page(server_without_mail)
    page.goto("/demo/funds/global-equity.html")
    w = Widget(page)
    w.open()
    w.start("Una Available")
    expect(w.status).to_have_text("Waiting for an agent…")  # nobody is online on this server
    w.say("Hello?")
    expect(page.locator(".msg.customer")).to_have_count(1)
    expect(w.pending).to_have_count(0)
    page.get_by_role("button", name="Email me the transcript").click()
    page.get_by_label("Send a copy of this chat to").fill("una@example.com")
    page.get_by_role("button", name="Send transcript").click()
    expect(page.locator(".t-result")).to_have_text(
        "Couldn't send the transcript: transcripts by email are not configured here"
    )


def test_phone_layout_fills_the_screen(
    customers: Customers, widget_server: WidgetServer, agent: Connect, artifacts: Path
) -> None:
    page = customers.page(
        widget_server, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page.goto("/demo/mortgages.html")
    w = Widget(page)
    box = w.launcher.bounding_box()
    assert box and box["width"] >= 56 and box["x"] + box["width"] > 340 and box["y"] + box["height"] > 780
    page.screenshot(path=artifacts / "widget-phone-launcher.png", animations="disabled")
    a = agent()
    w.launcher.tap()
    assert w.panel.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 844}
    expect(w.launcher).to_be_hidden()
    w.start("Phoebe Phone")
    cid = a.conversation("Phoebe Phone")["id"]
    w.input.tap()
    w.input.fill("Typed on my phone")
    page.get_by_role("button", name="Send message").tap()
    assert a.wait_bodies(cid, 1) == ["Typed on my phone"]
    a.say(cid, "Hello Phoebe, how can I help with your mortgage?")
    expect(w.bubbles()).to_have_count(2)
    ib = w.input.bounding_box()
    assert ib and ib["height"] >= 44 and ib["y"] + ib["height"] <= 844 and ib["x"] >= 0
    send = page.get_by_role("button", name="Send message").bounding_box()
    assert send and send["width"] >= 44 and send["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / "widget-chat-phone.png", animations="disabled")
    page.get_by_role("button", name="Minimise chat").tap()
    expect(w.launcher).to_be_visible()


def test_no_foreign_requests_and_accessible_names(customers: Customers, widget_server: WidgetServer) -> None:
    for path in ("/demo/", "/demo/mortgages.html", "/demo/funds/global-equity.html", "/demo/contact.html"):
        page = customers.page(widget_server)
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        w = Widget(page)
        w.open()
        expect(page.get_by_role("dialog", name="Harbour Bank")).to_be_visible()
        expect(page.locator(".log[role=log]")).to_have_attribute("aria-live", "polite")
        expect(w.launcher).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Escape")
        expect(w.panel).to_be_hidden()
        page.close()
    assert any(u.startswith("http://127.0.0.1") and u.endswith("/widget.js") for u in customers.watch.requests)
    assert not customers.watch.errors
    assert not customers.watch.foreign()

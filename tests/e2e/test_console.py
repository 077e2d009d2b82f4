"""The agent console in Debian's Chromium against the real server, with a customer on a real websocket."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.e2e.conftest import Watch
from tests.e2e.console_fixtures import (
    ADMIN,
    AGENT,
    AGENT_NAME,
    PASSWORD,
    PDF,
    SUPERVISOR,
    ConsoleServer,
    Customer,
    SocketProxy,
    console_server,
    png,
)

EVIL = '<img src=x onerror="window.__xss=1">Eve<script>window.__xss=1</script>'


class OpenConsole(Protocol):
    def __call__(self, username: str, before: Callable[[Page], None] | None = None) -> Page: ...


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("console")) as server:
        yield server


@pytest.fixture
def customer(cc: ConsoleServer) -> Iterator[Callable[[], Customer]]:
    made: list[Customer] = []

    def make() -> Customer:
        made.append(Customer(cc))
        return made[-1]

    yield make
    for c in made:
        c.shutdown()


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def open_console(browser: Browser, cc: ConsoleServer, watch: Watch) -> Iterator[OpenConsole]:
    """Sign in at /login as a staff user and land on the console, connected; checks page errors and hosts."""
    contexts: list[BrowserContext] = []
    failed: list[str] = []

    def open_(username: str, before: Callable[[Page], None] | None = None) -> Page:
        context = browser.new_context(
            viewport={"width": 1440, "height": 900}, base_url=cc.base_url, locale="en-GB", timezone_id="Europe/London"
        )
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda req: watch.requests.append(req.url))
        page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
        page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
        page.set_default_timeout(10_000)
        if before:
            before(page)
        page.goto("/login?next=/staff/console")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{cc.base_url}/staff/console")
        expect(page.locator("#presence")).to_have_attribute("data-state", "online")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not watch.errors, f"page errors: {watch.errors}"
    assert not watch.foreign(), f"requests to other hosts: {watch.foreign()}"
    assert not failed, f"failed requests: {failed}"


def chat_item(page: Page, conversation_id: str) -> Locator:
    return page.locator(f'.conv-item[data-conv-id="{conversation_id}"]')


def open_chat(page: Page, cust: Customer, name: str, topic: str, first: str = "Hello") -> str:
    cid = cust.start(name=name, topic=topic)
    cust.say(first)
    chat_item(page, cid).click()
    expect(page.locator("#thread-name")).to_have_text(name)
    expect(page.locator("#msg-log .msg-customer .msg-body").last).to_have_text(first)
    return cid


def send(page: Page, text: str) -> None:
    page.locator("#composer-input").fill(text)
    page.locator("#composer-input").press("Enter")


def test_new_chat_shows_unread_then_reading_clears_it_and_replies_reach_the_customer(
    open_console: OpenConsole, customer: Callable[[], Customer], artifacts: Path
) -> None:
    page = open_console(AGENT)
    expect(page.locator("#who-name")).to_have_text(AGENT_NAME)
    expect(page.locator(".mainnav a.active")).to_have_text("Console")
    expect(page.locator("#active-empty")).to_be_visible()

    cust = customer()
    cid = cust.start(name="Ann Carter", topic="Mortgage renewal")
    item = chat_item(page, cid)
    expect(item.locator(".conv-name")).to_have_text("Ann Carter")
    expect(item.locator(".conv-topic")).to_have_text("Mortgage renewal")
    expect(page.locator("#announcer")).to_have_text("New chat from Ann Carter, Mortgage renewal")
    expect(page.locator("#active-list li.fresh")).to_have_count(1)
    texts = ["Hi, my fixed rate ends next month", "Can I renew early?", "Account ends 4471"]
    for text in texts:
        cust.say(text)
    expect(item.locator(".unread")).to_have_text("3")
    expect(item.locator(".conv-preview")).to_have_text(texts[-1])
    expect(page).to_have_title(re.compile(r"^\(3\) Console"))

    item.click()
    expect(item).to_have_attribute("aria-current", "true")
    expect(page.locator("#msg-log .msg-customer .msg-body")).to_have_text(texts)
    expect(item.locator(".unread")).to_have_count(0)
    assert cust.wait_for("read", lambda f: f["reader"] == "agent" and f["seq"] == 3)["conversation_id"] == cid

    cust.typing(True)
    expect(page.locator("#typing")).to_have_text("Ann Carter is typing…")
    expect(item.locator(".conv-preview")).to_have_text("typing…")
    cust.typing(False)
    expect(page.locator("#typing")).to_have_text("")

    send(page, "Hi Ann, yes: you can renew up to 3 months early.")
    got = cust.message("Hi Ann, yes: you can renew up to 3 months early.")
    assert got["sender"] == "agent" and got["sender_name"] == AGENT_NAME and got["seq"] == 4
    mine = page.locator("#msg-log .msg-agent")
    expect(mine.locator(".receipt")).to_have_text(["Sent"])
    cust.ack(4)
    expect(mine.locator(".receipt")).to_have_text(["Seen"])

    box = page.locator("#composer-input")
    box.fill("Two things:")
    box.press("Shift+Enter")
    box.press_sequentially("rate and term")
    box.press("Enter")
    assert cust.message("Two things:\nrate and term")["seq"] == 5
    expect(box).to_have_value("")
    cust.say("Great, thanks!")
    expect(page.locator("#msg-log .msg-customer .msg-body").last).to_have_text("Great, thanks!")
    expect(item.locator(".unread")).to_have_count(0)  # the open chat is acked as it arrives
    page.screenshot(path=artifacts / "console-conversation.png")


def test_private_note_is_shown_as_a_note_and_never_reaches_the_customer(
    open_console: OpenConsole, customer: Callable[[], Customer]
) -> None:
    page = open_console(AGENT)
    cust = customer()
    open_chat(page, cust, "Noah Brooks", "Billing", "I was charged twice")

    page.click("#mode-note")
    expect(page.locator("#composer")).to_have_class(re.compile(r"\bis-note\b"))
    expect(page.locator("#send-label")).to_have_text("Add note")
    note = "Double charge confirmed in billing; refund ticket R-2231"
    page.locator("#composer-input").press_sequentially(note[:10])  # typing a note is not relayed
    page.locator("#composer-input").fill(note)
    page.locator("#composer-input").press("Enter")
    shown = page.locator("#msg-log .msg-note")
    expect(shown.locator(".msg-body")).to_have_text(note)
    expect(shown.locator(".note-tag")).to_contain_text("Note")
    expect(shown.locator(".msg-meta .receipt")).to_have_count(0)
    time.sleep(0.3)
    assert not [f for f in cust.frames if f["type"] == "typing"], "typing a note must not be relayed"

    page.click("#mode-reply")
    page.locator("#composer-input").press_sequentially("Sorry")
    assert cust.wait_for("typing", lambda f: f["sender"] == "agent" and f["state"])
    page.locator("#composer-input").fill("Sorry about that, Noah: the refund is on its way.")
    page.locator("#composer-input").press("Enter")
    # The reply left the console after the note: had the note been relayed, it would be here already.
    reply = cust.message("Sorry about that, Noah: the refund is on its way.")
    bodies = [m["body"] for m in cust.messages()]
    assert note not in bodies and not any(m["private"] for m in cust.messages())
    assert reply["seq"] == 3  # the note took seq 2: the customer's numbers skip it
    expect(page.locator("#msg-log .msg").nth(1)).to_have_class(re.compile(r"\bmsg-note\b"))


def test_supervisor_manages_canned_replies_and_agent_inserts_one_with_slash(
    open_console: OpenConsole, customer: Callable[[], Customer], artifacts: Path
) -> None:
    sup = open_console(SUPERVISOR)
    sup.click("#canned-manage")
    dialog = sup.locator("#canned-dialog")
    expect(dialog).to_be_visible()
    for shortcut, title, body in [
        ("hours", "Opening hours", "We're open 8:00-20:00, Monday to Saturday."),
        ("bye", "Goodbye", "Thanks for chatting with us. Have a good day!"),
    ]:
        sup.fill("#cf-shortcut", shortcut)
        sup.fill("#cf-title", title)
        sup.fill("#cf-body", body)
        sup.click("#cf-save")
        expect(dialog.locator(f'tr[data-shortcut="{shortcut}"]')).to_contain_text(title)
    sup.fill("#cf-shortcut", "Has Spaces")
    sup.fill("#cf-title", "Bad")
    sup.fill("#cf-body", "Bad")
    sup.click("#cf-save")
    expect(sup.locator("#cf-error")).to_contain_text("Shortcut")
    dialog.get_by_role("button", name="Edit /hours").click()
    expect(sup.locator("#cf-shortcut")).to_have_value("hours")
    sup.fill("#cf-body", "We're open 8:00-20:00, Monday to Saturday, and 10:00-16:00 on Sundays.")
    sup.click("#cf-save")
    expect(dialog.locator('tr[data-shortcut="hours"] .canned-preview')).to_contain_text("Sundays")
    delete = dialog.get_by_role("button", name="Delete /bye")
    delete.click()
    expect(delete).to_have_text("Confirm delete")
    delete.click()
    expect(dialog.locator('tr[data-shortcut="bye"]')).to_have_count(0)
    sup.screenshot(path=artifacts / "console-canned-manager.png")
    sup.click("#canned-close")
    expect(dialog).to_be_hidden()

    page = open_console(AGENT)
    expect(page.locator("#canned-manage")).to_have_count(0)
    cust = customer()
    open_chat(page, cust, "Olivia Hart", "Branch visit", "When are you open?")
    box = page.locator("#composer-input")
    box.press_sequentially("/ho")
    picker = page.locator("#canned-picker")
    expect(picker).to_be_visible()
    expect(picker.locator(".canned-opt")).to_have_count(1)
    expect(picker.locator(".canned-opt .canned-key")).to_have_text("/hours")
    page.screenshot(path=artifacts / "console-canned-picker.png")
    box.press("Enter")
    expect(picker).to_be_hidden()
    full = "We're open 8:00-20:00, Monday to Saturday, and 10:00-16:00 on Sundays."
    expect(box).to_have_value(full)
    box.press("Enter")
    assert cust.message(full)["sender"] == "agent"

    page.click("#canned-btn")  # the button lists every reply
    expect(picker.locator(".canned-opt")).to_have_count(1)
    box.press("Escape")
    expect(picker).to_be_hidden()


def test_reconnects_without_reload_and_delivers_both_ways_exactly_once(
    open_console: OpenConsole, customer: Callable[[], Customer], artifacts: Path
) -> None:
    page = open_console(AGENT)
    cust = customer()
    open_chat(page, cust, "Priti Rao", "Card blocked", "My card was declined")
    page.evaluate("window.__same_page = 1")

    page.context.set_offline(True)
    banner = page.locator("#conn-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Reconnecting…")
    expect(page.locator("#presence")).to_have_attribute("data-state", "reconnecting")
    cust.say("Hello? Are you there?")
    cust.say("It was at the supermarket")
    send(page, "Still here, checking your card now.")
    expect(page.locator("#msg-log .msg-pending .receipt")).to_have_text("Waiting for connection…")
    page.screenshot(path=artifacts / "console-reconnecting.png")

    page.context.set_offline(False)
    expect(banner).to_be_hidden()
    expect(page.locator("#presence")).to_have_attribute("data-state", "online")
    expect(page.locator("#msg-log .msg-customer .msg-body")).to_have_text(
        ["My card was declined", "Hello? Are you there?", "It was at the supermarket"]
    )
    got = cust.message("Still here, checking your card now.")
    expect(page.locator("#msg-log .msg-pending")).to_have_count(0)
    expect(page.locator("#msg-log .msg-agent .msg-body")).to_have_text(["Still here, checking your card now."])
    # A reply sent after the reconnect reaches the customer after any duplicate of the resend would have
    # (one socket, stored and announced in order): once it is there, there was none.
    send(page, "Found it: the card is unblocked.")
    later = cust.message("Found it: the card is unblocked.")
    assert [m["seq"] for m in cust.messages() if m["sender"] == "agent"] == [got["seq"], later["seq"]]
    expect(page.locator("#msg-log .msg-agent .msg-body")).to_have_text(
        ["Still here, checking your card now.", "Found it: the card is unblocked."]
    )
    seqs = page.locator("#msg-log .msg").evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert seqs == sorted(set(seqs)) and len(seqs) == 5
    assert page.evaluate("window.__same_page") == 1  # no reload


def test_unconfirmed_send_is_resent_with_the_same_client_id_and_stored_once(
    open_console: OpenConsole, customer: Callable[[], Customer]
) -> None:
    """The console's socket runs through a proxy that loses the agent's `sent` and own copy, then drops."""
    proxy = SocketProxy(lose=lambda f: f["type"] == "sent" or f.get("message", {}).get("sender") == "agent")
    page = open_console(AGENT, before=proxy.install)
    cust = customer()
    cid = open_chat(page, cust, "Rita Olsen", "Delivery", "Where is my parcel?")
    text = "Let me check that for you."
    send(page, text)
    assert cust.message(text)["sender"] == "agent"  # stored and delivered; the console never heard back
    expect(page.locator("#msg-log .msg-pending .receipt")).to_have_text("Sending…")

    proxy.lossy = False
    proxy.drop()
    expect(page.locator("#msg-log .msg-pending")).to_have_count(0)
    expect(page.locator("#msg-log .msg-agent .msg-body")).to_have_text([text])
    expect(page.locator("#conn-banner")).to_be_hidden()

    hellos = [f for f in proxy.up if f["type"] == "hello"]
    assert len(hellos) == 2 and hellos[1]["resume"] == {cid: 1}
    sends = [f for f in proxy.up if f["type"] == "send"]
    assert len(sends) == 2 and sends[0]["client_id"] == sends[1]["client_id"]
    page.wait_for_timeout(300)
    again = [f for f in proxy.down[-1] if f["type"] == "sent"]
    assert [f["duplicate"] for f in again] == [True]
    assert [m["body"] for m in cust.messages() if m["sender"] == "agent"] == [text]


def test_customer_panel_shows_profile_timeline_orders_and_close_ends_the_chat(
    open_console: OpenConsole, customer: Callable[[], Customer], cc: ConsoleServer, artifacts: Path
) -> None:
    cust = customer()
    cust.start(name="Carla Mendes", topic="Broadband upgrade", page_url="/demo/broadband.html")
    admin, csrf = cc.staff_client(ADMIN)
    headers = {"X-CSRF-Token": csrf}
    try:
        r = admin.post(
            f"/api/customers/{cust.customer_id}/identities",
            json={"kind": "email", "value": "carla.mendes@example.com"},
            headers=headers,
        )
        r.raise_for_status()
        orders = [("FBR-500", "39.00", "active", "2025-03-02T10:00:00Z"), ("RTR-AX6", "129.00", "shipped", None)]
        for n, (sku, amount, status, placed) in enumerate(orders):
            order = {"customer_id": cust.customer_id, "sku": sku, "amount": amount, "status": status}
            order |= {"external_ref": f"SO-{7001 + n}", "placed_at": placed}
            admin.post("/api/orders", json=order, headers=headers).raise_for_status()
    finally:
        admin.close()
    cust.say("Is faster broadband available at my address?")

    page = open_console(AGENT)  # the queued chat is handed to the agent when the console connects
    chat_item(page, cust.conversation_id).click()
    panel = page.locator("#customer-panel")
    expect(panel.locator("#cp-name")).to_have_text("Carla Mendes")
    expect(panel.locator("#cp-idents")).to_contain_text("carla.mendes@example.com")
    expect(panel.locator("#conv-facts")).to_contain_text("Broadband upgrade")
    expect(panel.locator("#conv-facts")).to_contain_text("/demo/broadband.html")
    timeline = panel.locator("#cp-timeline .mini-summary")
    expect(timeline.filter(has_text="Chat started: Broadband upgrade")).to_have_count(1)
    expect(timeline.first).to_have_text("Is faster broadband available at my address?")
    expect(panel.locator("#cp-orders .order-name")).to_have_text(["Wi-Fi 6 router", "Fibre broadband 500"])
    page.screenshot(path=artifacts / "console-customer-panel.png")

    page.locator("#close-conv").click()
    wrapup = page.locator("#wrapup-dialog")
    expect(wrapup).to_be_visible()
    expect(wrapup.locator("#wrapup-submit")).to_be_disabled()  # an outcome first
    expect(wrapup.locator(".wrapup-choice")).to_contain_text(["Sale", "Resolved", "Follow-up needed"])
    wrapup.get_by_label("Follow-up needed").check()
    wrapup.locator("#wrapup-note").fill("Send the coverage map")
    page.screenshot(path=artifacts / "console-wrap-up.png")
    wrapup.locator("#wrapup-submit").click()
    expect(wrapup).to_be_hidden()
    got = cust.wait_for("conversation", lambda f: f["conversation"]["status"] == "closed")
    assert got["conversation"]["id"] == cust.conversation_id
    assert (got["conversation"]["outcome"], got["conversation"]["outcome_note"]) == (
        "follow_up",
        "Send the coverage map",
    )
    expect(page.locator(f'#closed-list [data-conv-id="{cust.conversation_id}"]')).to_be_visible()
    expect(page.locator("#closed-note")).to_contain_text("closed")
    expect(page.locator("#composer")).to_be_hidden()
    expect(timeline.filter(has_text="Follow-up needed (Send the coverage map)")).to_have_count(1)


def test_html_in_names_and_messages_is_text_and_never_runs(
    open_console: OpenConsole, customer: Callable[[], Customer], artifacts: Path
) -> None:
    page = open_console(AGENT)
    cust = customer()
    topic = "<b>urgent</b><script>window.__xss=2</script>"
    cid = cust.start(name=EVIL, topic=topic)
    body = '<img src=x onerror="window.__xss=3"> see <a href="javascript:window.__xss=4">this</a>'
    cust.say(body)
    item = chat_item(page, cid)
    expect(item.locator(".conv-name")).to_have_text(EVIL)
    expect(item.locator(".conv-topic")).to_have_text(topic)
    item.click()
    expect(page.locator("#thread-name")).to_have_text(EVIL)
    expect(page.locator("#msg-log .msg-customer .msg-body")).to_have_text(body)
    expect(page.locator("#cp-name")).to_have_text(EVIL)
    cust.typing(True)
    expect(page.locator("#typing")).to_have_text(f"{EVIL} is typing…")
    page.screenshot(path=artifacts / "console-html-as-text.png")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#console-app img:not(.att-thumb), #console-app script, #console-app b").count() == 0


def test_console_loads_only_from_the_app_shows_attachments_and_keyboard_works(
    open_console: OpenConsole, customer: Callable[[], Customer], watch: Watch, artifacts: Path
) -> None:
    page = open_console(AGENT)
    first, second = customer(), customer()
    one = open_chat(page, first, "Maya Lindqvist", "Moving house", "We're moving on the 14th")
    photo = first.upload("new-flat.png", png())
    contract = first.upload("tenancy contract.pdf", PDF)
    first.say("Here's the floor plan and the contract", [photo, contract])
    thumb = page.locator("#msg-log img.att-thumb")
    expect(thumb).to_have_attribute("src", f"/api/chat/attachments/{photo}")
    page.wait_for_function("() => document.querySelector('#msg-log img.att-thumb').naturalWidth === 160")
    pdf = page.locator("#msg-log a.att-file")
    expect(pdf).to_contain_text("tenancy contract.pdf")
    expect(pdf).to_have_attribute("href", f"/api/chat/attachments/{contract}")

    page.set_input_files(
        "#attach-input", files=[{"name": "checklist.png", "mimeType": "image/png", "buffer": png(80, 60)}]
    )
    expect(page.locator("#staged .staged-file")).to_contain_text("checklist.png")
    send(page, "Thanks! Here's our moving checklist.")
    sent = first.message("Thanks! Here's our moving checklist.")
    assert [a["name"] for a in sent["attachments"]] == ["checklist.png"]
    expect(page.locator("#staged")).to_be_hidden()
    page.click("#mode-note")
    send(page, "Wants the same package at the new address; check line availability.")
    first.typing(True)
    two = second.start(name="Tom Becker", topic="Roaming charges")
    second.say("Why was I charged for roaming in Spain?")
    expect(chat_item(page, two).locator(".unread")).to_have_text("1")
    page.screenshot(path=artifacts / "console-active.png")

    page.locator("#composer-input").press("Alt+ArrowDown")
    expect(chat_item(page, two)).to_have_attribute("aria-current", "true")
    expect(page.locator("#composer-input")).to_be_focused()
    expect(chat_item(page, two).locator(".unread")).to_have_count(0)
    page.locator("#composer-input").press("Escape")
    expect(chat_item(page, two)).to_be_focused()
    page.keyboard.press("Alt+ArrowUp")
    expect(chat_item(page, one)).to_have_attribute("aria-current", "true")
    expect(chat_item(page, one)).to_be_focused()
    expect(page.locator("#msg-log .msg-note .msg-body")).to_have_text(
        "Wants the same package at the new address; check line availability."
    )

    assert not watch.errors, watch.errors
    assert not watch.foreign(), watch.foreign()
    hosts = {re.sub(r"^https?://([^/]+)/.*$", r"\1", u) for u in watch.requests if u.startswith("http")}
    assert hosts == {page.url.split("/")[2]}
    assert any("/api/chat/attachments/" in u for u in watch.requests)


def test_forty_replies_queued_offline_are_paced_and_stored_once(
    open_console: OpenConsole, customer: Callable[[], Customer]
) -> None:
    """The server closes a socket (4429) that sends far past its burst of 15: the console paces its resends."""
    proxy = SocketProxy(lose=lambda f: False)  # records every frame, loses none
    page = open_console(AGENT, before=proxy.install)
    cust = customer()
    open_chat(page, cust, "Pia Pacing", "Billing", "Can you answer all my questions?")
    page.context.set_offline(True)
    expect(page.locator("#conn-banner")).to_contain_text("Reconnecting…")
    bodies = [f"Answer {n:02d}" for n in range(1, 41)]
    for body in bodies:
        send(page, body)
    expect(page.locator("#msg-log .msg-pending")).to_have_count(40)
    page.context.set_offline(False)
    expect(page.locator("#msg-log .msg-pending")).to_have_count(0, timeout=60_000)
    expect(page.locator("#msg-log .msg-agent .msg-body")).to_have_text(bodies)
    cust.message(bodies[-1])
    assert sorted(m["body"] for m in cust.messages() if m["sender"] == "agent") == bodies  # each once
    refused = [f for frames in proxy.down for f in frames if f["type"] == "error" and f["code"] == "rate_limited"]
    assert not refused, refused  # so never near the 4429 close either
    expect(page.locator("#conn-banner")).to_be_hidden()

"""The console's email view in Debian's Chromium against a real server: mail sent in over SMTP is shown as a
thread (text with the quote folded, the sanitised HTML sandboxed, attachments, the original, why it joined,
split), the acknowledgement and the first-response clock; the agent's reply reaches a real relay threaded."""

from __future__ import annotations

import base64
import os
import re
import smtplib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, FilePayload, Page, expect

from contactcenter.cli import migrate
from tests.e2e.console_fixtures import AGENT, PASSWORD, ROOT, SUPERVISOR
from tests.email.helpers import free_port
from tests.procs import app_process

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 40
FIRST = (
    "From: Ann Carter <ann@example.com>\r\nTo: help@localhost\r\nSubject: My card was swallowed\r\n"
    "Message-ID: <card1@example.com>\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
    "--B\r\nContent-Type: text/plain\r\n\r\nThe machine on High Street kept my card <img src=x onerror=window.__xss=1>."
    "\r\n\r\nOn Mon, Bank <help@localhost> wrote:\r\n> Welcome to your new card\r\n"
    "--B\r\nContent-Type: text/html\r\n\r\n<p>The machine on <b>High Street</b> kept my card."
    "<script>window.__xss=1</script><img src=x onerror=window.__xss=1></p>\r\n"
    '--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="receipt.pdf"\r\n'
    f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(PNG).decode()}\r\n--B--\r\n"
).encode()
SECOND = (
    b"From: ann@example.com\r\nTo: help@localhost\r\nSubject: Re: My card was swallowed\r\n"
    b"Message-ID: <card2@example.com>\r\nIn-Reply-To: <card1@example.com>\r\n\r\nIt was at 9 this morning.\r\n"
)


@dataclass
class Relay:
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        out = []
        for _, _, data in self.received:
            m = BytesParser(policy=policy.default).parsebytes(data)
            assert isinstance(m, EmailMessage)
            out.append(m)
        return out


@dataclass
class MailServer:
    base_url: str
    smtp_port: int
    relay: Relay
    db_path: Path


@pytest.fixture(scope="module")
def mailcc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailServer]:
    tmp = tmp_path_factory.mktemp("mailconsole")
    url = f"sqlite+aiosqlite:///{tmp / 'mail.db'}"
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API keeps a loop running in this thread
        pool.submit(migrate, url).result()
    relay = Relay()
    relay_port, smtp_port = free_port(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=relay_port, server_hostname="relay.test")
    controller.start()
    env = {
        **os.environ,
        "CC_DATABASE_URL": url,
        "CC_SECRET_KEY": "mail-e2e-" + "k" * 40,
        "CC_LOG_JSON": "false",
        "CC_SMTP_ENABLED": "true",
        "CC_SMTP_PORT": str(smtp_port),
        "CC_EMAIL_RELAY_HOST": "127.0.0.1",
        "CC_EMAIL_RELAY_PORT": str(relay_port),
        "CC_EMAIL_POLL_S": "0.2",
        "CC_EMAIL_ALERT_TICK_S": "0.2",
    }
    for user, role, name in ((AGENT, "agent", "Alice Agent"), (SUPERVISOR, "supervisor", "Sam Supervisor")):
        subprocess.run(
            [sys.executable, "-m", "contactcenter", "user", "add", user, "--role", role, "--name", name,
             "--password", PASSWORD],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
    try:
        with app_process(env, tmp / "server.log") as base:
            yield MailServer(base, smtp_port, relay, tmp / "mail.db")
    finally:
        controller.stop()


def _send(port: int, *mails: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        for m in mails:
            c.sendmail("ann@example.com", ["help@localhost"], m)


def _until(check: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_email_thread_in_the_console_and_a_threaded_reply(
    browser: Browser, mailcc: MailServer, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=mailcc.base_url, locale="en-GB")
    page: Page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15_000)
    page.goto("/login?next=/staff/console")
    page.fill("#username", AGENT)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#presence")).to_have_attribute("data-state", "online")

    _send(mailcc.smtp_port, FIRST, SECOND)
    item = page.locator(".conv-item", has_text="Ann Carter")
    expect(item).to_contain_text("Email: My card was swallowed")  # not chat's "No messages yet"
    item.click()
    expect(page.locator("#conv-facts")).not_to_contain_text("Messages")
    view = page.locator("#em-view")
    expect(view).to_be_visible()
    expect(page.locator("#msg-log")).to_be_hidden()
    expect(page.locator("#composer")).to_be_hidden()
    received = view.locator(".em-in")
    expect(received).to_have_count(2)
    first, second = received.nth(0), received.nth(1)
    expect(first.locator(".em-body").first).to_contain_text("The machine on High Street kept my card <img")
    expect(first.locator(".em-reason")).to_have_text("Started this conversation")
    expect(second.locator(".em-reason")).to_have_text("Joined: it answers a message of this conversation (In-Reply-To)")
    quoted = first.locator("details.em-quoted", has_text="Quoted text")
    expect(quoted.locator(".em-body")).to_be_hidden()  # folded
    quoted.locator("summary").click()
    expect(quoted.locator(".em-body")).to_contain_text("> Welcome to your new card")
    expect(first.locator(".em-attachments")).to_contain_text("receipt.pdf · image/png")
    expect(first.locator("a", has_text="Full original")).to_have_attribute("href", "/api/email/messages/1/raw")
    expect(first.locator(".em-split")).to_have_count(0)  # the first message started it
    expect(second.locator(".em-split")).to_be_visible()
    formatted = first.locator("details.em-formatted")
    formatted.locator("summary").click()
    frame = formatted.locator("iframe.em-html")
    expect(frame).to_have_attribute("sandbox", "")
    expect(page.frame_locator("details.em-formatted iframe.em-html").locator("b")).to_have_text("High Street")
    expect(view.locator(".em-ack .em-state")).to_have_text("Sent")  # the acknowledgement went out
    expect(page.locator("#em-clock")).to_have_attribute("data-state", "running")
    expect(page.locator("#em-clock")).to_contain_text("(in 24 h)")
    expect(page.locator("#em-ref")).to_have_text(re.compile(r"^EM-[0-9A-F]{8}$"))
    page.screenshot(path=artifacts / "console-email-thread.png", full_page=True)

    # The supervisor's wallboard shows the conversation waiting for its first answer.
    sup = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=mailcc.base_url, locale="en-GB")
    board = sup.new_page()
    board.goto("/login?next=/staff/wallboard")
    board.fill("#username", SUPERVISOR)
    board.fill("#password", PASSWORD)
    board.click("button[type=submit]")
    expect(board.locator("#email-summary")).to_have_text("0 overdue · 0 due soon · 1 waiting for a first answer")
    expect(board.locator("#email-clocks li")).to_have_count(1)
    expect(board.locator("#email-clocks li")).to_contain_text("Ann Carter · My card was swallowed")
    expect(board.locator("#email-clocks li")).to_contain_text("Alice Agent")
    board.screenshot(path=artifacts / "wallboard-email.png", full_page=True)
    sup.close()

    page.locator("#em-text").fill("Hello Ann, we have asked the branch to keep your card for you.")
    page.locator("#em-file").set_input_files(files=[FilePayload(name="form.png", mimeType="image/png", buffer=PNG)])
    expect(page.locator("#em-staged li")).to_contain_text("form.png")
    page.locator("#em-send").click()
    mine = view.locator(".em-reply")
    expect(mine).to_have_count(1)
    expect(mine.locator(".em-state")).to_have_text("Sent")
    expect(mine.locator(".em-attachments")).to_contain_text("form.png · image/png")
    expect(page.locator("#em-staged li")).to_have_count(0)
    expect(page.locator("#em-clock")).to_have_attribute("data-state", "answered")
    page.locator("#em-mode-note").click()
    page.locator("#em-text").fill("Branch phoned: card is in the safe.")
    page.locator("#em-send").click()
    expect(view.locator(".em-note .em-body")).to_have_text("Branch phoned: card is in the safe.")
    page.screenshot(path=artifacts / "console-email-replied.png", full_page=True)

    _until(lambda: len(mailcc.relay.received) == 2)  # the acknowledgement, then the reply
    ack, reply = mailcc.relay.messages()
    assert str(ack["Auto-Submitted"]) == "auto-generated"
    assert str(reply["In-Reply-To"]) == "<card2@example.com>"
    assert str(reply["References"]) == "<card1@example.com> <card2@example.com>"
    body = reply.get_body(("plain",))
    assert (
        body is not None
        and body.get_content().strip() == "Hello Ann, we have asked the branch to keep your card for you."
    )
    assert [(a.get_filename(), a.get_content()) for a in reply.iter_attachments()] == [("form.png", PNG)]
    assert page.evaluate("window.__xss") is None and not errors, errors
    context.close()


LATE = (
    b"From: Bo Lind <bo@example.com>\r\nTo: help@localhost\r\nSubject: Standing order\r\n"
    b"Message-ID: <so1@example.com>\r\n\r\nPlease stop it.\r\n"
)


def test_an_overdue_first_answer_is_told_and_marked_until_answered(
    browser: Browser, mailcc: MailServer, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=mailcc.base_url, locale="en-GB")
    page: Page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/login?next=/staff/console")
    page.fill("#username", AGENT)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#presence")).to_have_attribute("data-state", "online")
    _send(mailcc.smtp_port, LATE)
    item = page.locator(".conv-item", has_text="Bo Lind")
    expect(item).to_contain_text("Email: Standing order")
    expect(item.locator(".due")).to_have_count(0)
    with sqlite3.connect(mailcc.db_path) as db:  # a day has passed (time moved, not slept)
        db.execute(
            "UPDATE email_clocks SET due_at = datetime('now', '-1 hour') WHERE email_message_id = "
            "(SELECT id FROM email_messages WHERE message_id = '<so1@example.com>')"
        )
    expect(page.locator("#notice")).to_have_text("First answer overdue: Bo Lind · Standing order")
    expect(item.locator(".due")).to_have_text("Overdue")
    active = page.locator("#active-list .conv-item")
    expect(active.first).to_contain_text("Ann Carter")  # oldest first
    page.select_option("#active-sort", "due")
    expect(active.first).to_contain_text("Bo Lind")  # Ann's was answered: Bo's first answer is due first
    page.screenshot(path=artifacts / "console-email-overdue.png", full_page=True)
    item.click()
    expect(page.locator("#em-clock")).to_have_attribute("data-state", "overdue")
    page.locator("#em-text").fill("Hello Bo, the standing order is stopped.")
    page.locator("#em-send").click()
    expect(page.locator("#em-clock")).to_have_attribute("data-state", "answered")
    expect(item.locator(".due")).to_have_count(0)
    context.close()

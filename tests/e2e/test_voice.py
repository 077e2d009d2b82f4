"""Browser calls in Debian's Chromium with fake media against the real server: the customer presses the
widget's call button, the agent answers in the console, both sides show the call connected, hold and mute
show on both sides, the customer hangs up, and the recording plays in the console (for staff only)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, expect

from tests.e2e.conftest import CHROMIUM_ARGS
from tests.e2e.widget_fixtures import AGENT_NAME, SUPERVISOR, SUPERVISOR_NAME, WidgetServer, run_server

# Fake microphone and no permission prompt; loopback candidates allowed (the server's media is pinned to
# 127.0.0.1, so the call stays on loopback).
MEDIA_ARGS = "--use-fake-ui-for-media-stream --use-fake-device-for-media-stream --allow-loopback-in-peer-connection"


@pytest.fixture(scope="module")
def voice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voice")


@pytest.fixture(scope="module")
def voice_server(voice_dir: Path) -> Iterator[WidgetServer]:
    tmp = voice_dir
    media = {"CC_VOICE_HOST_ADDRESSES": "127.0.0.1", "CC_VOICE_RECORDINGS_DIR": str(tmp / "rec")}
    with run_server(tmp, supervisor=True, **media) as s:
        yield s


@pytest.fixture(scope="module")
def media_browser(playwright: Playwright) -> Iterator[Browser]:
    args = [*CHROMIUM_ARGS.split(), *MEDIA_ARGS.split()]
    b = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
    yield b
    b.close()


def _page(browser: Browser, base: str, cookie: str | None = None) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=base, locale="en-GB")
    context.grant_permissions(["microphone"], origin=base)
    if cookie:
        context.add_cookies([{"name": "cc_session", "value": cookie, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def _answered_call(browser: Browser, server: WidgetServer, name: str) -> tuple[Page, Page, Locator]:
    """The agent's console online, a customer calling from the widget, the agent answering: both connected."""
    console = _page(browser, server.base_url, server.agent_cookie())
    console.goto("/staff/console")
    expect(console.locator("#presence")).to_have_attribute("data-state", "online")
    site = _page(browser, server.base_url)
    site.goto("/demo/")
    site.locator("#cc-chat-widget .launcher").click()
    site.locator("#cc-chat-widget").get_by_label("Your name").first.fill(name)
    site.get_by_role("button", name="Call us from the browser").click()
    box = site.locator("#cc-chat-widget .vc")
    console.locator("#active-list li", has_text=name).click()
    console.locator("#vc-card").get_by_role("button", name="Answer").click()
    expect(box.locator(".vc-status")).to_have_text(f"On the line with {AGENT_NAME}")
    return console, site, box


def test_a_browser_call_from_the_widget_is_answered_in_the_console(
    media_browser: Browser, voice_server: WidgetServer, artifacts: Path
) -> None:
    cookie = voice_server.agent_cookie()
    console = _page(media_browser, voice_server.base_url, cookie)
    console.goto("/staff/console")
    expect(console.locator("#presence")).to_have_attribute("data-state", "online")

    site = _page(media_browser, voice_server.base_url)
    site.goto("/demo/")
    site.locator("#cc-chat-widget .launcher").click()
    site.locator("#cc-chat-widget").get_by_label("Your name").first.fill("Victor Voice")
    site.get_by_role("button", name="Call us from the browser").click()
    box = site.locator("#cc-chat-widget .vc")
    expect(box).to_contain_text("This call is recorded")
    expect(box.locator(".vc-status")).to_have_text("Waiting for an adviser…")

    console.locator("#active-list li", has_text="Victor Voice").click()
    card = console.locator("#vc-card")
    expect(console.locator("#composer")).to_be_hidden()
    card.get_by_role("button", name="Answer").click()
    expect(card.locator("#vc-status")).to_have_text("Connected")
    expect(box.locator(".vc-status")).to_have_text(f"On the line with {AGENT_NAME}")
    expect(card).to_contain_text("Recording")
    site.screenshot(path=artifacts / "widget-voice-call.png")
    console.screenshot(path=artifacts / "console-voice-call.png")

    card.get_by_role("button", name="Hold").click()
    expect(box.locator(".vc-status")).to_have_text("On hold, please wait…")
    expect(card.locator("#vc-status")).to_have_text("On hold: the customer hears music")
    card.get_by_role("button", name="Resume").click()
    expect(box.locator(".vc-status")).to_contain_text("On the line with")
    card.get_by_role("button", name="Mute").click()
    expect(card.get_by_role("button", name="Unmute")).to_be_visible()

    site.get_by_role("button", name="Hang up").click()
    expect(box.locator(".vc-status")).to_have_text("Call ended")
    expect(card.locator("#vc-status")).to_have_text("Call ended")
    # The recording plays in the console, for the agent (the customer's page cannot fetch it).
    src = card.locator("#vc-recording").get_attribute("src")
    assert src is not None and src.startswith("/api/voice/")
    got = console.request.get(src)
    assert got.status == 200 and got.headers["content-type"] == "audio/wav" and len(got.body()) > 44
    assert site.request.get(src).status == 401
    console.screenshot(path=artifacts / "console-voice-ended.png")
    assert site.errors == [] and console.errors == []  # type: ignore[attr-defined]
    site.context.close()
    console.context.close()


def test_a_call_cut_off_on_our_side_is_explained_to_both(
    media_browser: Browser, voice_server: WidgetServer, voice_dir: Path, artifacts: Path
) -> None:
    console, site, box = _answered_call(media_browser, voice_server, "Xavier Cut")
    card = console.locator("#vc-card")
    # As if the process bridging it had died: its lease is nobody's, and the reaper ends it as worker_lost.
    with sqlite3.connect(voice_dir / "cc.db") as db:
        changed = db.execute("UPDATE voice_calls SET host_id = 'gone' WHERE ended_at IS NULL").rowcount
    assert changed == 1
    expect(box.locator(".vc-status")).to_contain_text("cut off on our side", timeout=20_000)
    status = card.locator("#vc-status")
    expect(status).to_contain_text("Call cut off: the server bridging it stopped", timeout=20_000)
    expect(status).to_contain_text("The recording until then is kept")
    expect(card.locator("#vc-recording")).to_be_visible()
    site.screenshot(path=artifacts / "widget-voice-cut-off.png")
    console.screenshot(path=artifacts / "console-voice-cut-off.png")
    assert site.errors == [] and console.errors == []  # type: ignore[attr-defined]
    site.context.close()
    console.context.close()


def test_a_supervisor_listens_to_a_call_from_the_wallboard_and_joins_it(
    media_browser: Browser, voice_server: WidgetServer, artifacts: Path
) -> None:
    console, site, box = _answered_call(media_browser, voice_server, "Wanda Listen")

    board = _page(media_browser, voice_server.base_url, voice_server.agent_cookie(SUPERVISOR))
    board.goto("/staff/wallboard")
    row = board.locator("#live-convs tr", has_text="Wanda Listen")
    expect(row).to_contain_text("voice")
    row.get_by_role("button", name="Listen").click()
    follow = board.locator("#live-follow")
    expect(follow).to_have_attribute("data-media", "connected")  # the supervisor's own leg into the bridge
    expect(board.locator("#live-mode")).to_have_text("Listening")
    expect(console.locator("#thread-monitored")).to_have_text(f"{SUPERVISOR_NAME} is following")
    assert board.evaluate("document.getElementById('live-audio').srcObject !== null")

    board.once("dialog", lambda d: d.accept())
    board.click("#live-join")
    expect(box.locator(".vc-status")).to_have_text(
        f"On the line with {AGENT_NAME} · {SUPERVISOR_NAME}, a supervisor, has joined the call"
    )
    expect(console.locator("#thread-monitored")).to_have_text(f"{SUPERVISOR_NAME} has joined")
    board.screenshot(path=artifacts / "wallboard-call-joined.png")
    site.screenshot(path=artifacts / "widget-call-supervisor-joined.png")

    board.click("#live-stop")
    expect(console.locator("#thread-monitored")).to_be_hidden()
    site.get_by_role("button", name="Hang up").click()
    expect(box.locator(".vc-status")).to_have_text("Call ended")
    for page in (site, console, board):
        assert page.errors == []  # type: ignore[attr-defined]
        page.context.close()

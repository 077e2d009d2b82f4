"""The supervisor wallboard in Debian's Chromium against the real server: live figures by push, agents by
state, a supervisor moving an agent; the agent's console drives routing presence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, WebSocketRoute, expect

from tests.e2e import charts
from tests.e2e.conftest import COUNT_SOCKETS, Watch
from tests.e2e.console_fixtures import AGENT, PASSWORD, SUPERVISOR, ConsoleServer, Customer, console_server


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("wallboard")) as server:
        yield server


@pytest.fixture
def contexts(browser: Browser, cc: ConsoleServer) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for c in made:
        c.close()


def sign_in(
    browser: Browser,
    cc: ConsoleServer,
    contexts: list[BrowserContext],
    watch: Watch,
    user: str,
    to: str,
    *,
    count_sockets: bool = False,
) -> Page:
    """`count_sockets`: the page counts its websockets (window.__ws) and runs on Playwright's clock, so a
    test can run pending timers (a reconnect) at once instead of waiting for them."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=cc.base_url, locale="en-GB")
    contexts.append(context)
    page = context.new_page()
    if count_sockets:
        page.add_init_script(COUNT_SOCKETS)
        page.clock.install()
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.on("request", lambda req: watch.requests.append(req.url))
    page.set_default_timeout(15_000)
    page.goto(f"/login?next={to}")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{cc.base_url}{to}")
    return page


LAST_POINT = """() => { const d = Chart.getChart(document.querySelector('#chart canvas')).data.datasets[0].data;
  return d[d.length - 1]; }"""


def _figure_row(page: Page, sel: str, name: str) -> Locator:
    """The row of a chart's figures table whose header is `name`."""
    return page.locator(f"{sel} .chart-figures tbody tr").filter(
        has=page.locator("th", has_text=re.compile(f"^{name}$"))
    )


def test_wallboard_updates_by_push_and_a_supervisor_moves_an_agent(
    browser: Browser, cc: ConsoleServer, contexts: list[BrowserContext], artifacts: Path
) -> None:
    watch = Watch()
    board = sign_in(browser, cc, contexts, watch, SUPERVISOR, "/staff/wallboard")
    expect(board.locator("#wb-live")).to_have_attribute("data-state", "live")
    general = board.locator('#queues tr[data-queue="general"]')
    expect(general).to_be_visible()
    # The agent opens the console: routing sees them available, the board shows it without a reload.
    console = sign_in(browser, cc, contexts, watch, AGENT, "/staff/console")
    expect(console.locator("#presence")).to_have_attribute("data-state", "online")
    agent_row = board.locator("#agents tbody tr").filter(has_text="Available")
    expect(agent_row).to_have_count(1)
    # The agent steps away (the supervisor's "move to"): a new chat then waits, and the board shows it.
    agent_row.locator("select.move").select_option("away")
    expect(board.locator("#agents tbody tr .st-away")).to_have_count(1)
    # Agents by state (charts.js): the figures table and the bars Chart.js drew, one per state.
    expect(_figure_row(board, "#state-chart", "Away").locator("td")).to_have_text("1")
    expect(board.locator("#state-chart canvas")).to_have_attribute("aria-label", "Agents by state")
    assert charts.head(board, "#state-chart") == ["State", "Agents"]
    assert [r[0] for r in charts.figures(board, "#state-chart")] == ["Available", "Busy", "Wrap-up", "Away", "Offline"]
    [states] = charts.bars(board, "#state-chart")
    assert states["values"][:4] == [0, 0, 0, 1]
    assert states["lengths"][3] > 0 and states["lengths"][0] == 0
    cust = Customer(cc)
    try:
        cust.start("Wendy Wallboard", "Pricing")
        expect(general.locator(".q-waiting")).to_have_text("1")
        expect(board.locator("#k-waiting")).to_have_text("1")
        # The waiting line (charts.js): its figures sentence and the point Chart.js drew for now.
        chart = board.locator("#chart figure[data-chart=line][data-ready=true]")
        expect(chart.locator("canvas")).to_have_attribute("aria-label", "Contacts waiting over time")
        expect(chart.locator(".chart-figures")).to_have_text(
            re.compile(r"^1 waiting now; at most 1 in the last \d+ min\.$")
        )
        assert board.evaluate(LAST_POINT) == {"x": 0, "y": 1}
        board.screenshot(path=artifacts / "wallboard-waiting.png", full_page=True)
        # Back to available: the chat goes to the agent at once; waiting drops, answered and SL appear.
        board.locator("#agents tbody tr select.move").first.select_option("available")
        expect(general.locator(".q-waiting")).to_have_text("0")
        expect(chart.locator(".chart-figures")).to_have_text(re.compile(r"^0 waiting now; at most 1 in the last"))
        assert board.evaluate(LAST_POINT) == {"x": 0, "y": 0}
        expect(board.locator("#k-answered")).to_have_text("1")
        expect(board.locator("#agents tbody tr .st-busy")).to_have_count(1)
        expect(_figure_row(board, "#state-chart", "Busy").locator("td")).to_have_text("1")
        expect(_figure_row(board, "#state-chart", "Away").locator("td")).to_have_text("0")
        expect(console.locator("#active-list .conv-item")).to_have_count(1)
        # The agent wraps it up as a sale: the board's outcomes panel counts it without a reload.
        agent, csrf = cc.staff_client(AGENT)
        r = agent.post(
            f"/api/conversations/{cust.conversation_id}/close",
            json={"outcome": "sale", "note": ""},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 200 and r.json()["outcome"] == "sale", r.text
        expect(_figure_row(board, "#outcomes", "Sale").locator("td")).to_have_text("1")
        expect(board.locator("#outcomes-empty")).to_be_hidden()
        expect(board.locator("#outcomes canvas")).to_have_attribute("aria-label", "Conversations closed per outcome")
        assert charts.figures(board, "#outcomes") == [["Sale", "1"]]
        [closed] = charts.bars(board, "#outcomes")
        assert closed["values"] == [1] and closed["lengths"][0] > 0
        board.screenshot(path=artifacts / "wallboard.png", full_page=True)
    finally:
        cust.shutdown()
    assert not watch.errors, watch.errors
    assert not watch.foreign(), watch.foreign()


def test_agents_cannot_open_the_wallboard(browser: Browser, cc: ConsoleServer, contexts: list[BrowserContext]) -> None:
    watch = Watch()
    page = sign_in(browser, cc, contexts, watch, AGENT, "/staff/console")
    res = page.goto("/staff/wallboard")
    assert res is not None and res.status == 403
    expect(page.locator('a[href="/staff/wallboard"]')).to_have_count(0)


def test_console_alerts_an_offer_and_alt_a_accepts_it(
    browser: Browser, cc: ConsoleServer, contexts: list[BrowserContext], artifacts: Path
) -> None:
    agent_http, _ = cc.staff_client(AGENT)
    agent_id = agent_http.get("/api/me").json()["user"]["id"]
    sup, sup_csrf = cc.staff_client(SUPERVISOR)
    r = sup.put(
        f"/api/routing/agents/{agent_id}/profile", json={"auto_accept": False}, headers={"X-CSRF-Token": sup_csrf}
    )
    assert r.status_code == 200, r.text
    watch = Watch()
    console = sign_in(browser, cc, contexts, watch, AGENT, "/staff/console")
    expect(console.locator("#presence")).to_have_attribute("data-state", "online")
    expect(console.locator("#agent-state")).to_have_value("available")
    # Open chats come with the socket's welcome (before "online"); closed ones load later on their own,
    # so only the active list has a settled count here.
    before = console.locator("#active-list .conv-item").count()
    cust = Customer(cc)
    try:
        conv = cust.start("Oscar Offer", "Savings")
        alert = console.locator("#offer-alert")
        expect(alert).to_be_visible()
        expect(console.locator("#offer-title")).to_have_text("Incoming chat")
        expect(console.locator("#offer-timer")).to_contain_text("s to answer")
        console.screenshot(path=artifacts / "console-offer.png")
        console.keyboard.press("Alt+a")
        expect(alert).to_be_hidden()
        expect(console.locator(f'.conv-item[data-conv-id="{conv}"]')).to_be_visible()
        expect(console.locator("#active-list .conv-item")).to_have_count(before + 1)
        # The state selector drives routing: away, then Alt+N back to available.
        console.locator("#agent-state").select_option("away")
        expect(console.locator("#agent-state")).to_have_attribute("data-state", "away")
        assert agent_http.get("/api/routing/me").json()["state"] == "away"
        console.keyboard.press("Alt+n")
        expect(console.locator("#agent-state")).to_have_value("available")
        console.screenshot(path=artifacts / "console-routing.png")
    finally:
        cust.shutdown()
        agent_http.close()
        sup.close()
    assert not watch.errors, watch.errors


def test_wallboard_stops_reconnecting_once_signed_out(
    browser: Browser, cc: ConsoleServer, contexts: list[BrowserContext], artifacts: Path
) -> None:
    watch = Watch()
    board = sign_in(browser, cc, contexts, watch, SUPERVISOR, "/staff/wallboard", count_sockets=True)
    expect(board.locator("#wb-live")).to_have_attribute("data-state", "live")
    csrf = board.locator('meta[name="csrf-token"]').get_attribute("content")
    r = board.request.post("/logout", form={"csrf_token": csrf or ""}, max_redirects=0)
    assert r.status == 303
    # The open socket ends with its session: the server closes it with 4401 at once (issue 11).
    alert = board.locator("#wb-alert")
    expect(alert).to_contain_text("Your session has ended: the wallboard is no longer updating.")
    expect(alert.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", "/login?next=%2Fstaff%2Fwallboard"
    )
    expect(board.locator("#wb-live")).to_have_attribute("data-state", "stopped")
    expect(board.locator("#wb-live-text")).to_have_text("Signed out")
    board.screenshot(path=artifacts / "wallboard-signed-out.png")
    opened = board.evaluate("window.__ws.opened")
    assert opened == 1  # the first socket only: a 4401 close is never retried
    board.clock.run_for(120_000)  # every backoff delay (10 s at most) has passed: nothing reconnects
    board.evaluate("dispatchEvent(new Event('online'))")
    assert board.evaluate("window.__ws.opened") == opened
    assert not watch.errors, watch.errors


@pytest.mark.parametrize(
    ("code", "message", "badge"),
    [
        (4401, "Your session has ended: the wallboard is no longer updating.", "Signed out"),
        (4403, "Your role has no access to the wallboard: it is no longer updating.", "No access"),
    ],
)
def test_wallboard_refused_socket_is_not_retried(
    browser: Browser, cc: ConsoleServer, contexts: list[BrowserContext], code: int, message: str, badge: str
) -> None:
    watch = Watch()
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=cc.base_url, locale="en-GB")
    contexts.append(context)
    client, _ = cc.staff_client(SUPERVISOR)
    context.add_cookies([{"name": "cc_session", "value": client.cookies["cc_session"], "url": cc.base_url}])
    client.close()
    board = context.new_page()
    board.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    board.clock.install()
    attempts: list[WebSocketRoute] = []  # a routed socket is the page's mock: it is counted here, not by page.on

    def refuse(ws: WebSocketRoute) -> None:  # as the server refuses a hello: an error frame, then the close code
        attempts.append(ws)

        def on_hello(_: str | bytes) -> None:
            ws.send('{"type": "error", "code": "refused", "detail": "refused", "ref": null}')
            ws.close(code=code, reason="refused")

        ws.on_message(on_hello)

    board.route_web_socket(re.compile(r"/ws$"), refuse)
    board.goto("/staff/wallboard")
    expect(board.locator("#wb-alert")).to_contain_text(message)
    expect(board.locator("#wb-live-text")).to_have_text(badge)
    expect(board.locator('#queues tr[data-queue="general"]')).to_be_visible()  # the last figures stay on screen
    board.clock.run_for(120_000)
    board.evaluate("dispatchEvent(new Event('online'))")
    expect(board.locator("#wb-live-text")).to_have_text(badge)  # waits (and lets the route run) once more
    assert len(attempts) == 1
    assert not watch.errors, watch.errors


def test_wallboard_reconnects_with_backoff_after_an_ordinary_close(
    browser: Browser, cc: ConsoleServer, contexts: list[BrowserContext]
) -> None:
    watch = Watch()
    board = sign_in(browser, cc, contexts, watch, SUPERVISOR, "/staff/wallboard")
    expect(board.locator("#wb-live")).to_have_attribute("data-state", "live")
    drops = {"left": 2}
    attempts: list[WebSocketRoute] = []

    def flaky(ws: WebSocketRoute) -> None:  # the next two sockets fail (1011), then the server is back
        attempts.append(ws)
        if drops["left"]:
            drops["left"] -= 1
            ws.on_message(lambda _: ws.close(code=1011, reason="restarting"))
        else:
            ws.connect_to_server()

    board.route_web_socket(re.compile(r"/ws$"), flaky)
    board.context.set_offline(True)
    expect(board.locator("#wb-live")).to_have_attribute("data-state", "down")
    expect(board.locator("#wb-live-text")).to_have_text("Reconnecting…")
    board.context.set_offline(False)
    expect(board.locator("#wb-live")).to_have_attribute("data-state", "live")  # after two backoff delays
    assert drops["left"] == 0
    assert len(attempts) == 3
    expect(board.locator("#wb-alert")).to_be_hidden()
    assert not watch.errors, watch.errors

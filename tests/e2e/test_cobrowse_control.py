"""Remote control during co-browse (issue 15 item 5) in two Chromium contexts: refused before the
customer's second consent; once allowed, the agent's click on the replay opens the demo page's "Lost or
stolen card?" panel on the customer's page and the agent's wheel scrolls it; a click aimed at a masked
field does nothing there (no focus, no value); once the customer takes control back the next click is
refused. Screenshots of both sides with control on in test-artifacts/issue15/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.console_fixtures import AGENT, PASSWORD, ConsoleServer, console_server

SHOTS = ARTIFACTS / "issue15"
RING = "document.querySelector('#cc-chat-widget').shadowRoot.querySelector('.cb-ring')"


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("cobrowse-control")) as server:
        yield server


def page_center(cust: Page, selector: str) -> dict[str, float]:
    """The middle of an element of the customer's page, in page coordinates (as the console sends them)."""
    point: dict[str, float] = cust.evaluate(
        "(s) => { const r = document.querySelector(s).getBoundingClientRect();"
        " return { x: r.left + r.width / 2 + scrollX, y: r.top + r.height / 2 + scrollY }; }",
        selector,
    )
    return point


def test_remote_control_needs_a_second_consent_and_stays_out_of_fields(browser: Browser, cc: ConsoleServer) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    sockets: list[WebSocket] = []
    agent_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=cc.base_url)
    cust_ctx = browser.new_context(viewport={"width": 1100, "height": 640}, base_url=cc.base_url)
    try:
        agent = agent_ctx.new_page()
        agent.set_default_timeout(15_000)
        agent.on("pageerror", lambda e: errors.append(f"agent: {e}"))

        agent.on("websocket", lambda ws: sockets.append(ws))
        agent.goto("/login?next=/staff/console")
        agent.fill("#username", AGENT)
        agent.fill("#password", PASSWORD)
        agent.click("button[type=submit]")
        expect(agent.locator("#presence")).to_have_attribute("data-state", "online")

        cust = cust_ctx.new_page()
        cust.set_default_timeout(15_000)
        cust.on("pageerror", lambda e: errors.append(f"customer: {e}"))
        cust.goto("/demo/card.html")
        cust.locator("#cc-chat-widget .launcher").click()
        cust.get_by_label("Your name").fill("Rita Remote")
        cust.get_by_role("button", name="Start chat").click()
        agent.locator(".conv-item").filter(has_text="Rita Remote").click()
        agent.locator("#cobrowse-btn").click()
        cust.get_by_role("button", name="Show my page").click()
        cust.locator("#cc-chat-widget .launcher").click()  # the chat put away: the page is in view
        replay = agent.frame_locator("#cobrowse-view iframe")
        expect(replay.locator("h1")).to_have_text("Report a problem with a card")
        cid = agent.evaluate("() => CC.state.selected")
        lost = cust.locator("#lost")

        def refused_click(at: dict[str, float]) -> None:
            """A click frame sent straight from the console's socket (its buttons offer none): refused."""
            with sockets[-1].expect_event("framereceived", predicate=lambda p: "cobrowse_no_control" in str(p)):
                agent.evaluate(
                    "(a) => CC.frame({ type: 'cobrowse_control', conversation_id: a.cid, kind: 'click', x: a.x,"
                    " y: a.y })",
                    {"cid": cid, **at},
                )

        # Sharing the page is not control: a click is refused by the server, the page does not react.
        expect(agent.locator("#cobrowse-drive")).to_be_hidden()
        refused_click(page_center(cust, "#lost summary"))
        expect(lost).not_to_have_attribute("open", "")

        # The agent asks; the customer gets a question of its own and allows.
        agent.locator("#cobrowse-control").click()
        expect(agent.locator("#cobrowse-control")).to_have_text("Asked to control…")
        question = cust.locator(".cb-ctl")
        expect(question).to_contain_text("Let Priya Shah click and scroll on this page for you?")
        cust.screenshot(path=str(SHOTS / "cobrowse-control-question.png"))
        question.get_by_role("button", name="Allow").click()
        expect(question).to_be_hidden()
        bar = cust.locator(".cb-bar")
        expect(bar).to_contain_text("can see this page and click and scroll on it")
        expect(agent.locator("#cobrowse-status")).to_contain_text("you have control")
        expect(agent.locator("#cobrowse-drive")).to_have_attribute("aria-pressed", "true")

        # The agent's wheel over the replay scrolls the customer's page.
        view = agent.locator("#cobrowse-view").bounding_box()
        assert view is not None
        agent.mouse.move(view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
        agent.mouse.wheel(0, 240)
        cust.wait_for_function("() => scrollY >= 100")
        # The replay follows the customer's scroll (rrweb).
        agent.wait_for_function(
            "(y) => { const f = document.querySelector('#cobrowse-view iframe');"
            " return f && Math.abs(f.contentWindow.scrollY - y) < 2; }",
            arg=cust.evaluate("() => scrollY"),
        )
        # Now in view, the agent's click on the replay's summary opens the panel on the customer's page.
        summary = replay.locator("#lost summary").bounding_box()
        assert summary is not None
        agent.mouse.click(summary["x"] + 30, summary["y"] + summary["height"] / 2)
        expect(lost).to_have_attribute("open", "")
        expect(cust.locator(".cb-ring")).to_have_attribute("data-outcome", "clicked")
        cust.screenshot(path=str(SHOTS / "cobrowse-control-customer.png"))

        # A click aimed at the masked "What happened?" field: the ring says it was refused, the field has no
        # focus and no value.
        expect(replay.locator("#lost")).to_have_attribute("open", "")  # the replay has the page as it is now
        agent.screenshot(path=str(SHOTS / "cobrowse-control-agent.png"))
        what = replay.locator("#what").bounding_box()
        assert what is not None
        n = int(cust.evaluate(f"() => +{RING}.dataset.n"))
        agent.mouse.click(what["x"] + what["width"] / 2, what["y"] + what["height"] / 2)
        cust.wait_for_function(f"(n) => +{RING}.dataset.n > n", arg=n)
        assert cust.evaluate(f"() => {RING}.dataset.outcome") == "refused"
        aimed = cust.evaluate(
            f"() => {{ const r = {RING}; return document.elementFromPoint(parseFloat(r.style.left),"
            " parseFloat(r.style.top)).id; }"
        )
        assert aimed == "what"  # it was aimed at the field, and did nothing
        assert cust.evaluate("() => document.activeElement && document.activeElement.id") != "what"
        assert cust.locator("#what").input_value() == ""
        # The agent is told why nothing happened (the console shows the customer's page's refusal).
        expect(agent.locator("#cobrowse-warning")).to_contain_text("form field")
        agent.screenshot(path=str(SHOTS / "cobrowse-control-refused-agent.png"))
        # Nor the label of the "Freeze the card now" box (a label's click would tick it): it stays ticked.
        freeze = replay.locator("label").filter(has_text="Freeze the card now").bounding_box()
        assert freeze is not None
        n = int(cust.evaluate(f"() => +{RING}.dataset.n"))
        agent.mouse.click(freeze["x"] + freeze["width"] - 20, freeze["y"] + freeze["height"] / 2)
        cust.wait_for_function(f"(n) => +{RING}.dataset.n > n", arg=n)
        assert cust.evaluate(f"() => {RING}.dataset.outcome") == "refused"
        expect(cust.locator("input[name=frozen]")).to_be_checked()

        # The wheel over a box of the page that scrolls (the transactions) scrolls that box (rrweb's node id),
        # not the page. First the page goes down far enough to show it.
        more = cust.evaluate("() => Math.ceil(document.querySelector('#txns').getBoundingClientRect().bottom"
                             " - innerHeight + 24)")  # fmt: skip
        if more > 0:
            agent.mouse.move(view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
            before = cust.evaluate("() => scrollY")
            agent.mouse.wheel(0, more)
            cust.wait_for_function("(y) => scrollY >= y", arg=before + more - 2)
        page_y = cust.evaluate("() => scrollY")
        agent.wait_for_function(
            "(y) => { const f = document.querySelector('#cobrowse-view iframe');"
            " return f && Math.abs(f.contentWindow.scrollY - y) < 2; }",
            arg=page_y,
        )
        txns = replay.locator("#txns").bounding_box()
        assert txns is not None
        agent.mouse.move(txns["x"] + txns["width"] / 2, txns["y"] + txns["height"] / 2)
        agent.mouse.wheel(0, 90)
        cust.wait_for_function("() => document.querySelector('#txns').scrollTop >= 60")
        assert cust.evaluate("() => scrollY") == page_y
        cust.screenshot(path=str(SHOTS / "cobrowse-control-customer-scrolled.png"))

        # The customer takes control back with one click: the console leaves control, the next click is refused.
        bar.get_by_role("button", name="Take back control").click()
        expect(bar).not_to_contain_text("click and scroll")
        expect(agent.locator("#cobrowse-control")).to_have_text("Ask to control")
        expect(agent.locator("#cobrowse-drive")).to_be_hidden()
        cust.evaluate("() => document.querySelector('#lost').open = false")
        refused_click(page_center(cust, "#lost summary"))
        expect(lost).not_to_have_attribute("open", "")
        assert not errors, errors
    finally:
        agent_ctx.close()
        cust_ctx.close()

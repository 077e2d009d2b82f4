"""Document push in two Chromium contexts: the agent adds a PDF and an image to the library from the
console and shows them to the customer on the demo site; the customer's widget shows them at once (the
PDF drawn by pdf.js on a canvas, from the app's own files: nothing from elsewhere), pages turn, and the
agent reads the receipts (opened, seconds per page, closed). Screenshots in test-artifacts/issue15/."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from tests.documents import samples
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.console_fixtures import AGENT, PASSWORD, ConsoleServer, console_server

SHOTS = ARTIFACTS / "issue15"
# The PDF sample's filled box is this blue (0.1 0.3 0.7 rg): drawn means pdf.js really rendered the page.
BLUE = (26, 77, 179)


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("documents")) as server:
        yield server


def blue_pixels(page: Page) -> int:
    """How many pixels of the viewer's canvas are the sample's blue (pdf.js drew the page)."""
    return int(
        page.locator("#cc-chat-widget").evaluate(
            """(host, blue) => {
                const c = host.shadowRoot.querySelector('.doc-canvas');
                if (!c) return 0;
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                const near = (i) => [0, 1, 2].every((k) => Math.abs(d[i + k] - blue[k]) < 12);
                for (let i = 0; i < d.length; i += 4) if (near(i)) n++;
                return n;
            }""",
            list(BLUE),
        )
    )


def test_agent_pushes_a_pdf_and_an_image_and_reads_the_receipts(
    browser: Browser, cc: ConsoleServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    files = tmp_path_factory.mktemp("docs")
    (files / "contract.pdf").write_bytes(samples.pdf(3, "Loan contract"))
    (files / "plan.jpg").write_bytes(samples.png(360, 240))  # a PNG named .jpg: the bytes decide
    errors: list[str] = []
    elsewhere: list[str] = []  # any request the customer's page makes to another host

    agent_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=cc.base_url)
    cust_ctx = browser.new_context(viewport={"width": 1100, "height": 800}, base_url=cc.base_url)
    try:
        agent = agent_ctx.new_page()
        agent.set_default_timeout(15_000)
        agent.on("pageerror", lambda e: errors.append(f"agent: {e}"))
        agent.goto("/login?next=/staff/console")
        agent.fill("#username", AGENT)
        agent.fill("#password", PASSWORD)
        agent.click("button[type=submit]")
        expect(agent.locator("#presence")).to_have_attribute("data-state", "online")

        cust = cust_ctx.new_page()
        cust.set_default_timeout(15_000)
        cust.on("pageerror", lambda e: errors.append(f"customer: {e}"))
        host = urlsplit(cc.base_url).netloc

        def on_request(r: Request) -> None:
            if urlsplit(r.url).netloc not in (host, ""):
                elsewhere.append(r.url)

        cust.on("request", on_request)
        cust.goto("/demo/")
        cust.locator("#cc-chat-widget .launcher").click()
        cust.get_by_label("Your name").fill("Dora Customer")
        cust.get_by_role("button", name="Start chat").click()
        agent.locator(".conv-item").filter(has_text="Dora Customer").click()
        expect(agent.locator("#thread-name")).to_have_text("Dora Customer")

        # The agent adds both documents from the console.
        agent.locator("#docs-btn").click()
        pane = agent.locator("#docs-pane")
        expect(pane).to_be_visible()
        for name, title, tags in (
            ("contract.pdf", "Loan contract", "loans, contracts"),
            ("plan.jpg", "Floor plan", "homes"),
        ):
            pane.locator("input[name=file]").set_input_files(str(files / name))
            pane.locator("input[name=title]").fill(title)
            pane.locator("input[name=tags]").fill(tags)
            pane.get_by_role("button", name="Add to library").click()
            expect(agent.locator("#docs-status")).to_have_text(f"“{title}” added to the library")
        expect(agent.locator(".doc-item")).to_have_count(2)
        agent.locator("#docs-search").fill("contracts")
        expect(agent.locator(".doc-item")).to_have_count(1)

        # The PDF: on the customer's screen at once, page 1 drawn by pdf.js.
        agent.locator(".doc-item").filter(has_text="Loan contract").get_by_role("button").click()
        viewer = cust.locator("#cc-chat-widget .doc-view")
        expect(viewer).to_be_visible()
        expect(viewer.locator(".doc-title")).to_have_text("Loan contract")
        expect(viewer).to_have_attribute("data-rendered", "1")
        expect(viewer.locator(".doc-page")).to_have_text("Page 1 of 3")
        assert blue_pixels(cust) > 1000
        sent = agent.locator(".doc-sent").filter(has_text="Loan contract")
        expect(sent).to_have_attribute("data-opened", "1")
        expect(sent).to_contain_text("Open now (0 of 3 pages viewed)")
        cust.screenshot(path=str(SHOTS / "customer-pdf-desktop.png"))
        # Pages turn; the seconds spent on each reach the agent.
        viewer.get_by_role("button", name="Next page").click()
        expect(viewer).to_have_attribute("data-page", "2")
        expect(viewer.locator(".doc-page")).to_have_text("Page 2 of 3")
        expect(sent).to_contain_text("p. 1:")
        # The agent turns it to page 3 for both.
        turn = sent.locator(".doc-turn")
        turn.get_by_label("Page to show").fill("3")
        turn.get_by_role("button", name="Show page").click()
        expect(viewer).to_have_attribute("data-page", "3")
        expect(viewer.locator(".doc-page")).to_have_text("Page 3 of 3")
        expect(sent).to_contain_text("p. 2:")
        # The customer reads page 3 a moment (the viewer counts a page shown under 50 ms as not seen).
        shown = cust.evaluate("Date.now()")
        cust.wait_for_function("t => Date.now() - t > 300", arg=shown)
        viewer.get_by_role("button", name="Close the document").click()
        expect(viewer).to_be_hidden()
        expect(sent).to_contain_text("Opened, closed (3 of 3 pages viewed)")
        # The pushes and openings are touches: Recent contacts shows them without a click on Refresh.
        expect(agent.locator("#cp-timeline")).to_contain_text("Document opened: Loan contract")
        # Closed, it stays on the chat's shelf, after a page change too, and opens again from there.
        cust.reload()
        expect(cust.locator("#cc-chat-widget .panel")).to_be_visible()  # the widget remembers it was open
        chip = cust.locator("#cc-chat-widget .doc-chip").filter(has_text="Loan contract")
        expect(chip).to_be_visible()
        cust.screenshot(path=str(SHOTS / "customer-shelf-desktop.png"))
        chip.click()
        expect(viewer).to_have_attribute("data-rendered", "1")
        viewer.get_by_role("button", name="Close the document").click()

        # The image, on a phone-sized screen: the viewer fills it.
        cust.set_viewport_size({"width": 390, "height": 844})
        agent.locator("#docs-search").fill("")
        agent.locator(".doc-item").filter(has_text="Floor plan").get_by_role("button").click()
        expect(viewer.locator(".doc-title")).to_have_text("Floor plan")
        image = viewer.locator("img.doc-image")
        expect(image).to_be_visible()
        expect(viewer).to_have_attribute("data-rendered", "1")
        assert image.evaluate("(i) => i.naturalWidth") == 360
        box = viewer.bounding_box()
        assert box is not None and box["width"] == 390 and box["height"] == 844
        cust.screenshot(path=str(SHOTS / "customer-image-phone.png"))
        expect(agent.locator(".doc-sent").filter(has_text="Floor plan")).to_have_attribute("data-opened", "1")
        # The PDF again on the phone: drawn to the phone's width.
        agent.locator(".doc-item").filter(has_text="Loan contract").get_by_role("button").click()
        expect(viewer.locator(".doc-title")).to_have_text("Loan contract")
        expect(viewer).to_have_attribute("data-rendered", "1")
        assert blue_pixels(cust) > 500
        cust.screenshot(path=str(SHOTS / "customer-pdf-phone.png"))
        agent.screenshot(path=str(SHOTS / "agent-receipts.png"))

        assert not elsewhere, elsewhere  # pdf.js, its worker and fonts all came from the app
        assert not errors, errors
    finally:
        agent_ctx.close()
        cust_ctx.close()

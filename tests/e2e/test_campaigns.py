"""Campaign pages in Debian's Chromium against the real server (demo bank, analytics computed by the seed): a
planner fills the form, previews the list, saves, starts; the funnel shows what the records say; agents
are refused."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from contactcenter.db import Database, utcnow
from contactcenter.suggestions.models import SuggestionRecord
from tests.e2e.conftest import Watch
from tests.e2e.planner_fixtures import AGENT, PLANNER, ROOT, PlannerServer
from tests.procs import app_process

OpenAs = Callable[[str], Page]
CAMPAIGN = "travel-for-gold"
WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"""


@dataclass
class Rig:
    server: PlannerServer
    url: str


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    tmp = tmp_path_factory.mktemp("campaigns")
    url = f"sqlite+aiosqlite:///{tmp / 'campaigns.db'}"
    env = {**os.environ, "CC_DATABASE_URL": url, "CC_SECRET_KEY": "campaigns-e2e-" + "c" * 40, "CC_LOG_JSON": "false"}
    env["CC_RULES_DIR"] = str(ROOT / "rules")
    cli = [sys.executable, "-m", "contactcenter"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "seed-demo", "--customers", "60"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = tmp / "server.log"
    with app_process(env, log) as base:
        yield Rig(PlannerServer(base_url=base, log=log), url)


@pytest.fixture
def open_as(browser: Browser, rig: Rig, watch: Watch) -> Iterator[OpenAs]:
    contexts: list[BrowserContext] = []

    def open_(username: str) -> Page:
        context = browser.new_context(
            viewport={"width": 1366, "height": 900}, base_url=rig.server.base_url, locale="en-GB"
        )
        contexts.append(context)
        with rig.server.client(username) as c:
            cookie = c.cookies["cc_session"]
        context.add_cookies([{"name": "cc_session", "value": cookie, "url": rig.server.base_url}])
        page = context.new_page()
        page.on("request", lambda req: watch.requests.append(req.url))
        page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
        page.set_default_timeout(20_000)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not watch.errors, f"page errors: {watch.errors}"
    assert not watch.foreign(), f"requests to other hosts: {watch.foreign()}"


async def _contacts(url: str, customers: list[tuple[int, bool]]) -> None:
    """Records as the console leaves them: the treated first three contacted (one accepts, one buys), the
    first held out contacted and buying by an order."""
    db, now = Database(url), utcnow()
    treated = [c for c, held in customers if not held][:3]
    held = [c for c, h in customers if h][:1]
    async with db.session() as s:
        for n, cid in enumerate(treated + held):
            s.add(
                SuggestionRecord(
                    rule_id=f"campaign:{CAMPAIGN}",
                    version=1,
                    row_id="campaign",
                    customer_id=cid,
                    conversation_id=f"e2e-campaign-{n}",
                    title="Travel for gold",
                    offer="HB-IN-TRAVEL",
                    script_id="travel_insurance",
                    priority=50,
                    reason="Campaign",
                    held_out=cid in held,
                    shown_at=now,
                    accepted_at=now if n in (0, 1) else None,
                    converted_at=now if n in (1, len(treated)) else None,
                    conversion_product="HB-IN-TRAVEL" if n in (1, len(treated)) else None,
                    conversion_source=None if n not in (1, len(treated)) else ("wrap_up" if n == 1 else "order"),
                )
            )
        await s.commit()
    await db.dispose()


def test_planner_defines_previews_starts_and_reads_the_funnel(open_as: OpenAs, rig: Rig, artifacts: Path) -> None:
    page = open_as(PLANNER)
    page.goto("/staff/planner/campaigns")
    # The demo seed's campaign is running already.
    demo = page.locator("tr[data-campaign-id=home-cover]")
    expect(demo.locator(".state")).to_have_text("Running")
    expect(demo.locator(".campaign-link")).to_have_text("Home insurance for likely buyers")
    expect(page.get_by_role("link", name="Campaigns")).to_have_attribute("aria-current", "page")
    page.get_by_label("Name", exact=True).fill("Travel for gold")
    expect(page.get_by_label("Short name (used in reports and rules)")).to_have_value(CAMPAIGN)
    page.get_by_label("Gold", exact=True).check()
    page.get_by_label("Platinum", exact=True).check()
    page.get_by_label("Product offered", exact=True).select_option("HB-IN-TRAVEL")
    page.get_by_label("Sales script", exact=True).select_option("travel_insurance")
    page.get_by_label("Hold-out (customers never offered it, to compare with)").select_option("20")
    page.get_by_role("button", name="Preview target list").click()
    expect(page.locator("#preview")).to_be_visible()
    with rig.server.client(PLANNER) as c:
        body = {
            "id": CAMPAIGN,
            "target": {"tiers": ["gold", "platinum"]},
            "product_sku": "HB-IN-TRAVEL",
            "holdout_pct": 20,
        }
        expected = c.post("/api/campaigns/preview", json=body).json()
    assert expected["size"] > 0, "the demo bank has gold and platinum customers without travel cover"
    expect(page.locator("#preview-size")).to_have_text(f"{expected['size']} customers on the list")
    expect(page.locator(".preview-table tbody tr")).to_have_count(min(expected["size"], 20))
    assert page.evaluate(WIDER_THAN_VIEWPORT) == []
    page.screenshot(path=artifacts / "campaigns-new.png", full_page=True)
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url(f"**/staff/planner/campaigns/{CAMPAIGN}")
    expect(page.locator("#campaign-title")).to_have_text("Travel for gold")
    expect(page.locator("#campaign-state")).to_have_text("Draft")
    page.get_by_role("button", name="Start campaign").click()
    expect(page.locator("#campaign-state")).to_have_text("Running")
    expect(page.locator("#funnel svg rect[data-stage=targeted]")).to_have_count(2)
    with rig.server.client(PLANNER) as c:
        targets = c.get(f"/api/campaigns/{CAMPAIGN}/targets?limit=500").json()["targets"]
    assert len(targets) == expected["size"]
    customers = [(t["customer_id"], t["held_out"]) for t in targets]
    assert any(h for _, h in customers) and any(not h for _, h in customers), "a 20 % hold-out of this list splits"
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        pool.submit(asyncio.run, _contacts(rig.url, customers)).result()
    page.reload()
    treated = sum(not h for _, h in customers)
    funnel = page.locator("#funnel")
    bars = {
        (g, s): funnel.locator(f"g[data-group={g}] rect[data-stage={s}]")
        for g in ("treated", "holdout")
        for s in ("targeted", "contacted", "accepted", "converted")
    }
    expect(bars["treated", "targeted"]).to_have_attribute("data-value", str(treated))
    expect(bars["treated", "contacted"]).to_have_attribute("data-value", str(min(3, treated)))
    expect(bars["treated", "accepted"]).to_have_attribute("data-value", "2")
    expect(bars["treated", "converted"]).to_have_attribute("data-value", "1")
    expect(bars["holdout", "targeted"]).to_have_attribute("data-value", str(len(customers) - treated))
    expect(bars["holdout", "contacted"]).to_have_attribute("data-value", "1")
    expect(bars["holdout", "accepted"]).to_have_count(0)  # never shown to the hold-out
    expect(bars["holdout", "converted"]).to_have_attribute("data-value", "1")
    # Wider bars for bigger stages.
    w = [float(bars["treated", s].get_attribute("width") or 0) for s in ("targeted", "contacted", "converted")]
    assert w[0] >= w[1] >= w[2] > 0
    expect(page.locator("#results tr[data-group=holdout] td").nth(1)).to_have_text("1")
    expect(page.locator("#uplift")).to_contain_text("Uplift against the hold-out")
    expect(page.locator("#targets tbody tr")).to_have_count(min(50, len(customers)))
    assert page.evaluate(WIDER_THAN_VIEWPORT) == []
    page.screenshot(path=artifacts / "campaigns-funnel.png", full_page=True)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Stop campaign").click()
    expect(page.locator("#campaign-state")).to_have_text("Stopped")
    page.goto("/staff/planner/campaigns")
    row = page.locator(f"tr[data-campaign-id={CAMPAIGN}]")
    expect(row.locator(".state")).to_have_text("Stopped")
    expect(row.locator(".size")).to_have_text(str(len(customers)))


def test_a_refused_form_says_why_and_text_stays_text(open_as: OpenAs) -> None:
    page = open_as(PLANNER)
    page.goto("/staff/planner/campaigns")
    page.get_by_label("Name", exact=True).fill("<img src=x onerror=alert(1)>")
    page.get_by_label("Product offered", exact=True).select_option("HB-IN-HOME")
    page.get_by_label("Sales script", exact=True).select_option("home_insurance")
    page.get_by_label("Until", exact=True).fill("2020-01-01")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator("#form-error")).to_contain_text("the end date is before the start date")
    page.get_by_label("Until", exact=True).fill("2099-01-01")
    page.get_by_label("Short name (used in reports and rules)").fill("xss-check")
    page.get_by_label("From", exact=True).fill("2098-06-01")
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url("**/staff/planner/campaigns/xss-check")
    expect(page.locator("#campaign-title")).to_have_text("<img src=x onerror=alert(1)>")
    assert page.locator("#campaign img").count() == 0


def test_agents_get_403_and_no_campaigns_link(open_as: OpenAs, rig: Rig) -> None:
    page = open_as(AGENT)
    for path in ("/staff/planner/campaigns", f"/staff/planner/campaigns/{CAMPAIGN}"):
        response = page.goto(path)
        assert response is not None and response.status == 403
    page.goto("/staff/console")
    expect(page.get_by_role("link", name="Campaigns")).to_have_count(0)
    with rig.server.client(AGENT) as c:
        assert c.post("/api/campaigns/preview", json={"target": {}, "product_sku": "HB-IN-HOME"}).status_code == 403


def test_narrow_screen_has_no_sideways_scroll(open_as: OpenAs, artifacts: Path) -> None:
    page = open_as(PLANNER)
    page.set_viewport_size({"width": 390, "height": 844})
    for path, ready in (
        ("/staff/planner/campaigns", "#c-product option"),
        ("/staff/planner/campaigns/home-cover", "#funnel svg"),
    ):
        page.goto(path)
        expect(page.locator(ready).first).to_be_attached()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px: {page.evaluate(WIDER_THAN_VIEWPORT)}"
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns")).to_be_in_viewport()
    page.screenshot(path=artifacts / "campaigns-narrow.png", full_page=True)

"""Campaign pages in Debian's Chromium against the real server (demo bank, analytics computed by the seed): a
planner fills the form, previews the list, saves, starts; the funnel shows what the records say; agents
are refused."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from contactcenter.analytics.models import TierHistory
from contactcenter.db import Database, utcnow
from contactcenter.suggestions.models import SuggestionRecord
from tests.e2e import charts
from tests.e2e.conftest import Watch
from tests.e2e.planner_fixtures import AGENT, PLANNER, PLANNER_NAME, ROOT, PlannerServer
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
    expect(page.locator("#funnel figure[data-chart=funnel][data-ready=true]")).to_have_count(2)
    with rig.server.client(PLANNER) as c:
        targets = c.get(f"/api/campaigns/{CAMPAIGN}/targets?limit=500").json()["targets"]
    assert len(targets) == expected["size"]
    customers = [(t["customer_id"], t["held_out"]) for t in targets]
    assert any(h for _, h in customers) and any(not h for _, h in customers), "a 20 % hold-out of this list splits"
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        pool.submit(asyncio.run, _contacts(rig.url, customers)).result()
    page.reload()
    treated = sum(not h for _, h in customers)
    held = len(customers) - treated
    offered, holdout = "#funnel [data-group=treated]", "#funnel [data-group=holdout]"
    charts.wait_drawn(page, offered)
    charts.wait_drawn(page, holdout)
    expect(page.locator(f"{offered} canvas")).to_have_attribute("aria-label", "Offered the campaign")
    expect(page.locator(f"{holdout} canvas")).to_have_attribute("aria-label", "Held out")

    def share(n: int, of: int) -> str:
        return f"{math.floor(100 * n / of + 0.5)} %"  # as JavaScript's Math.round

    contacted = min(3, treated)
    assert charts.figures(page, offered) == [
        ["On the list", str(treated), "100 %"],
        ["Contacted", str(contacted), share(contacted, treated)],
        ["Accepted", "2", share(2, treated)],
        ["Converted", "1", share(1, treated)],
    ]
    # Never shown to the hold-out: its Accepted stage says so and has no bar.
    assert charts.figures(page, holdout) == [
        ["On the list", str(held), "100 %"],
        ["Contacted", "1", share(1, held)],
        ["Accepted", "never shown", "—"],
        ["Converted", "1", share(1, held)],
    ]
    assert charts.bars(page, holdout)[0]["values"] == [held, 1, None, 1]
    # Longer bars for bigger stages.
    w = charts.bars(page, offered)[0]["lengths"]
    assert w[0] >= w[1] >= w[3] > 0
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


def test_planner_edits_a_running_campaign_then_restarts_it(open_as: OpenAs, rig: Rig, artifacts: Path) -> None:
    cid = "edit-me"
    with rig.server.client(PLANNER) as c:
        today = utcnow().date()
        body = {
            "id": cid,
            "name": "Travel for silver",
            "target": {"tiers": ["silver"]},
            "product_sku": "HB-IN-TRAVEL",
            "script_id": "travel_insurance",
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=20)).isoformat(),
            "holdout_pct": 10,
        }
        assert c.post("/api/campaigns", json=body).status_code == 201
        assert c.post(f"/api/campaigns/{cid}/start").status_code == 200
    page = open_as(PLANNER)
    page.goto(f"/staff/planner/campaigns/{cid}")
    expect(page.locator("#campaign-state")).to_have_text("Running")
    # Running: who it targets is locked, and the page says why and what to do.
    expect(page.get_by_label("Gold", exact=True)).to_be_disabled()
    expect(page.locator("#criteria-note")).to_contain_text("stop it, change the target, then restart it")
    page.get_by_label("Name", exact=True).fill("Travel for silver, extended")
    page.get_by_label("Priority (0–100)").fill("80")
    later = (today + timedelta(days=45)).isoformat()
    page.get_by_label("Until", exact=True).fill(later)
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#edit-status")).to_have_text("Saved.")
    expect(page.locator("#campaign-title")).to_have_text("Travel for silver, extended")
    expect(page.locator("#campaign-facts")).to_contain_text("80 (of 0–100")
    expect(page.locator("#history li").last).to_contain_text(
        f"{PLANNER_NAME} changed the end date, the name, the priority"
    )
    # Out of range: the server's refusal is shown, nothing changes.
    page.get_by_label("Priority (0–100)").fill("150")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#edit-error")).to_contain_text("priority")
    page.locator("#edit-panel").screenshot(path=artifacts / "campaign-edit-running.png")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Stop campaign").click()
    expect(page.locator("#campaign-state")).to_have_text("Stopped")
    expect(page.get_by_label("Gold", exact=True)).to_be_enabled()
    expect(page.locator("#criteria-note")).to_contain_text("a new target applies when it restarts")
    with rig.server.client(PLANNER) as c:
        kept = {
            t["customer_id"]: t["held_out"] for t in c.get(f"/api/campaigns/{cid}/targets?limit=500").json()["targets"]
        }
        wider = c.post(
            "/api/campaigns/preview", json={"target": {"tiers": ["silver", "gold"]}, "product_sku": "HB-IN-TRAVEL"}
        ).json()
    page.get_by_label("Gold", exact=True).check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#history li").last).to_contain_text("changed who it targets")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Restart campaign").click()
    expect(page.locator("#campaign-state")).to_have_text("Running")
    added = wider["size"] - len(kept)
    assert added > 0, "the demo bank has gold customers without travel cover"
    expect(page.locator("#campaign-status")).to_contain_text("restarted")
    expect(page.locator("#campaign-status")).to_contain_text(f"by {PLANNER_NAME} ({added} added)")
    expect(page.locator("#history li").last).to_contain_text(
        f"restarted it: {added} added, {wider['size']} on the list"
    )
    with rig.server.client(PLANNER) as c:
        now = {
            t["customer_id"]: t["held_out"] for t in c.get(f"/api/campaigns/{cid}/targets?limit=500").json()["targets"]
        }
    assert {k: now[k] for k in kept} == kept and len(now) == wider["size"]
    assert page.evaluate(WIDER_THAN_VIEWPORT) == []
    page.screenshot(path=artifacts / "campaign-restarted.png", full_page=True)
    page.goto("/staff/planner/campaigns")
    expect(page.locator(f"tr[data-campaign-id={cid}] .priority")).to_have_text("80")


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec".split()  # en-GB's short months


def _month(period: str) -> str:
    year, month = period.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


async def _earlier_month(url: str, period: str, customers: list[int]) -> None:
    """The month before the seed's, as an earlier run would have left it: three gold customers, two bronze."""
    db = Database(url)
    async with db.session() as s:
        for cid, tier in zip(customers, ("gold", "gold", "gold", "bronze", "bronze"), strict=True):
            s.add(TierHistory(customer_id=cid, period=period, tier=tier, value=Decimal("10.00")))
        await s.commit()
    await db.dispose()


def test_customers_panel_charts_tiers_per_month_and_associations(open_as: OpenAs, rig: Rig, artifacts: Path) -> None:
    with rig.server.client(PLANNER) as c:
        seeded = c.get("/api/analytics/tiers").json()["periods"]
        ids = [
            t["customer_id"]
            for t in c.post("/api/campaigns/preview", json={"target": {}, "product_sku": "HB-IN-HOME"}).json()["sample"]
        ]
    assert [p["customers"] > 0 for p in seeded] == [True], "the seed's analytics run wrote this month's tiers"
    year, month = map(int, seeded[0]["period"].split("-"))
    earlier = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _earlier_month(rig.url, earlier, ids[:5])).result()
    with rig.server.client(PLANNER) as c:
        tiers = c.get("/api/analytics/tiers").json()
        by_lift = c.get("/api/analytics/associations", params={"limit": 10}).json()
        by_confidence = c.get("/api/analytics/associations", params={"limit": 10, "by": "confidence"}).json()
    assert len(by_lift) > 2, "the demo bank's customers hold products together"

    page = open_as(PLANNER)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto("/staff/planner/campaigns")
    charts.wait_drawn(page, "#tiers-chart")
    expect(page.locator("#tiers-chart canvas")).to_have_attribute("aria-label", "Customers by value tier, per month")
    assert charts.head(page, "#tiers-chart") == ["Month", "Bronze", "Silver", "Gold", "Platinum", "Customers"]
    rows = charts.figures(page, "#tiers-chart")
    assert rows[0] == [_month(earlier), "2", "0", "3", "0", "5"]
    this = tiers["periods"][1]
    assert rows[1] == [
        _month(this["period"]),
        *(str(this["counts"][t]) for t in tiers["tiers"]),
        str(this["customers"]),
    ]
    # Stacked bars, one dataset per tier: the earlier month has no silver bar, a gold one 1.5 times bronze's.
    drawn = {d["label"]: d for d in charts.bars(page, "#tiers-chart")}
    assert drawn["Silver"]["lengths"][0] == 0 and drawn["Gold"]["lengths"][0] > drawn["Bronze"]["lengths"][0] > 0

    def assoc_rows(found: list[dict[str, Any]]) -> list[list[str]]:
        return [
            [
                f"{a['antecedent_name']} → {a['consequent_name']}",
                f"{Decimal(a['lift']).quantize(Decimal('0.01'), ROUND_HALF_UP)}×",  # as toFixed(2)
                f"{math.floor(a['confidence'] * 100 + 0.5)} %",
                f"{a['baskets']} of {a['antecedent_baskets']}",
            ]
            for a in found
        ]

    charts.wait_drawn(page, "#assoc-chart")
    expect(page.locator("#assoc-chart canvas")).to_have_attribute(
        "aria-label", "Strongest product associations, by lift"
    )
    assert charts.figures(page, "#assoc-chart") == assoc_rows(by_lift)
    assert charts.bars(page, "#assoc-chart")[0]["values"] == [a["lift"] for a in by_lift]
    page.locator("#customers-panel").screenshot(path=artifacts / "campaigns-customers.png")
    page.get_by_label("Ranked by").select_option("confidence")
    expect(page.locator("#assoc-chart canvas")).to_have_attribute(
        "aria-label", "Strongest product associations, by confidence"
    )
    assert charts.figures(page, "#assoc-chart") == assoc_rows(by_confidence)
    lengths = charts.bars(page, "#assoc-chart")[0]["lengths"]
    assert lengths == sorted(lengths, reverse=True) and lengths[-1] > 0
    page.locator("#customers-panel").screenshot(path=artifacts / "campaigns-customers-confidence.png")
    assert problems == []


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
        ("/staff/planner/campaigns/home-cover", "#funnel canvas"),
    ):
        page.goto(path)
        expect(page.locator(ready).first).to_be_attached()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px: {page.evaluate(WIDER_THAN_VIEWPORT)}"
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns")).to_be_in_viewport()
    page.screenshot(path=artifacts / "campaigns-narrow.png", full_page=True)

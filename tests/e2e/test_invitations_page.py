"""The planner's invitations page in Debian's Chromium against the real server (issue 17 items 3-4): the rule
table edited, reordered and published, a bad row refused with the server's reason under it and nothing
published, and the results of invitations the engage API decided for visitors (half held out) read back
from the charts' figures tables; agents are refused; a phone-width screen does not scroll sideways."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from contactcenter.conversations.models import Conversation
from contactcenter.db import Database, utcnow
from contactcenter.engage.models import BrowseSession, Invitation
from contactcenter.engage.service import held_out
from contactcenter.integration.models import Order, Product
from tests.e2e import charts
from tests.e2e.conftest import Watch
from tests.e2e.planner_fixtures import AGENT, PLANNER, ROOT, PlannerServer
from tests.procs import app_process

OpenAs = Callable[[str], Page]
PAGE = "/staff/planner/invitations"
VISITORS = 10
NEVER = 3
HOLDOUT = 50
WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"""


@dataclass
class Seeded:
    """What the visitors did: invitation answers and offers per invited visitor, and who was held out."""

    invited: list[tuple[int, int, str]] = field(default_factory=list)  # customer, invitation id, offer
    held: list[int] = field(default_factory=list)
    never: list[int] = field(default_factory=list)  # looked at a fund, no rule picked them


@dataclass
class Rig:
    server: PlannerServer
    url: str
    seeded: Seeded


def _beacon(c: httpx.Client, token: str, url: str, seconds: int) -> None:
    """The widget's page-view beacon on leaving a page opened `seconds` ago: the visitor's browsing session."""
    at = (utcnow() - timedelta(seconds=seconds)).isoformat()
    body = {"token": token, "views": [{"url": url, "title": "Page", "at": at, "seconds": seconds}]}
    r = c.post("/api/consent/pageviews", content=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert r.status_code == 202, r.text


def _visitor(c: httpx.Client, version: str) -> tuple[str, int, dict[str, str]]:
    r = c.post("/api/visitors")
    assert r.status_code in (200, 201), r.text
    token, cid = r.json()["token"], r.json()["customer_id"]
    auth = {"Authorization": f"Bearer {token}"}
    body = {"version": version, "storage": True, "browsing": True}
    assert c.post("/api/consent", json=body, headers=auth).status_code == 200
    return token, cid, auth


def _visitors(base: str) -> Seeded:
    """Visitors who allowed page views read the prices for two minutes: the default rule picks each; the
    engage service invites them or holds them out (by a hash of the visitor, half of them). A few more look
    at a fund once, and no rule picks them. Each leaves its page: a browsing session."""
    seeded = Seeded()
    with httpx.Client(base_url=base, timeout=20) as c:
        version = c.get("/api/consent/policy").json()["version"]
        for _ in range(NEVER):
            token, cid, _auth = _visitor(c, version)
            _beacon(c, token, f"{base}/demo/funds/global-equity.html", 30)
            seeded.never.append(cid)
        for _ in range(VISITORS):
            token, cid, auth = _visitor(c, version)
            r = c.post("/api/engage/check", json={"url": f"{base}/demo/pricing.html", "seconds": 120}, headers=auth)
            assert r.status_code == 200, r.text
            invitation = r.json()["invitation"]
            assert (invitation is None) == held_out(cid, HOLDOUT)
            if invitation is None:
                seeded.held.append(cid)
            else:
                seeded.invited.append((cid, invitation["id"], invitation["offer"]))
                if len(seeded.invited) <= 2:  # the first accepts, the second dismisses
                    answer = "accepted" if len(seeded.invited) == 1 else "dismissed"
                    a = c.post(f"/api/engage/invitations/{invitation['id']}/answer", json={"answer": answer},
                               headers=auth)  # fmt: skip
                    assert a.status_code == 200, a.text
            _beacon(c, token, f"{base}/demo/pricing.html", 120)
    assert len(seeded.invited) >= 3 and len(seeded.held) >= 2, "these visitors' hashes split both ways"
    return seeded


async def _after(url: str, seeded: Seeded) -> None:
    """After the invitations: the first invited visitor chats with us, the second orders; the first held-out
    visitor chats too. Everybody else leaves without either."""
    db, now = Database(url), utcnow()
    async with db.session() as s:
        product = await s.scalar(select(Product.id).limit(1))
        assert product is not None
        for n, cid in enumerate((seeded.invited[0][0], seeded.held[0])):
            s.add(Conversation(id=f"e2e-invite-{n}", customer_id=cid, customer_name="Visitor", status="closed",
                               created_at=now, closed_at=now))  # fmt: skip
        s.add(Order(customer_id=seeded.invited[1][0], product_id=product, amount=Decimal("10.00"), placed_at=now))
        s.add(Order(customer_id=seeded.never[0], product_id=product, amount=Decimal("10.00"), placed_at=now))
        await s.commit()
        # All of it 40 minutes ago: every visitor has left (no page view for the 30 minutes of the gap).
        ids = [*(cid for cid, _, _ in seeded.invited), *seeded.held, *seeded.never]
        back = timedelta(minutes=40)
        for model, cols in ((Invitation, ("created_at",)), (BrowseSession, ("started_at", "last_seen")),
                            (Conversation, ("created_at", "closed_at")), (Order, ("placed_at",))):  # fmt: skip
            for row in await s.scalars(select(model).where(model.customer_id.in_(ids))):
                for col in cols:
                    setattr(row, col, getattr(row, col) - back)
        await s.commit()
    await db.dispose()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    tmp = tmp_path_factory.mktemp("invitations")
    url = f"sqlite+aiosqlite:///{tmp / 'invitations.db'}"
    env = {**os.environ, "CC_DATABASE_URL": url, "CC_SECRET_KEY": "invite-page-e2e-" + "i" * 40}
    env |= {"CC_LOG_JSON": "false", "CC_RULES_DIR": str(ROOT / "rules"), "CC_ENGAGE_HOLDOUT_PCT": str(HOLDOUT)}
    cli = [sys.executable, "-m", "contactcenter"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "seed-demo", "--customers", "20"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = tmp / "server.log"
    with app_process(env, log) as base:
        seeded = _visitors(base)
        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
            pool.submit(asyncio.run, _after(url, seeded)).result()
        yield Rig(PlannerServer(base_url=base, log=log), url, seeded)


@pytest.fixture
def open_as(browser: Browser, rig: Rig, watch: Watch) -> Iterator[OpenAs]:
    contexts: list[BrowserContext] = []
    console: list[str] = []

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
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.set_default_timeout(20_000)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not watch.errors, f"page errors: {watch.errors}"
    assert not watch.foreign(), f"requests to other hosts: {watch.foreign()}"
    # The browser logs a refused request's status (the agent's 403, a bad row's 422); nothing else may log.
    expected = ("status of 403", "status of 422")
    assert [m for m in console if not any(e in m for e in expected)] == []


def _rules(rig: Rig) -> dict[str, Any]:
    with rig.server.client(PLANNER) as c:
        r = c.get("/api/engage/rules")
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data


def _field(page: Page, row: int, name: str) -> str:
    return f"#invite-rules tr.rule-row >> nth={row} >> [data-field={name}]"


def test_planner_edits_reorders_publishes_and_sees_it_after_a_reload(
    open_as: OpenAs, rig: Rig, artifacts: Path
) -> None:
    before = _rules(rig)
    page = open_as(PLANNER)
    page.goto(PAGE)
    expect(page.get_by_role("link", name="Invitations")).to_have_attribute("aria-current", "page")
    rows = page.locator("#invite-rules tr.rule-row")
    expect(rows).to_have_count(len(before["rules"]))
    expect(page.locator(".order-note")).to_contain_text("The first switched-on rule whose every condition holds")
    expect(page.locator(_field(page, 0, "name"))).to_have_value("Lingers on a pricing page")
    page.locator(_field(page, 0, "min_seconds")).fill("45")
    expect(page.locator("#publish-status")).to_have_text("Changes not published yet.")
    page.get_by_role("button", name="Add a rule").click()
    n = len(before["rules"])
    expect(rows).to_have_count(n + 1)
    expect(page.get_by_label(f"Rule name, rule {n + 1}")).to_be_focused()
    page.get_by_label(f"Rule name, rule {n + 1}").fill("Reads about mortgages")
    page.get_by_label(f"Page address, rule {n + 1}").fill("*/mortgages*")
    page.get_by_label(f"Seconds on the page, rule {n + 1}").fill("10")
    page.get_by_label(f"Topic, rule {n + 1}").fill("mortgages")
    for k in range(n, 0, -1):  # to the top: it wins over the others
        page.get_by_role("button", name=f"Move rule {k + 1} up").click()
    expect(page.get_by_label("Rule name, rule 1")).to_have_value("Reads about mortgages")
    expect(page.get_by_role("button", name="Move rule 1 up")).to_be_disabled()
    page.get_by_label(f"On, rule {n + 1}").uncheck()  # the cart rule, last: switched off
    page.get_by_label("What changed (optional)").fill("Mortgages first; wait 45 s on prices")
    page.screenshot(path=artifacts / "invitations-editing.png", full_page=True)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#publish-status")).to_contain_text("Published: version")
    after = _rules(rig)
    assert after["version"] == before["version"] + 1
    got = after["rules"]
    assert got[0] == {"id": "reads-about-mortgages", "name": "Reads about mortgages", "enabled": True,
                      "page": "*/mortgages*", "min_seconds": 10, "min_visits": None, "cart_left": None,
                      "topic": "mortgages"}  # fmt: skip
    assert got[1]["id"] == "pricing-linger" and got[1]["min_seconds"] == 45
    assert got[-1]["id"] == "cart-left" and got[-1]["enabled"] is False and got[-1]["cart_left"] is True
    page.reload()
    expect(page.locator("#version")).to_contain_text(f"Version {after['version']} is in force")
    expect(page.locator("#version")).to_contain_text("Mortgages first; wait 45 s on prices")
    expect(page.get_by_label("Rule name, rule 1")).to_have_value("Reads about mortgages")
    expect(page.get_by_label("Seconds on the page, rule 2")).to_have_value("45")
    expect(page.get_by_label(f"On, rule {n + 1}")).not_to_be_checked()
    expect(page.get_by_label(f"Shopping cart, rule {n + 1}")).to_have_value("true")
    assert page.evaluate(WIDER_THAN_VIEWPORT) == []
    page.screenshot(path=artifacts / "invitations-desktop.png", full_page=True)


def test_a_bad_row_shows_the_servers_reason_under_it_and_publishes_nothing(
    open_as: OpenAs, rig: Rig, artifacts: Path
) -> None:
    before = _rules(rig)
    page = open_as(PLANNER)
    page.goto(PAGE)
    expect(page.get_by_label("Rule name, rule 2")).not_to_have_value("")
    page.get_by_label("Seconds on the page, rule 2").fill("-5")
    page.get_by_label("Rule name, rule 3").fill("")
    page.get_by_role("button", name="Publish").click()
    problem = page.locator("#invite-rules tr.rule-row >> nth=1 >> xpath=following-sibling::tr[1]")
    expect(problem).to_have_class("row-problem")
    expect(problem).to_have_text("Seconds on the page: must be 1 or more")
    third = page.locator("#invite-rules tr.rule-row >> nth=2 >> xpath=following-sibling::tr[1]")
    expect(third).to_have_text("Rule name: must not be empty")
    expect(page.get_by_label("Seconds on the page, rule 2")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Seconds on the page, rule 2")).to_be_focused()
    expect(page.locator("#publish-error")).to_have_text("Nothing was published: see the rules marked above.")
    assert _rules(rig) == before
    page.locator("#rules-form").screenshot(path=artifacts / "invitations-refused.png")
    # Fixed, but a page address with too many stars: the server's own check, under that row.
    page.get_by_label("Seconds on the page, rule 2").fill("30")
    page.get_by_label("Rule name, rule 3").fill("Any page, long")
    page.get_by_label("Page address, rule 3").fill("*a*b*c*d*e*")
    page.get_by_role("button", name="Publish").click()
    expect(third).to_have_text("Page address: a page pattern may hold at most 4 stars")
    expect(page.locator("tr.row-problem")).to_have_count(1)
    assert _rules(rig) == before
    page.get_by_role("button", name="Discard changes").click()
    expect(page.locator("tr.row-problem")).to_have_count(0)
    expect(page.get_by_label("Page address, rule 3")).to_have_value(before["rules"][2]["page"])


def _pct(n: int, of: int) -> str:
    return f"{100 * n / of:.1f} %"  # as planner-util.js's pct (toFixed(1))


def test_results_show_what_the_visitors_did_invited_against_held_out(
    open_as: OpenAs, rig: Rig, artifacts: Path
) -> None:
    s = rig.seeded
    inv, held = len(s.invited), len(s.held)
    page = open_as(PLANNER)
    page.goto(PAGE)
    invited_f, held_f = "#funnel [data-group=invited]", "#funnel [data-group=held_out]"
    charts.wait_drawn(page, invited_f)
    charts.wait_drawn(page, held_f)
    assert charts.head(page, invited_f) == ["Stage", "Visitors", "Share of those picked"]

    def pc(n: int, of: int) -> str:
        return f"{int(100 * n / of + 0.5)} %"  # as Math.round

    assert charts.figures(page, invited_f) == [
        ["Picked by a rule", str(inv), "100 %"],
        ["Shown", str(inv), "100 %"],
        ["Accepted", "1", pc(1, inv)],
        ["Contacted us", "1", pc(1, inv)],
        ["Ordered", "1", pc(1, inv)],
    ]
    assert charts.figures(page, held_f) == [
        ["Picked by a rule", str(held), "100 %"],
        ["Shown", "never shown", "—"],
        ["Accepted", "never shown", "—"],
        ["Contacted us", "1", pc(1, held)],
        ["Ordered", "0", "0 %"],
    ]
    # Abandoned: neither a contact nor an order.
    inv_left, held_left = inv - 2, held - 1
    charts.wait_drawn(page, "#abandon-chart")
    rows = charts.figures(page, "#abandon-chart")
    assert len(rows) == 1  # one day of invitations
    assert rows[0][1:] == [f"{inv_left} of {inv}", _pct(inv_left, inv), f"{held_left} of {held}", _pct(held_left, held)]
    drawn = charts.bars(page, "#abandon-chart")
    assert [d["label"] for d in drawn] == ["Invited", "Held out"]
    assert drawn[0]["values"] == [pytest.approx(inv_left / inv)] and drawn[1]["values"] == [
        pytest.approx(held_left / held)
    ]
    # The difference in points, invited minus held out.
    uplift = page.locator("#uplift tr[data-key=abandoned] td")
    expect(uplift.nth(0)).to_have_text(f"{_pct(inv_left, inv)} ({inv_left} of {inv})")
    expect(uplift.nth(1)).to_have_text(f"{_pct(held_left, held)} ({held_left} of {held})")
    pts = 100 * (inv_left / inv - held_left / held)
    sign = "+" if pts > 0 else "−" if pts < 0 else "±"
    expect(uplift.nth(2)).to_have_text(f"{sign}{abs(pts):.1f} pts")
    expect(page.locator("#uplift tr[data-key=ordered] td").nth(2)).to_have_text(f"+{100 / inv:.1f} pts")
    # Per offer: what the engage service offered each invited visitor.
    offers = [o for _, _, o in s.invited]
    for key in ("chat", "callback", "articles"):
        cells = page.locator(f"#by-offer tr[data-offer={key}] td")
        expect(cells.nth(0)).to_have_text(str(offers.count(key)))
    first = s.invited[0][2]
    expect(page.locator(f"#by-offer tr[data-offer={first}] td").nth(1)).to_have_text("1")  # accepted
    expect(page.locator("#by-offer tr[data-offer=held_out] td")).to_have_text(
        [str(held), "—", "—", "1", "0", str(held_left), _pct(held_left, held)]
    )
    page.locator("#results").screenshot(path=artifacts / "invitations-results.png")


def test_every_product_session_shows_its_abandon_rate_invited_held_out_and_never_invited(
    open_as: OpenAs, rig: Rig, artifacts: Path
) -> None:
    s = rig.seeded
    inv, held, never = len(s.invited), len(s.held), len(s.never)
    page = open_as(PLANNER)
    page.goto(PAGE)
    charts.wait_drawn(page, "#sessions-chart")
    expect(page.locator("#sessions-gap")).to_have_text("30 minutes")
    expect(page.locator("#sessions-ongoing")).to_have_text("No session is going on now: every one below has ended.")
    # Invited: one chatted, one ordered; held out: one chatted; never invited: one ordered.
    expect(page.locator("#sessions-totals tr[data-group=invited] td")).to_have_text(
        [str(inv), "1", "1", str(inv - 2), _pct(inv - 2, inv)]
    )
    expect(page.locator("#sessions-totals tr[data-group=held_out] td")).to_have_text(
        [str(held), "1", "0", str(held - 1), _pct(held - 1, held)]
    )
    expect(page.locator("#sessions-totals tr[data-group=never] td")).to_have_text(
        [str(never), "0", "1", str(never - 1), _pct(never - 1, never)]
    )
    [row] = charts.figures(page, "#sessions-chart")  # one day of sessions
    assert row[1:] == [
        f"{inv - 2} of {inv}", _pct(inv - 2, inv),
        f"{held - 1} of {held}", _pct(held - 1, held),
        f"{never - 1} of {never}", _pct(never - 1, never),
    ]  # fmt: skip
    drawn = charts.bars(page, "#sessions-chart")
    assert [d["label"] for d in drawn] == ["Invited", "Held out", "Never invited"]
    assert [d["values"] for d in drawn] == [
        [pytest.approx((inv - 2) / inv)],
        [pytest.approx((held - 1) / held)],
        [pytest.approx((never - 1) / never)],
    ]
    page.locator("section[aria-labelledby=sessions-title]").screenshot(path=artifacts / "invitations-sessions.png")


def test_agents_get_403_and_no_invitations_link(open_as: OpenAs, rig: Rig) -> None:
    page = open_as(AGENT)
    response = page.goto(PAGE)
    assert response is not None and response.status == 403
    page.goto("/staff/console")
    expect(page.get_by_role("link", name="Invitations")).to_have_count(0)
    with rig.server.client(AGENT) as c:
        assert c.get("/api/engage/results").status_code == 403


def test_narrow_screen_has_no_sideways_scroll(open_as: OpenAs, artifacts: Path) -> None:
    page = open_as(PLANNER)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(PAGE)
    expect(page.locator("#invite-rules tr.rule-row").first).to_be_visible()
    charts.wait_drawn(page, "#abandon-chart")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"scrolls sideways by {overflow}px: {page.evaluate(WIDER_THAN_VIEWPORT)}"
    page.screenshot(path=artifacts / "invitations-narrow.png", full_page=True)
    page.screenshot(path=artifacts / "invitations-narrow-top.png")
    page.locator("#results").screenshot(path=artifacts / "invitations-narrow-results.png")
    page.locator("section[aria-labelledby=sessions-title]").screenshot(
        path=artifacts / "invitations-narrow-sessions.png"
    )

"""Every page under its Content-Security-Policy in Chromium (issue 11, Low): no violation, no console error,
on every staff page, the rule editor's React bundle included, the login and error pages, and the demo site
with the widget open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.planner_fixtures import PlannerServer, build_bundle, planner_server

RECORD = """() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation",
    (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
}"""


@pytest.fixture(scope="module")
def ps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlannerServer]:
    build_bundle()
    with planner_server(tmp_path_factory.mktemp("csp")) as server:
        yield server


def _visit(browser: Browser, ps: PlannerServer, user: str | None, paths: list[str], ready: dict[str, str]) -> None:
    context = browser.new_context(base_url=ps.base_url, viewport={"width": 1366, "height": 900})
    if user is not None:
        with ps.client(user) as c:
            context.add_cookies([{"name": "cc_session", "value": c.cookies["cc_session"], "url": ps.base_url}])
    context.add_init_script(f"({RECORD})()")
    page: Page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    try:
        for path in paths:
            r = page.goto(path)
            assert r is not None and "content-security-policy" in r.headers, path
            if path in ready:
                expect(page.locator(ready[path]).first).to_be_visible()
            page.wait_for_load_state("networkidle")
            violations = page.evaluate("window.__violations")
            problems += [f"{path}: {v}" for v in violations]
    finally:
        context.close()
    # The error page's own 404 is the only console error expected (the browser logs the status).
    assert [p[:300] for p in problems if "404" not in p] == [], "\n".join(p[:300] for p in problems)


def test_staff_pages_have_no_csp_violations(browser: Browser, ps: PlannerServer, artifacts: Path) -> None:
    paths = [
        "/staff/customers",
        "/staff/customers/1",
        "/staff/console",
        "/staff/wallboard",
        "/staff/planner",
        "/staff/planner/rules/fund-advisor",
        "/staff/planner/campaigns",
        "/staff/planner/campaigns/home-cover",
        "/staff/planner/invitations",
    ]
    # Pages with charts (web/static/charts.js, Chart.js from /vendor/chart.js) are checked once drawn.
    drawn = "figure.chart[data-ready=true] canvas"
    ready = {
        "/staff/planner/rules/fund-advisor": "#graph[data-ready=true]",
        "/staff/wallboard": f"#chart {drawn}",
        "/staff/planner": f"#rules-chart {drawn}",
        "/staff/planner/campaigns": f"#tiers-chart {drawn}",
        "/staff/planner/campaigns/home-cover": f"#funnel {drawn}",
        # No invitations in this rig: the rule table is drawn, the results say there are none yet (the page's
        # charts are checked for console errors, CSP reports included, in test_invitations_page.py).
        "/staff/planner/invitations": "#invite-rules tr.rule-row",
    }
    _visit(browser, ps, "admin", paths, ready)


def test_login_error_and_demo_pages_have_no_csp_violations(browser: Browser, ps: PlannerServer) -> None:
    _visit(
        browser,
        ps,
        None,
        ["/login", "/demo/", "/staff/customers/999999"],
        {"/demo/": "#cc-chat-widget button.launcher"},
    )

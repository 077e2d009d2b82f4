"""Planner pages in Debian's Chromium against the real server: rules list, the decision-table editor (offline),
publish, a refused draft, test a draft, rollback, hold-out, and the role guard."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.e2e import charts
from tests.e2e.conftest import Watch
from tests.e2e.planner_fixtures import AGENT, PLANNER, PLANNER_NAME, PlannerServer, build_bundle, planner_server

RULE = "fund-advisor"
BUNDLE_PATH = "/static/planner/dist/"
OpenAs = Callable[[str], Page]
WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"""


@pytest.fixture(scope="module")
def ps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlannerServer]:
    build_bundle()
    with planner_server(tmp_path_factory.mktemp("planner")) as server:
        yield server


@pytest.fixture
def open_as(browser: Browser, ps: PlannerServer, watch: Watch) -> Iterator[OpenAs]:
    """A signed-in page per call; the test fails on any page error or request to another host."""
    contexts: list[BrowserContext] = []

    def open_(username: str) -> Page:
        context = browser.new_context(
            viewport={"width": 1366, "height": 900}, base_url=ps.base_url, locale="en-GB", timezone_id="Europe/London"
        )
        contexts.append(context)
        with ps.client(username) as c:
            cookie = c.cookies["cc_session"]
        context.add_cookies([{"name": "cc_session", "value": cookie, "url": ps.base_url}])
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


def _table(content: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = next(n for n in content["nodes"] if n["type"] == "decisionTableNode")
    return node


def _cell(page: Page, row: int, column: int) -> Locator:
    """The editor's cell at 1-based `row` and 1-based `column` (inputs first, then outputs)."""
    return page.locator(
        f'#graph tr.table-row[data-virtual-index="{row - 1}"] td:nth-child({column + 1}) .grl-dt__cell__input'
    )


def _open_editor(page: Page, rule_id: str) -> None:
    page.goto(f"/staff/planner/rules/{rule_id}")
    expect(page.locator("#graph")).to_have_attribute("data-ready", "true")
    expect(page.locator("#draft-state")).to_have_text("Same as the version in force")


def _open_table(page: Page) -> None:
    page.locator("#graph").get_by_text("Edit Table").click()
    expect(page.locator("#graph tr.table-row").first).to_be_visible()


def _first_condition(content: dict[str, Any]) -> tuple[int, str, str]:
    """(1-based column, column id, text) of row 1's first non-empty condition."""
    table = _table(content)["content"]
    row = table["rules"][0]
    for j, col in enumerate(table["inputs"], start=1):
        if row.get(col["id"], "").strip():
            return j, col["id"], row[col["id"]]
    raise AssertionError("row 1 has no condition")


def _replace_cell(page: Page, cell: Locator, text: str) -> None:
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    if text:
        page.keyboard.insert_text(text)  # no key events: the editor's bracket and quote closing stays out
    page.locator("#publish-comment").click()
    expect(page.locator("#draft-state")).to_have_text("Unpublished changes")


def test_rules_list_shows_every_rule_with_its_figures(open_as: OpenAs, ps: PlannerServer, artifacts: Path) -> None:
    with ps.client(PLANNER) as c:
        rules = c.get("/api/rules").json()["rules"]
    assert rules, "the demo rules/ folder should load at start"
    page = open_as(PLANNER)
    page.goto("/staff/planner")
    rows = page.locator("#rules tbody tr")
    expect(rows).to_have_count(len(rules))
    expect(page.locator("#rules-status")).to_have_text(f"{len(rules)} rules")
    expect(page.locator(".mainnav a.active")).to_have_text("Rules")
    for rule in rules:
        row = rows.filter(has=page.locator(f'[href="/staff/planner/rules/{rule["id"]}"]'))
        expect(row.locator(".rule-link")).to_have_text(rule["name"])
        expect(row.locator(".version")).to_have_text(f"v{rule['version']}")
        for key in ("shown", "accepted", "dismissed", "converted"):
            expect(row.locator(f".{key}")).to_have_text(f"{rule['stats'][key]:,}")
        rate = rule["stats"]["conversion_rate"]
        expect(row.locator(".conversion")).to_have_text("—" if rate is None else f"{rate * 100:.1f} %")
    # The feedback recorded before the server started is on show, with its uplift against the hold-out.
    fund = next(r for r in rules if r["id"] == RULE)["stats"]
    assert fund["shown"] > fund["accepted"] > fund["converted"] > 0
    assert fund["holdout"] > 0 and fund["uplift"] is not None
    fund_row = rows.filter(has=page.locator(f'[href="/staff/planner/rules/{RULE}"]'))
    assert fund["uplift"] > 0  # 3 of 12 shown converted against 1 of 5 held out
    expect(fund_row.locator(".uplift")).to_have_text(f"+{fund['uplift'] * 100:.1f} pts")
    expect(fund_row.locator(".uplift")).to_have_attribute("data-sign", "up")
    charts.wait_drawn(page, "#rules-chart")
    canvas = page.locator("#rules-chart canvas")
    expect(canvas).to_have_attribute("role", "img")
    expect(canvas).to_have_attribute("aria-label", "Suggestions shown, accepted, dismissed and converted, by rule")
    # The figures a screen reader is given: one row per rule, one column per series.
    assert charts.head(page, "#rules-chart") == ["", "Shown", "Accepted", "Dismissed", "Converted"]
    keys = ("shown", "accepted", "dismissed", "converted")
    assert charts.figures(page, "#rules-chart") == [[r["name"], *(f"{r['stats'][k]:,}" for k in keys)] for r in rules]
    # One bar per rule and series; bar lengths follow the figures.
    drawn = charts.bars(page, "#rules-chart")
    assert [d["label"] for d in drawn] == ["Shown", "Accepted", "Dismissed", "Converted"]
    idx = [r["id"] for r in rules].index(RULE)
    lengths = {k: d["lengths"][idx] for k, d in zip(keys, drawn, strict=True)}
    assert lengths["shown"] > lengths["accepted"] > lengths["converted"] > 0
    page.screenshot(path=artifacts / "planner-rules.png", full_page=True)
    # The editor bundle is for the editor page only.
    assert not [u for u in page.evaluate("performance.getEntries().map(e => e.name)") if BUNDLE_PATH in u]

    rows.filter(has_text=rules[0]["name"]).locator(".rule-link").click()
    expect(page).to_have_url(f"{ps.base_url}/staff/planner/rules/{rules[0]['id']}")


def test_editor_loads_offline_with_the_graph_and_no_code_nodes(
    open_as: OpenAs, ps: PlannerServer, watch: Watch, artifacts: Path
) -> None:
    rule = ps.rule(RULE)
    page = open_as(PLANNER)
    _open_editor(page, RULE)
    expect(page.locator("#rule-name")).to_have_text(rule["name"])
    expect(page.locator("#rule-meta")).to_contain_text(f"Version {rule['version']} in force")
    expect(page.locator("#graph .react-flow__node")).to_have_count(len(rule["content"]["nodes"]))
    palette = page.locator("#graph .grl-dg__aside__menu__components")
    expect(palette).to_contain_text("Decision table")
    # Only what the server publishes: input, output and decision table (no code, expression or switch nodes).
    expect(palette.locator(".draggable-component")).to_have_count(3)
    assert not {"Function", "Expression", "Switch"} & set(palette.inner_text().split())
    expect(page.locator("#versions .version")).to_have_count(len(rule["versions"]))
    page.screenshot(path=artifacts / "planner-editor.png", full_page=True)
    _open_table(page)
    column, _, text = _first_condition(rule["content"])
    expect(_cell(page, 1, column)).to_have_text(text)
    page.screenshot(path=artifacts / "planner-editor-table.png")
    assert any(BUNDLE_PATH + "editor.js" in u for u in watch.requests)


def test_edit_and_publish_makes_a_new_version(open_as: OpenAs, ps: PlannerServer, artifacts: Path) -> None:
    rule = "retention"
    before = ps.rule(rule)
    column, col_id, _ = _first_condition(before["content"])
    page = open_as(PLANNER)
    _open_editor(page, rule)
    _open_table(page)

    page.click("#publish")
    expect(page.locator("#publish-status")).to_have_text(
        "Nothing to publish: the table is the same as the version in force."
    )
    _replace_cell(page, _cell(page, 1, column), "")
    page.click("#publish")
    expect(page.locator("#publish-comment-error")).to_contain_text("Say what changed")
    page.fill("#publish-comment", "Any customer whose value is slipping, whatever the first condition")
    page.click("#publish")
    new_version = before["version"] + 1
    expect(page.locator("#publish-status")).to_have_text(
        f"Published version {new_version}. Agents see it on their next contact."
    )
    expect(page.locator("#draft-state")).to_have_text("Same as the version in force")
    expect(page.locator("#rule-meta")).to_contain_text(f"Version {new_version} in force")
    expect(page.locator("#versions .version").first).to_contain_text(f"Version {new_version}")
    expect(page.locator("#versions .version").first).to_contain_text("whatever the first condition")
    expect(page.locator("#publish-comment")).to_have_value("")
    page.screenshot(path=artifacts / "planner-published.png", full_page=True)

    after = ps.rule(rule)
    assert after["version"] == new_version
    assert _table(after["content"])["content"]["rules"][0][col_id] == ""
    latest = max(after["versions"], key=lambda v: v["version"])
    assert latest["comment"] == "Any customer whose value is slipping, whatever the first condition"
    assert latest["author"] in (PLANNER, PLANNER_NAME)

    # The previous version comes back with a rollback, as a newer version still.
    item = page.locator(f'#versions .version[data-version="{before["version"]}"]')
    item.get_by_role("button", name="Roll back to this").click()
    item.get_by_role("button", name=f"Roll back to version {before['version']}").click()
    expect(item.locator(".field-error")).to_have_text("Say why, so others know what happened.")
    item.locator(".rollback-comment").fill("Back to the reviewed table")
    item.get_by_role("button", name=f"Roll back to version {before['version']}").click()
    expect(page.locator("#rule-meta")).to_contain_text(f"Version {new_version + 1} in force")
    expect(_cell(page, 1, column)).not_to_have_text("")
    rolled = ps.rule(rule)
    assert rolled["version"] == new_version + 1
    assert _table(rolled["content"])["content"]["rules"] == _table(before["content"])["content"]["rules"]


def test_invalid_draft_names_the_row_and_keeps_the_published_version(
    open_as: OpenAs, ps: PlannerServer, artifacts: Path
) -> None:
    rule = "home-insurance"
    before = ps.rule(rule)
    column, _, _ = _first_condition(before["content"])
    page = open_as(PLANNER)
    _open_editor(page, rule)
    _open_table(page)
    cell = _cell(page, 1, column)
    _replace_cell(page, cell, "$ > customer.shoe_size")
    page.fill("#publish-comment", "Try an unknown fact")
    page.click("#publish")
    problems = page.locator("#publish-problem-list li")
    expect(page.locator("#publish-problems")).to_be_visible()
    expect(problems.first).to_contain_text("Row 1")
    expect(problems.first).to_contain_text("shoe_size")
    page.screenshot(path=artifacts / "planner-invalid.png", full_page=True)

    # Nothing changed on the server; the draft, comment and unpublished state stay in the page.
    after = ps.rule(rule)
    assert after["version"] == before["version"]
    assert after["content"] == before["content"]
    expect(cell).to_have_text("$ > customer.shoe_size")
    expect(page.locator("#publish-comment")).to_have_value("Try an unknown fact")
    expect(page.locator("#draft-state")).to_have_text("Unpublished changes")
    expect(page.locator("#rule-meta")).to_contain_text(f"Version {before['version']} in force")

    # Testing the same draft says so too, instead of running it.
    page.check('input[name="who"][value="sample"]')
    page.click("#test-run")
    expect(page.locator("#test-error")).to_contain_text("cannot be tested")
    expect(page.locator("#test-error")).to_contain_text("shoe_size")


def test_an_imported_code_node_is_flagged_and_refused(
    open_as: OpenAs, ps: PlannerServer, tmp_path: Path, artifacts: Path
) -> None:
    before = ps.rule(RULE)
    graph = json.loads(json.dumps(before["content"]))
    graph["contentType"] = "application/vnd.gorules.decision"
    code = "export const handler = async (input) => ({ offer: 'ANYTHING' });"
    graph["nodes"].append(
        {"id": "code", "type": "functionNode", "name": "Code", "position": {"x": 400, "y": 420}, "content": code}
    )
    upload = tmp_path / "with-code.json"
    upload.write_text(json.dumps(graph))
    page = open_as(PLANNER)
    _open_editor(page, RULE)
    expect(page.locator("#function-warning")).to_be_hidden()
    # The editor's own "Upload JSON" (its cloud-upload menu) reads this file input.
    page.locator('#graph input[type=file][accept="application/json"]').set_input_files(upload)
    expect(page.locator("#graph .react-flow__node")).to_have_count(len(graph["nodes"]))
    # The editor reports the upload as a change after it has drawn it: on a loaded machine that came later
    # than expect's default 5 s (seen with a second load running).
    expect(page.locator("#function-warning")).to_be_visible(timeout=30_000)
    expect(page.locator("#draft-state")).to_have_text("Unpublished changes")
    page.fill("#publish-comment", "Let a little code decide")
    page.click("#publish")
    expect(page.locator("#publish-problem-list")).to_contain_text(
        "function (JavaScript) nodes are not allowed in planner rules"
    )
    page.screenshot(path=artifacts / "planner-code-node-refused.png")
    assert ps.rule(RULE)["version"] == before["version"]


def test_test_a_draft_against_a_customer_and_a_sample(open_as: OpenAs, ps: PlannerServer, artifacts: Path) -> None:
    rule_id = "mortgage-first"
    rule = ps.rule(rule_id)
    contact = {"page": "/mortgages/first-time"}
    with ps.client(PLANNER) as c:
        body = {"content": rule["content"], "sample": 40, "contact": contact}
        sample = c.post(f"/api/rules/{rule_id}/test", json=body).json()["results"]
    # A customer the rule matches on a fund page, so the rows and the rendered script are on show.
    chosen = next(r for r in sample if r["matched"])
    assert chosen["rows"] and chosen["script"]
    page = open_as(PLANNER)
    _open_editor(page, rule_id)
    page.locator(".contact-details summary").click()
    page.fill("#contact-page", contact["page"])

    page.click("#test-run")
    expect(page.locator("#customer-chosen")).to_have_text("Search for a customer and pick one from the list first.")
    page.fill("#customer-q", chosen["customer_name"])
    pick = page.locator(f'#customer-results .picker-item[data-customer-id="{chosen["customer_id"]}"]')
    pick.click()
    expect(page.locator("#customer-chosen")).to_contain_text(f"#{chosen['customer_id']}")
    page.click("#test-run")
    card = page.locator(".test-result")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-customer-id", str(chosen["customer_id"]))
    expect(card.locator(".customer-link")).to_have_text(chosen["customer_name"])
    expect(card.locator(".test-result-head .badge")).to_have_text("Matches")
    expect(card.locator(".rows-table tbody tr")).to_have_count(len(chosen["rows"]))
    for n, row in enumerate(chosen["rows"]):
        line = card.locator(".rows-table tbody tr").nth(n)
        expect(line.locator(".row-index")).to_have_text(f"Row {row['index']}")
        expect(line.locator(".row-reason")).to_have_text(row["reason"] or "—")
    expect(card.locator(".script")).to_be_visible()
    expect(card.locator(".script")).to_contain_text(chosen["customer_name"].split()[0])  # rendered with their fields
    assert card.locator(".script script, .script img, .script a, .script [style]").count() == 0
    page.locator("#test-panel").screenshot(path=artifacts / "planner-test-customer.png")

    page.check('input[name="who"][value="sample"]')
    page.fill("#sample-n", "5")
    page.click("#test-run")
    expect(page.locator(".test-result")).to_have_count(min(5, len(sample)))
    expect(page.locator("#test-status")).to_have_text(re.compile(r"^\d+ of \d+ customers? match"))
    page.locator("#test-panel").screenshot(path=artifacts / "planner-test-sample.png")


def test_version_figures_chart(open_as: OpenAs, ps: PlannerServer, artifacts: Path) -> None:
    with ps.client(PLANNER) as c:
        versions = c.get(f"/api/rules/{RULE}/stats").json()["versions"]
    v1 = next(v for v in versions if v["version"] == 1)
    assert v1["shown"] > 0
    page = open_as(PLANNER)
    _open_editor(page, RULE)
    expect(page.locator("#stats-table tbody tr")).to_have_count(len(versions))
    charts.wait_drawn(page, "#stats-chart")
    rows = charts.figures(page, "#stats-chart")
    assert [r[0] for r in rows] == [f"Version {v['version']}" for v in sorted(versions, key=lambda v: v["version"])]
    assert rows[0] == ["Version 1", *(f"{v1[k]:,}" for k in ("shown", "accepted", "dismissed", "converted"))]
    assert all(len(d["lengths"]) == len(versions) for d in charts.bars(page, "#stats-chart"))
    row = page.locator('#stats-table tbody tr[data-version="1"]')
    expect(row.locator("td").nth(1)).to_have_text(str(v1["shown"]))
    expect(row.locator("td").nth(4)).to_have_text(str(v1["converted"]))
    expect(page.locator("#stats-empty")).to_be_hidden()
    page.locator("#stats-panel").screenshot(path=artifacts / "planner-stats.png")


def test_holdout_and_empty_figures(open_as: OpenAs, ps: PlannerServer, artifacts: Path) -> None:
    rule = "travel-insurance"
    page = open_as(PLANNER)
    _open_editor(page, rule)
    page.fill("#holdout-pct", "80")
    page.click("#holdout-save")
    expect(page.locator("#holdout-status")).to_have_text("Enter a whole number from 0 to 50.")
    page.fill("#holdout-pct", "15")
    page.click("#holdout-save")
    expect(page.locator("#holdout-status")).to_have_text("Saved: 15 % of matching contacts are held out.")
    assert ps.rule(rule)["holdout_pct"] == 15
    page.reload()
    expect(page.locator("#holdout-pct")).to_have_value("15")

    # Nobody has been shown this rule yet: the figures say so instead of drawing empty bars.
    expect(page.locator("#stats-empty")).to_contain_text("No suggestions recorded yet.")
    expect(page.locator("#stats-table")).to_be_hidden()
    expect(page.locator("#stats-chart canvas")).to_have_count(0)
    page.locator("#stats-panel").screenshot(path=artifacts / "planner-stats-empty.png")


def test_unknown_rule_says_so_plainly(open_as: OpenAs) -> None:
    page = open_as(PLANNER)
    page.goto("/staff/planner/rules/no-such-rule")
    expect(page.locator("#rule-error")).to_contain_text("There is no rule with this name.")
    expect(page.locator("#rule-error a")).to_have_attribute("href", "/staff/planner")


def test_agents_get_403_on_planner_pages_and_no_rules_link(open_as: OpenAs, ps: PlannerServer) -> None:
    page = open_as(AGENT)
    for path in ("/staff/planner", f"/staff/planner/rules/{RULE}"):
        response = page.goto(path)
        assert response is not None and response.status == 403
    with ps.client(AGENT) as c:
        assert c.get("/api/rules").status_code == 403
    page.goto("/staff/customers")
    expect(page.locator(".mainnav")).not_to_contain_text("Rules")
    page.goto("/staff/console")
    expect(page.locator(".mainnav")).to_be_visible()
    entries = page.evaluate("performance.getEntries().map(e => e.name)")
    assert not [u for u in entries if BUNDLE_PATH in u], "the console must not load the editor bundle"


def test_narrow_screen_has_no_sideways_scroll(open_as: OpenAs, artifacts: Path) -> None:
    page = open_as(PLANNER)
    page.set_viewport_size({"width": 390, "height": 844})
    for path, ready in (("/staff/planner", "#rules tbody tr"), (f"/staff/planner/rules/{RULE}", "#graph[data-ready]")):
        page.goto(path)
        expect(page.locator(ready).first).to_be_attached()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px: {page.evaluate(WIDER_THAN_VIEWPORT)}"
    page.screenshot(path=artifacts / "planner-editor-narrow.png", full_page=True)

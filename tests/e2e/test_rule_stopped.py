"""The planner's rules list says when a version was stopped for running past the time limit, and which version
runs instead (issue 11, item 7; the stop itself is tested on a real server in tests/suggestions/test_runaway.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from contactcenter.bus.memory import MemoryBus
from contactcenter.db import Database
from contactcenter.suggestions import service
from tests.e2e.planner_fixtures import PLANNER, PlannerServer, build_bundle, planner_server
from tests.suggestions.helpers import demo_rule, table


@pytest.fixture(scope="module")
def ps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlannerServer]:
    build_bundle()
    with planner_server(tmp_path_factory.mktemp("stopped")) as server:
        yield server


async def _stop(url: str) -> None:
    db = Database(url)
    try:
        async with db.session() as s:
            reason = "stopped: ran longer than 250 ms at 2026-12-02T02:40:00+00:00"
            assert await service.stop_version(s, MemoryBus(), rule_id="retention", version=2, reason=reason)
    finally:
        await db.dispose()


def test_a_stopped_version_is_shown_with_the_version_in_force(
    browser: Browser, ps: PlannerServer, artifacts: Path
) -> None:
    content = demo_rule("retention")
    table(content)["rules"][0]["out_priority"] = "91"
    with ps.client(PLANNER) as c:
        r = c.post("/api/rules/retention/publish", json={"content": content, "comment": "v2"})
        assert r.status_code == 200 and r.json()["version"] == 2, r.text
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        pool.submit(asyncio.run, _stop(f"sqlite+aiosqlite:///{ps.log.parent / 'planner.db'}")).result()
    with ps.client(PLANNER) as c:
        rules = {x["id"]: x for x in c.get("/api/rules").json()["rules"]}
        cookie = c.cookies["cc_session"]
    assert rules["retention"]["version"] == 2 and rules["retention"]["in_force"] == 1
    context = browser.new_context(base_url=ps.base_url)
    context.add_cookies([{"name": "cc_session", "value": cookie, "url": ps.base_url}])
    page = context.new_page()
    page.goto("/staff/planner")
    row = page.locator('#rules tbody tr[data-rule-id="retention"]')
    expect(row.locator(".rule-stopped")).to_have_text(
        "Version 2 stopped: ran longer than 250 ms at 2026-12-02T02:40:00+00:00. Version 1 runs instead."
    )
    expect(page.locator('#rules tbody tr[data-rule-id="fund-advisor"] .rule-stopped')).to_have_count(0)
    page.screenshot(path=artifacts / "planner-rule-stopped.png", full_page=True)
    context.close()

"""Sales suggestions in the agent console (Chromium, real server): a gold customer on a fund page gets the fund
adviser script; the agent accepts it and records a sale; the planner's figures count it; a new fact reaches the
open panel live."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.console_fixtures import ADMIN, AGENT, ConsoleServer, Customer
from tests.e2e.test_console import OpenConsole, cc, chat_item, customer, open_console, watch  # noqa: F401


def set_profile(server: ConsoleServer, customer_id: int, **profile: object) -> None:
    """Analytics stand-in: value tiers live in the profile until customer analytics exist."""
    with sqlite3.connect(server.log.parent / "console.db") as db:
        db.execute("UPDATE customers SET profile = ? WHERE id = ?", (json.dumps(profile), customer_id))


def test_agent_sees_the_script_accepts_records_a_sale_and_planner_counts_it(
    open_console: OpenConsole,  # noqa: F811
    customer: Callable[[], Customer],  # noqa: F811
    cc: ConsoleServer,  # noqa: F811
    artifacts: Path,
) -> None:
    cust = customer()
    set_profile(cc, cust.customer_id, value_tier="gold", home_branch="Leeds Briggate")
    cust.start(name="Grace Gold", topic="Investing a lump sum", page_url="https://bank.example/funds/global-equity")
    cust.say("Hello, I'm reading about your Global Equity Fund")

    page = open_console(AGENT)
    chat_item(page, cust.conversation_id).click()
    cards = page.locator("#sg-list .sg-card")
    expect(cards).to_have_count(1)
    fund = cards.first
    expect(fund).to_have_attribute("data-rule", "fund-advisor")
    expect(fund.locator(".sg-title")).to_have_text("Global Equity Fund with an adviser")
    expect(fund.locator(".sg-reason")).to_have_text("Gold or platinum customer reading about funds right now")
    script = fund.locator(".sg-script")
    expect(script).to_contain_text("Hello Grace, thank you for banking with Harbour Bank")
    expect(script).to_contain_text("at Leeds Briggate")
    expect(script.locator("strong").first).to_have_text("Global Equity Fund")
    page.screenshot(path=artifacts / "console-suggestions.png")

    fund.get_by_role("button", name="Accept").click()
    expect(fund.locator(".sg-status")).to_have_text("Accepted")
    fund = page.locator('#sg-list .sg-card[data-rule="fund-advisor"]')
    fund.get_by_role("button", name="Record sale").click()
    fund.get_by_label("Amount").fill("5000")
    fund.locator("form").get_by_role("button", name="Record sale").click()
    expect(fund.locator(".sg-status")).to_have_text("Sale recorded")

    # The tier drops while the chat is open: the next message makes the panel fetch again, live.
    set_profile(cc, cust.customer_id, value_tier="silver", previous_tier="gold")
    admin, csrf = cc.staff_client(ADMIN)
    try:
        # A touch outside the chat tells every process the customer's facts changed.
        r = admin.post(
            f"/api/customers/{cust.customer_id}/notes", json={"summary": "Tier review"}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 201, r.text
        cust.say("Also, my fees went up")
        retention = page.locator('#sg-list .sg-card[data-rule="retention"]')
        expect(retention).to_be_visible()
        expect(retention.locator(".sg-reason")).to_have_text("Value tier fell from gold to silver")
        expect(page.locator('#sg-list .sg-card[data-rule="retention"]')).to_have_count(1)
        page.screenshot(path=artifacts / "console-suggestions-live.png")

        rules = {x["id"]: x["stats"] for x in admin.get("/api/rules").json()["rules"]}
        assert rules["fund-advisor"]["shown"] == 1
        assert rules["fund-advisor"]["accepted"] == 1 and rules["fund-advisor"]["converted"] == 1
        assert rules["fund-advisor"]["conversion_rate"] == 1.0
        assert rules["retention"]["shown"] == 1
    finally:
        admin.close()

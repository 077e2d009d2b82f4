"""A running campaign in the agent console (Chromium, real server): the targeted customer's chat shows the
campaign's card with its script and, beside it, analytics' reason why this customer wants the product."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.console_fixtures import ADMIN, AGENT, ConsoleServer, Customer
from tests.e2e.test_console import OpenConsole, cc, chat_item, customer, open_console, watch  # noqa: F401

WHY = "owns the Fibre broadband 500; 41 % of its 2,300 holders took the Wi-Fi 6 router, lift 3.2"


def set_figures(server: ConsoleServer, customer_id: int) -> None:
    """Analytics stand-in: the customer's stored figures with the router among their next products."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    ptc = [{"sku": "RTR-AX6", "name": "Wi-Fi 6 router", "score": 0.41, "reason": WHY}]
    with sqlite3.connect(server.log.parent / "console.db") as db:
        db.execute(
            "INSERT INTO customer_values (customer_id, value, tier, previous_tier, attrition_risk, ptc, computed_at)"
            " VALUES (?, 120, 'gold', 'gold', 0.1, ?, ?)",
            (customer_id, json.dumps(ptc), now),
        )


def test_campaign_card_with_the_ptc_reason_beside_it(
    open_console: OpenConsole,  # noqa: F811
    customer: Callable[[], Customer],  # noqa: F811
    cc: ConsoleServer,  # noqa: F811
    artifacts: Path,
) -> None:
    cust = customer()
    cust.start(name="Rita Router", topic="My Wi-Fi drops", page_url="https://bank.example/help")
    set_figures(cc, cust.customer_id)
    admin, csrf = cc.staff_client(ADMIN)
    today = datetime.now(UTC).date()
    body = {
        "id": "router-upgrade",
        "name": "Router upgrade",
        "target": {"tiers": ["gold"], "product": "RTR-AX6", "product_via": "ptc"},
        "product_sku": "RTR-AX6",
        "script_id": "travel_insurance",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "holdout_pct": 0,
    }
    try:
        h = {"X-CSRF-Token": csrf}
        assert admin.post("/api/campaigns", json=body, headers=h).status_code == 201
        started = admin.post("/api/campaigns/router-upgrade/start", headers=h).json()
        assert started["target_size"] == 1
        page = open_console(AGENT)
        chat_item(page, cust.conversation_id).click()
        card = page.locator('#sg-list .sg-card[data-rule="campaign:router-upgrade"]')
        expect(card).to_be_visible()
        expect(card.locator(".sg-title")).to_have_text("Router upgrade")
        expect(card.locator(".sg-reason")).to_contain_text("On the “Router upgrade” campaign's target list")
        expect(card.locator(".sg-ptc")).to_have_text("Why this customer: " + WHY)
        expect(card.locator(".sg-script")).to_contain_text("Annual Travel Insurance")
        expect(card.locator(".sg-meta")).to_have_text("RTR-AX6 · priority 50 · campaign router-upgrade")
        page.screenshot(path=artifacts / "console-campaign.png")
        card.get_by_role("button", name="Accept").click()
        expect(card.locator(".sg-status")).to_have_text("Accepted")
        res = admin.get("/api/campaigns/router-upgrade/results").json()
        assert (res["treated"]["contacted"], res["treated"]["accepted"]) == (1, 1)
    finally:
        admin.post("/api/campaigns/router-upgrade/stop", headers={"X-CSRF-Token": csrf})
        admin.close()

"""The wallboard's callbacks: a supervisor sees every callback still to make (reference, number, slot,
attempts) and the promise-kept figure, and cancels one from the board; an agent cannot cancel through the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.e2e.conftest import Watch
from tests.e2e.console_fixtures import AGENT, SUPERVISOR, ConsoleServer, console_server
from tests.e2e.test_wallboard import sign_in

PHONE = "+44 20 7946 0018"


@pytest.fixture(scope="module")
def cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("wallboard-cb")) as server:
        yield server


@pytest.fixture
def contexts(browser: Browser, cc: ConsoleServer) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for c in made:
        c.close()


def _book(cc: ConsoleServer, name: str) -> dict[str, str]:
    """A visitor books the first free slot, as the widget's form does."""
    visitor = httpx.post(f"{cc.base_url}/api/visitors", timeout=10).json()
    auth = {"Authorization": f"Bearer {visitor['token']}"}
    slots = httpx.get(f"{cc.base_url}/api/callback/slots", headers=auth, timeout=10).json()
    assert slots, "no free callback slot"
    body = {
        "idempotency_key": uuid.uuid4().hex,
        "name": name,
        "phone": PHONE,
        "topic": "Mortgage",
        "slot_start": slots[0]["start"],
    }
    r = httpx.post(f"{cc.base_url}/api/callback/requests", json=body, headers=auth, timeout=10)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_supervisor_sees_the_callbacks_to_make_and_cancels_one(
    browser: Browser, cc: ConsoleServer, contexts: list[BrowserContext], watch: Watch, artifacts: Path
) -> None:
    first, second = _book(cc, "Olu Adeyemi"), _book(cc, "Greta Lind")
    page = sign_in(browser, cc, contexts, watch, SUPERVISOR, "/staff/wallboard")
    table = page.locator("#callbacks tbody")
    expect(table.locator("tr")).to_have_count(2)
    row = table.locator("tr", has_text="Greta Lind")
    expect(row).to_contain_text("+442079460018")
    expect(row).to_contain_text("Mortgage")
    expect(page.locator("#k-promise-sub")).to_have_text("no callback due yet")
    page.screenshot(path=str(artifacts / "wallboard-callbacks.png"), full_page=True)

    # An agent may make a callback offered to them, not cancel someone's from the board's API.
    sup, _csrf = cc.staff_client(SUPERVISOR)
    try:
        greta = next(c for c in sup.get("/api/callback/requests").json() if c["name"] == "Greta Lind")
    finally:
        sup.close()
    agent, agent_csrf = cc.staff_client(AGENT)
    try:
        r = agent.post(f"/api/callback/requests/{greta['id']}/cancel", headers={"X-CSRF-Token": agent_csrf})
        assert r.status_code == 403, r.text
    finally:
        agent.close()
    assert first["reference"] != second["reference"]

    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Cancel").click()
    expect(table.locator("tr")).to_have_count(1)
    expect(table.locator("tr")).to_contain_text("Olu Adeyemi")
    assert not watch.errors, watch.errors

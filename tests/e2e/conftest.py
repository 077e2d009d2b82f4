"""Browser tests against the real server: a seeded SQLite database, uvicorn in a subprocess, Debian's Chromium."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from contactcenter.auth.service import create_user
from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, CustomerCreate, Direction, IdentityIn, TouchIn, TouchKind
from contactcenter.cli import migrate
from contactcenter.db import Database, utcnow
from contactcenter.integration import service as integration
from contactcenter.integration.models import Product
from contactcenter.integration.schemas import OrderIn, OrderStatus
from contactcenter.types import Role
from tests.procs import app_process

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct horse battery"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'
EVIL_NAME = '<b>Bob</b> <img src=x onerror="window.__xss=2"> & Sons'
# Counts the page's websockets and the close codes it saw (in the page, so nothing is missed or late).
COUNT_SOCKETS = """(() => {
  const W = window.WebSocket;
  window.__ws = { opened: 0, closes: [] };
  window.WebSocket = class extends W {
    constructor(...args) {
      super(...args);
      window.__ws.opened++;
      this.addEventListener("close", (e) => window.__ws.closes.push(e.code));
    }
  };
})();"""
CHROMIUM_ARGS = "--no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync"
# Alice's touches cycle through these channels, newest first; two order touches (system) come last.
ALICE_CHANNELS = [Channel.chat, Channel.email, Channel.voice, Channel.web, Channel.callback, Channel.chat]
KIND_FOR = {
    Channel.chat: TouchKind.message,
    Channel.email: TouchKind.email,
    Channel.voice: TouchKind.call,
    Channel.web: TouchKind.page_view,
    Channel.callback: TouchKind.callback_request,
    Channel.face_to_face: TouchKind.note,
}
ALICE_TOUCHES = 60
CUSTOMERS: list[tuple[str, str, str | None, list[dict[str, str]]]] = [
    (
        "alice",
        "Alice Johnson",
        "gold",
        [{"kind": "email", "value": "alice.johnson@example.com"}, {"kind": "phone", "value": "+44 20 7946 0018"}],
    ),
    ("johnny", "Johnny Marr", "silver", [{"kind": "email", "value": "johnny.marr@example.org"}]),
    (
        "maria",
        "Maria Johansson",
        "platinum",
        [{"kind": "phone", "value": "+1 415 555 0123"}, {"kind": "email", "value": "maria.j@example.net"}],
    ),
    ("ajohns", "Amir Johns", None, []),
    ("bob", EVIL_NAME, "bronze", [{"kind": "email", "value": "bob@example.com"}]),
    ("erin", "Erin Walsh", "silver", [{"kind": "email", "value": "erin.walsh@example.com"}]),
    ("carol", "Carol Dupont", "gold", [{"kind": "email", "value": "carol@example.com"}]),
    ("carol_dup", "C. Dupont", None, [{"kind": "phone", "value": "+44 20 7183 8750"}]),
]


@dataclass
class Seed:
    agent: str = "priya"
    agent_name: str = "Priya Shah"
    supervisor: str = "dana"
    supervisor_name: str = "Dana Whitfield"
    ids: dict[str, int] = field(default_factory=dict)


async def _seed(url: str) -> Seed:
    seed = Seed()
    db, bus = Database(url), MemoryBus()
    now = utcnow().replace(microsecond=0)
    async with db.session() as s:
        agent = await create_user(
            s, username=seed.agent, display_name=seed.agent_name, role=Role.agent, password=PASSWORD
        )
        await create_user(
            s, username=seed.supervisor, display_name=seed.supervisor_name, role=Role.supervisor, password=PASSWORD
        )
        s.add_all(
            [
                Product(sku="FBR-500", name="Fibre broadband 500", category="broadband", price=Decimal("39.00")),
                Product(sku="MOB-UNL", name="Unlimited mobile plan", category="mobile", price=Decimal("25.00")),
                Product(sku="RTR-AX6", name="Wi-Fi 6 router", category="hardware", price=Decimal("129.00")),
            ]
        )
        await s.commit()

        for key, name, segment, idents in CUSTOMERS:
            data = CustomerCreate(display_name=name, segment=segment, identities=[IdentityIn(**i) for i in idents])
            seed.ids[key] = (await ccr.create_customer(s, data=data, region="GB")).id
        ids = seed.ids

        def touch(key: str, ch: Channel, ago: timedelta, summary: str, **kw: Any) -> TouchIn:
            kind = KIND_FOR[ch]
            return TouchIn(customer_id=ids[key], channel=ch, kind=kind, occurred_at=now - ago, summary=summary, **kw)

        touches = [
            touch(
                "alice",
                ALICE_CHANNELS[i % len(ALICE_CHANNELS)],
                timedelta(hours=3 * i + 1),  # i = 0 is the newest
                f"Alice touch {ALICE_TOUCHES - i:03d}",
                direction=Direction.outbound if i % 3 == 0 else Direction.inbound,
                agent_id=agent.id if i % 2 == 0 else None,
            )
            for i in range(ALICE_TOUCHES)
        ]
        touches.append(touch("bob", Channel.chat, timedelta(minutes=5), XSS, payload={"body": XSS}))
        touches.append(touch("erin", Channel.email, timedelta(days=2), "Asked about moving house"))
        touches.append(touch("carol_dup", Channel.voice, timedelta(days=1), "Called from a new number"))
        await ccr.log_touches(s, bus, touches=touches)
        for n, (sku, amount, status) in enumerate([("FBR-500", "39.00", "active"), ("RTR-AX6", "129.00", "shipped")]):
            order = OrderIn(
                customer_id=ids["alice"],
                sku=sku,
                amount=Decimal(amount),
                status=OrderStatus(status),
                external_ref=f"SO-{1041 + n}",
                placed_at=now - timedelta(days=400 + 30 * n),
            )
            await integration.record_order(s, bus, data=order)
        await ccr.merge_customers(
            s, bus, source_id=ids["carol_dup"], target_id=ids["carol"], actor_id=agent.id, reason="same person"
        )
    await bus.close()
    await db.dispose()
    return seed


@dataclass
class Server:
    base_url: str
    seed: Seed
    agent_cookie: str

    def customer_url(self, key: str) -> str:
        return f"{self.base_url}/staff/customers/{self.seed.ids[key]}"


def _in_thread(fn: Callable[[], Seed]) -> Seed:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("e2e")
    url = f"sqlite+aiosqlite:///{tmp / 'cc.db'}"
    # A thread of its own: Playwright's sync API keeps an event loop running in the main thread.
    seed = _in_thread(lambda: (migrate(url), asyncio.run(_seed(url)))[1])
    env = {**os.environ, "CC_DATABASE_URL": url, "CC_SECRET_KEY": "e2e-secret-" + "x" * 40, "CC_LOG_JSON": "false"}
    with app_process(env, tmp / "server.log") as base:
        r = httpx.post(f"{base}/api/session", json={"username": seed.agent, "password": PASSWORD})
        r.raise_for_status()
        yield Server(base_url=base, seed=seed, agent_cookie=r.cookies["cc_session"])


# Module scope: while Playwright runs, asyncio.run() is refused in this thread, so async tests elsewhere
# in the suite must not run under it.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS.split())
    yield b
    b.close()


@dataclass
class Watch:
    """What a page did: every request URL and every uncaught page error."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        return [
            u
            for u in self.requests
            if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname != "127.0.0.1"
        ]


def _watched_page(context: BrowserContext, watch: Watch) -> Page:
    page = context.new_page()
    page.on("request", lambda req: watch.requests.append(req.url))
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def watch() -> Watch:
    return Watch()


def _context(browser: Browser, server: Server, *, signed_in: bool) -> BrowserContext:
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, base_url=server.base_url, locale="en-GB", timezone_id="Europe/London"
    )
    if signed_in:
        context.add_cookies([{"name": "cc_session", "value": server.agent_cookie, "url": server.base_url}])
    return context


@pytest.fixture
def anon_page(browser: Browser, server: Server, watch: Watch) -> Iterator[Page]:
    context = _context(browser, server, signed_in=False)
    yield _watched_page(context, watch)
    context.close()
    assert not watch.errors, f"page errors: {watch.errors}"
    assert not watch.foreign(), f"requests to other hosts: {watch.foreign()}"


@pytest.fixture
def page(browser: Browser, server: Server, watch: Watch) -> Iterator[Page]:
    """A page signed in as the agent; fails the test on any page error or request to another host."""
    context = _context(browser, server, signed_in=True)
    yield _watched_page(context, watch)
    context.close()
    assert not watch.errors, f"page errors: {watch.errors}"
    assert not watch.foreign(), f"requests to other hosts: {watch.foreign()}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

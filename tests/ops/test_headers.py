"""HTTP hardening (issue 11, Low): security headers on every response, /docs off unless asked for, the
optional /metrics token, database errors without their parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from contactcenter.app import create_app
from contactcenter.db.engine import make_engine
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.conftest import UserFactory, _fresh_sqlite, login

Client = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_with(sqlite_template: Path, tmp_path: Path) -> Client:
    """An app on a fresh SQLite database with these settings changed."""

    @asynccontextmanager
    async def make(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = Settings(
            database_url=_fresh_sqlite(sqlite_template, tmp_path),
            secret_key="test-secret-" + "x" * 32,
            log_json=False,
            log_level="WARNING",
            **changes,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield c

    return make


def _page_policy(r: httpx.Response) -> dict[str, str]:
    csp = r.headers["content-security-policy"]
    return {d.split()[0]: d.partition(" ")[2] for d in (x.strip() for x in csp.split(";")) if d}


async def test_staff_pages_api_and_static_carry_the_headers(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    anonymous = [await client.get(p) for p in ("/login", "/api/me", "/static/app.css", "/nope", "/healthz")]
    await login(client, await make_user(Role.admin))
    staff = [await client.get(p) for p in ("/staff/customers", "/staff/planner", "/staff/wallboard", "/api/me")]
    for r in anonymous + staff:
        assert r.headers["x-content-type-options"] == "nosniff", r.url
        assert r.headers["x-frame-options"] == "DENY", r.url
        assert _page_policy(r)["frame-ancestors"] == "'none'", r.url
    for r in (anonymous[0], *staff[:3]):
        assert r.headers["content-type"].startswith("text/html"), r.url
        policy = _page_policy(r)
        assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'", r.url
        assert policy["object-src"] == "'none'" and policy["base-uri"] == "'self'"
    assert _page_policy(anonymous[1])["default-src"] == "'none'"  # JSON: loads nothing, whatever it holds


async def test_a_revalidated_page_keeps_its_own_policy(client: httpx.AsyncClient) -> None:
    # A reload revalidates /demo/ by its ETag: the 304 must not carry a policy of its own, or the browser
    # puts "default-src 'none'" on the cached page and blocks its CSS and the widget (found by the document
    # push e2e test's reload).
    first = await client.get("/demo/")
    assert first.status_code == 200 and "script-src 'self'" in first.headers["content-security-policy"]
    again = await client.get("/demo/", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert "content-security-policy" not in again.headers and again.headers["x-content-type-options"] == "nosniff"


async def test_the_widget_script_stays_loadable_by_other_sites(client: httpx.AsyncClient) -> None:
    r = await client.get("/widget.js", headers={"Origin": "https://www.bank.example"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.headers["x-content-type-options"] == "nosniff"
    # Nothing that would stop another site's <script> from running it.
    assert "cross-origin-resource-policy" not in r.headers


async def test_api_docs_are_off_unless_asked_for(client_with: Client) -> None:
    async with client_with() as c:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await c.get(path)).status_code == 404, path
    async with client_with(api_docs=True) as c:
        assert (await c.get("/openapi.json")).status_code == 200
        assert (await c.get("/docs")).status_code == 200


async def test_metrics_token(client_with: Client) -> None:
    async with client_with() as c:
        assert (await c.get("/metrics")).status_code == 200  # unset: open, as before
    async with client_with(metrics_token="scrape-" + "t" * 32) as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "scrape-" + "t" * 32}):
            r = await c.get("/metrics", headers=headers)
            assert r.status_code == 401 and r.json()["error"] == "not_authenticated", headers
            assert "cc_http_requests_total" not in r.text
        r = await c.get("/metrics", headers={"Authorization": "Bearer scrape-" + "t" * 32})
        assert r.status_code == 200 and "cc_http_requests_total" in r.text


async def test_database_errors_do_not_carry_their_parameters(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES (1, 'x')"))
        with pytest.raises(IntegrityError) as caught:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (:id, :body)"), {"id": 1, "body": "card 4000-1234"})
        assert isinstance(caught.value, DBAPIError)
        assert "4000-1234" not in str(caught.value) and "hidden due to hide_parameters" in str(caught.value)
    finally:
        await engine.dispose()

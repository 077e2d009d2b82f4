"""Chart.js is served by the app from the npm package (no CDN), to anyone, and a missing install is a 404
that says what to do."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from contactcenter.app import create_app
from contactcenter.planner.routes import CHART_JS
from contactcenter.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


async def test_chart_js_is_served_from_node_modules(client: httpx.AsyncClient) -> None:
    r = await client.get("/vendor/chart.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.content == ROOT.joinpath("node_modules", *CHART_JS).read_bytes()
    assert b"window.Chart=" in r.content  # the UMD build, which charts.js reads as window.Chart
    # The staff pages' CSP (script-src 'self') holds for it: no eval in the library.
    assert b"eval(" not in r.content and b"new Function" not in r.content


@pytest.mark.parametrize("settings", ["sqlite+memory"], indirect=True)
async def test_without_npm_install_it_says_so(settings: Settings, tmp_path: Path) -> None:
    web = tmp_path / "web"
    for sub in ("static", "demo", "templates"):
        (web / sub).mkdir(parents=True)
    app = create_app(settings.model_copy(update={"web_dir": web}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            r = await c.get("/vendor/chart.js")
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    assert "npm install" in r.json()["detail"]

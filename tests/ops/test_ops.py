from __future__ import annotations

import httpx


async def test_healthz_and_readyz_report_backends(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["database"] is True and body["bus"] is True
    assert body["bus_backend"] in {"memory", "redis"}


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/api/customers/12345")  # 401, but counted under its template
    text = (await client.get("/metrics")).text
    assert 'cc_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="/api/customers/{customer_id}",status="401"' in text


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/no/such/thing")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"

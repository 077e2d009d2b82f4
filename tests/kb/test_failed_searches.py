"""A failed self-service ("searched, opened nothing, then asked for help"), reported by the widget: counted
for the writers with the text searched; only visitors report, at most a few a minute, junk refused."""

from __future__ import annotations

import httpx

from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.conftest import UserFactory, login

URL = "/api/kb/failed-searches"


async def test_failed_searches_are_counted_for_staff_and_reports_are_guarded(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    body = {"query": "Überweisung storniert", "lang": "de-AT", "asked": "chat"}
    assert (await client.post(URL, json=body)).status_code == 401
    assert (await client.post(URL, json=body, headers={"Authorization": "Bearer forged"})).status_code == 401
    me = {"Authorization": "Bearer " + (await client.post("/api/visitors")).json()["token"]}
    for junk in ({**body, "asked": "email"}, {**body, "query": ""}, {**body, "query": "x" * 201}, {**body, "x": 1}):
        r = await client.post(URL, json=junk, headers=me)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", junk
    assert (await client.post(URL, json=body, headers=me)).status_code == 204
    callback = {"query": "NEAR(card \x00", "asked": "callback"}
    assert (await client.post(URL, json=callback, headers=me)).status_code == 204
    codes = [(await client.post(URL, json=body, headers=me)).status_code for _ in range(4)]
    assert codes == [204, 204, 204, 429]  # five a minute per visitor

    assert (await client.get("/api/kb/manage/failed-searches", headers=me)).status_code == 401
    await login(client, await make_user(Role.agent))
    out = (await client.get("/api/kb/manage/failed-searches")).json()
    assert out["total"] == 5
    assert [(r["query"], r["lang"], r["asked"]) for r in out["recent"][-2:]] == [
        ("NEAR(card", settings.kb_default_lang, "callback"),
        ("Überweisung storniert", "de", "chat"),
    ]

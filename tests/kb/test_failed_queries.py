"""The writers' list of failed searches on both backends: the texts visitors searched before they opened
nothing and asked for help, grouped (case and spacing ignored), most frequent first, with counts, when last,
chat against callback and languages; only for the roles that write articles (agents and visitors refused),
the period honoured, and what a visitor typed handed back as data."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from contactcenter.db import utcnow
from contactcenter.kb.models import KbFailedSearch
from contactcenter.types import Role
from tests.conftest import UserFactory, login

REPORT = "/api/kb/manage/failed-queries"


async def _report(client: httpx.AsyncClient, query: str, asked: str = "chat", lang: str = "en") -> None:
    """One visitor's failed self-service (a fresh visitor each: five reports a minute per visitor)."""
    me = {"Authorization": "Bearer " + (await client.post("/api/visitors")).json()["token"]}
    r = await client.post("/api/kb/failed-searches", json={"query": query, "asked": asked, "lang": lang}, headers=me)
    assert r.status_code == 204, r.text


async def test_failed_queries_grouped_most_frequent_first_for_writers_only(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    for text, asked, lang in [
        ("card blocked", "chat", "en"), ("Card  Blocked", "callback", "en"), ("card blocked", "chat", "es"),
        ("<img src=x onerror=alert(1)>", "chat", "en"),
        ("mortgage overpayment", "callback", "en"), ("Mortgage overpayment", "chat", "en"),
    ]:  # fmt: skip
        await _report(client, text, asked, lang)
    await _report(client, "ancient question")
    async with app.state.db.session() as s:  # one report 40 days old: outside the 30 days asked for
        await s.execute(
            update(KbFailedSearch)
            .where(KbFailedSearch.query == "ancient question")
            .values(at=utcnow() - timedelta(days=40))
        )
        await s.commit()

    assert (await client.get(REPORT)).status_code == 401
    visitor = {"Authorization": "Bearer " + (await client.post("/api/visitors")).json()["token"]}
    assert (await client.get(REPORT, headers=visitor)).status_code == 401
    await login(client, await make_user(Role.agent))
    r = await client.get(REPORT)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert (await client.get("/staff/kb/failed")).status_code == 403

    for role in (Role.supervisor, Role.planner, Role.admin):
        await login(client, await make_user(role))
        r = await client.get(REPORT, params={"days": 30})
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["days"], got["total"], got["distinct"]) == (30, 6, 3)
        rows = [(q["query"], q["count"], q["chat"], q["callback"], q["langs"]) for q in got["queries"]]
        assert rows[0] == ("card blocked", 3, 2, 1, ["en", "es"])
        assert rows[1][1:] == (2, 1, 1, ["en"]) and rows[1][0].casefold() == "mortgage overpayment"
        assert rows[2] == ("<img src=x onerror=alert(1)>", 1, 1, 0, ["en"])  # data, shown as text by the page
        last = datetime.fromisoformat(got["queries"][0]["last_at"].replace("Z", "+00:00"))
        assert timedelta(0) <= utcnow() - last < timedelta(hours=1)  # the newest of its three reports
        assert (await client.get("/staff/kb/failed")).status_code == 200

    r = await client.get(REPORT, params={"days": 60, "limit": 1})
    got = r.json()
    assert (got["total"], got["distinct"], len(got["queries"])) == (7, 4, 1)
    assert got["queries"][0]["query"] == "card blocked"
    for bad in ({"days": 0}, {"days": 366}, {"limit": 0}, {"limit": 501}):
        assert (await client.get(REPORT, params=bad)).status_code == 422, bad

"""An article as a page of its own (/help/{slug}): what a customer opens from an agent's link. Sanitised,
in the asked language or the default one, never a draft, and any slug or language is a clear answer."""

from __future__ import annotations

import httpx

from contactcenter.types import Role
from tests.conftest import UserFactory, login


async def test_the_help_page_shows_a_published_article_safely_and_nothing_else(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await login(client, await make_user(Role.planner))
    body = "Tap **Block**.\n\n<script>alert(1)</script> [x](javascript:alert(2)) [help](https://bank.example/)"
    for slug, status in (("block-card", "published"), ("secret", "draft")):
        r = await client.post(
            "/api/kb/manage/articles", json={"slug": slug, "title": "Block a card", "body_md": body, "status": status}
        )
        assert r.status_code == 201, r.text
    article_id = r.json()["id"] - 1
    r = await client.put(
        f"/api/kb/manage/articles/{article_id}/translations/es",
        json={"title": "Bloquear", "body_md": "Pulse **Bloquear**."},
    )
    assert r.status_code == 200
    client.cookies.clear()  # a customer, signed in as nobody

    page = await client.get("/help/block-card")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<strong>Block</strong>" in page.text and '<html lang="en">' in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text and 'href="javascript' not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    es = await client.get("/help/block-card", params={"lang": "es-MX"})
    assert "<strong>Bloquear</strong>" in es.text and '<html lang="es">' in es.text
    # No Vietnamese: the default language; an unusable language tag is refused or falls back, never an error page.
    assert "<strong>Block</strong>" in (await client.get("/help/block-card", params={"lang": "vi"})).text
    assert (await client.get("/help/block-card", params={"lang": "x" * 36})).status_code == 422
    for slug in ("secret", "nope", "%3Cscript%3E", "a" * 300):
        gone = await client.get(f"/help/{slug}")
        assert gone.status_code == 404 and "Article not found" in gone.text and "<script>" not in gone.text, slug
    await login(client, await make_user(Role.agent))
    listed = {a["slug"]: a for a in (await client.get("/api/kb/manage/articles")).json()}
    assert listed["block-card"]["views"] == 3  # en, es, vi; the refused tag counted nothing

"""The knowledge base on both backends: written by staff, found by customers in their language (any text is a
valid query), sanitised, voted on once per visitor, rate-limited, and suggested beside a conversation."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import OpenIn
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.conftest import UserFactory, login

CARD = "Block a lost card"
CARD_BODY = "If your card is lost or stolen, block it at once in the app under **Cards**, or call us. A new card comes in 5 days."  # noqa: E501


async def _article(client: httpx.AsyncClient, slug: str, title: str, body: str, **extra: str) -> int:
    r = await client.post(
        "/api/kb/manage/articles", json={"slug": slug, "title": title, "body_md": body, "status": "published", **extra}
    )
    assert r.status_code == 201, r.text
    article_id: int = r.json()["id"]
    return article_id


async def _translate(client: httpx.AsyncClient, article_id: int, lang: str, title: str, body: str) -> None:
    r = await client.put(
        f"/api/kb/manage/articles/{article_id}/translations/{lang}", json={"title": title, "body_md": body}
    )
    assert r.status_code == 200, r.text


async def _search(client: httpx.AsyncClient, q: str, lang: str | None = None) -> list[tuple[str, str]]:
    params = {"q": q, **({"lang": lang} if lang else {})}
    r = await client.get("/api/kb/search", params=params)
    assert r.status_code == 200, r.text
    return [(h["slug"], h["lang"]) for h in r.json()]


@pytest.fixture
async def writer(client: httpx.AsyncClient, make_user: UserFactory) -> httpx.AsyncClient:
    await login(client, await make_user(Role.planner))
    return client


@pytest.fixture
async def library(writer: httpx.AsyncClient) -> dict[str, int]:
    card = await _article(writer, "block-card", CARD, CARD_BODY, category="cards")
    await _translate(writer, card, "zh", "冻结丢失的银行卡", "如果您的银行卡丢失或被盗，请立即在应用中冻结。")
    await _translate(
        writer, card, "es", "Bloquear una tarjeta perdida", "Si pierde su tarjeta, bloquéela en la aplicación."
    )
    cafe = await _article(
        writer, "cafe-rewards", "Café rewards", "Points for every coffee bought with the Everyday card."
    )
    draft = await writer.post(
        "/api/kb/manage/articles", json={"slug": "secret-plan", "title": "Card fees next year", "body_md": "Not yet."}
    )
    assert draft.status_code == 201 and draft.json()["status"] == "draft"
    return {"card": card, "cafe": cafe, "draft": draft.json()["id"]}


async def test_customers_find_answers_in_their_language_and_fall_back_to_the_default(
    client: httpx.AsyncClient, library: dict[str, int]
) -> None:
    client.cookies.clear()  # what follows is the widget, signed in as nobody
    assert (await _search(client, "how do I block my lost card"))[0] == ("block-card", "en")
    assert await _search(client, "bloquear tarjeta", "es-MX") == [("block-card", "es")]
    assert await _search(client, "银行卡丢失", "zh-Hans-CN") == [("block-card", "zh")]
    # No Vietnamese translation: the English article answers.
    # Words are OR-ed and ranked: "card" is also in the café article's body, lower down.
    assert await _search(client, "lost card", "vi") == [("block-card", "en"), ("cafe-rewards", "en")]
    # Diacritics and case do not matter; the last word is matched as a prefix while the customer types.
    assert await _search(client, "CAFE") == [("cafe-rewards", "en")]
    assert await _search(client, "coff") == [("cafe-rewards", "en")]
    # A draft is never shown, searched or readable.
    assert await _search(client, "fees next year") == []
    assert (await client.get("/api/kb/articles/secret-plan")).status_code == 404
    r = await client.get("/api/kb/articles/block-card", params={"lang": "vi"})
    assert r.status_code == 200 and r.json()["lang"] == "en" and "<strong>Cards</strong>" in r.json()["body_html"]
    assert (await client.get("/api/kb/articles/block-card", params={"lang": "zh"})).json()[
        "title"
    ] == "冻结丢失的银行卡"


NASTY = ["NEAR(card", '"', "card*", "card:*", "'; DROP TABLE kb_articles; --", "&|!()<>", "AND OR NOT", "\x00card", "^"]


async def test_any_text_is_a_valid_query(client: httpx.AsyncClient, library: dict[str, int]) -> None:
    for q in [*NASTY, ""]:
        r = await client.get("/api/kb/search", params={"q": q})
        assert r.status_code == 200, (q, r.text)
        slugs = [h["slug"] for h in r.json()]
        assert "secret-plan" not in slugs and ("block-card" in slugs or "card" not in q), q
    assert (await client.get("/api/kb/articles/block-card")).status_code == 200  # nothing was dropped


async def test_bad_bodies_get_clear_errors(writer: httpx.AsyncClient, library: dict[str, int]) -> None:
    too_long = await writer.get("/api/kb/search", params={"q": "x" * 201})
    assert too_long.status_code == 422 and set(too_long.json()) == {"error", "detail"}
    taken = await writer.post("/api/kb/manage/articles", json={"slug": "block-card", "title": "Again", "body_md": "x"})
    assert taken.status_code == 409 and taken.json()["error"] == "slug_taken"
    bad_slug = await writer.post("/api/kb/manage/articles", json={"slug": "../etc", "title": "x", "body_md": "x"})
    assert bad_slug.status_code == 422
    bad_lang = await writer.put(
        f"/api/kb/manage/articles/{library['card']}/translations/zz!", json={"title": "x", "body_md": "x"}
    )
    assert bad_lang.status_code == 422 and bad_lang.json()["error"] == "bad_language"
    missing = await writer.patch("/api/kb/manage/articles/999999", json={"status": "published"})
    assert missing.status_code == 404 and missing.json()["error"] == "article_not_found"


async def test_script_in_an_article_is_never_served(writer: httpx.AsyncClient) -> None:
    body = (
        "<script>alert(1)</script>\n\n[click](javascript:alert(2)) "
        '<img src=x onerror="alert(3)"> [ok](https://bank.example/help)'
    )
    await _article(writer, "evil", "Evil", body)
    html = (await writer.get("/api/kb/articles/evil")).json()["body_html"]
    # Raw HTML is shown as text, a javascript: link is not a link.
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html
    assert '<a href="https://bank.example/help" rel="noopener noreferrer nofollow">ok</a>' in html


async def test_only_writers_write_and_agents_read(
    client: httpx.AsyncClient, make_user: UserFactory, library: dict[str, int]
) -> None:
    client.cookies.clear()
    await login(client, await make_user(Role.agent))
    r = await client.post("/api/kb/manage/articles", json={"slug": "agent-made", "title": "x", "body_md": "x"})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert (await client.delete(f"/api/kb/manage/articles/{library['card']}")).status_code == 403
    listed = {a["slug"]: a for a in (await client.get("/api/kb/manage/articles")).json()}
    assert listed["block-card"]["status"] == "published" and {
        t["lang"] for t in listed["block-card"]["translations"]
    } == {
        "en",
        "es",
        "zh",
    }


async def _visitor(client: httpx.AsyncClient) -> dict[str, str]:
    r = await client.post("/api/visitors")
    assert r.status_code == 201, r.text
    return {"Authorization": "Bearer " + r.json()["token"]}


async def test_one_vote_per_visitor_and_every_visitor_counted(
    client: httpx.AsyncClient, settings: Settings, library: dict[str, int]
) -> None:
    settings.visitor_tokens_per_minute = 1000
    client.cookies.clear()
    url = "/api/kb/articles/block-card/votes"
    assert (await client.post(url, json={"helped": True})).status_code == 401  # no visitor token
    forged = {"Authorization": "Bearer not-a-token"}
    assert (await client.post(url, json={"helped": True}, headers=forged)).status_code == 401
    one = await _visitor(client)
    for helped in (True, True, False):  # voting again replaces the vote
        r = await client.post(url, json={"helped": helped}, headers=one)
        assert r.status_code == 200, r.text
    assert r.json() == {"helped": 0, "not_helped": 1}
    visitors = [await _visitor(client) for _ in range(8)]
    answers = await asyncio.gather(*(client.post(url, json={"helped": True}, headers=v) for v in visitors))
    assert [a.status_code for a in answers] == [200] * 8
    final = (await client.post(url, json={"helped": False}, headers=one)).json()
    assert final == {"helped": 8, "not_helped": 1}
    assert (
        await client.post("/api/kb/articles/secret-plan/votes", json={"helped": True}, headers=one)
    ).status_code == 404


async def test_searches_from_one_address_are_limited(client: httpx.AsyncClient, settings: Settings) -> None:
    settings.kb_searches_per_minute = 3
    codes = [(await client.get("/api/kb/search", params={"q": "card"})).status_code for _ in range(3)]
    r = await client.get("/api/kb/search", params={"q": "card"})
    assert codes == [200, 200, 200] and r.status_code == 429
    assert r.json()["error"] == "too_many_searches" and 1 <= int(r.headers["Retry-After"]) <= 60


async def test_views_are_counted_and_agents_get_articles_for_the_conversations_topic(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, library: dict[str, int]
) -> None:
    for _ in range(2):
        assert (await client.get("/api/kb/articles/block-card")).status_code == 200
    customer_id = (await client.post("/api/visitors")).json()["customer_id"]
    async with app.state.db.session() as s:
        conv = await conversations.stage_open(
            s,
            data=OpenIn(
                customer_id=customer_id, channel="chat", customer_name="Ana", topic="tarjeta perdida", lang="es-ES"
            ),
        )
        await s.commit()
    client.cookies.clear()
    await login(client, await make_user(Role.agent))
    r = await client.get("/api/kb/suggestions", params={"conversation_id": conv.id})
    assert r.status_code == 200 and [(h["slug"], h["lang"]) for h in r.json()] == [("block-card", "es")]
    listed = {a["slug"]: a for a in (await client.get("/api/kb/manage/articles")).json()}
    assert listed["block-card"]["views"] == 2
    gone = await client.get("/api/kb/suggestions", params={"conversation_id": "nope"})
    assert gone.status_code == 404

"""The demo bank's help articles: published with their translations, found in the customer's language, and
the card articles are what an agent sees beside a chat from the demo card page (topic "Cards")."""

from __future__ import annotations

from contactcenter.db import Database
from contactcenter.demo.articles import ARTICLES
from contactcenter.demo.seed import seed_demo
from contactcenter.kb import service
from contactcenter.settings import Settings


async def test_the_demo_articles_are_published_translated_and_found(db_url: str) -> None:
    summary = await seed_demo(Settings(database_url=db_url, secret_key="x" * 40), customers=2, seed=7)
    assert f"{len(ARTICLES)} help articles" in summary
    db = Database(db_url)
    try:
        async with db.session() as s:
            listed = {a.slug: a for a in await service.listing(s)}
            assert set(listed) == {slug for slug, _, _ in ARTICLES}
            assert all(a.status == "published" for a in listed.values())
            assert {t.lang for t in listed["block-lost-card"].translations} == {"en", "es", "fr", "zh"}
            assert all("<script" not in t.body_html for a in listed.values() for t in a.translations)

            async def find(q: str, lang: str) -> list[tuple[str, str]]:
                return [(h.slug, h.lang) for h in await service.find(s, query=q, lang=lang, default_lang="en")]

            assert (await find("lost card", "en"))[0] == ("block-lost-card", "en")
            assert (await find("tarjeta perdida", "es"))[0] == ("block-lost-card", "es")
            assert (await find("银行卡丢失", "zh"))[0] == ("block-lost-card", "zh")
            assert ("mortgage-overpayment", "en") in await find("overpay mortgage", "vi")  # no Vietnamese: English
            assert {slug for slug, _ in await find("Cards", "en")} >= {"block-lost-card", "card-abroad"}
    finally:
        await db.dispose()

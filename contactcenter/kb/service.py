"""Articles: written by staff, read by customers in their language (or the default one), searched, voted on."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.db import utcnow
from contactcenter.http import ApiError
from contactcenter.kb import render, search
from contactcenter.kb.models import KbArticle, KbFailedSearch, KbTranslation, KbVote
from contactcenter.kb.schemas import (
    ArticleIn,
    ArticleOut,
    ArticleUpdate,
    FailedSearches,
    FailedSearchOut,
    Hit,
    PublicArticle,
    Status,
    TranslationIn,
    TranslationOut,
    VoteOut,
)


async def _article(session: AsyncSession, article_id: int) -> KbArticle:
    a = await session.get(KbArticle, article_id, populate_existing=True)
    if a is None:
        raise ApiError(404, "article_not_found", f"no article {article_id}")
    return a


async def _out(session: AsyncSession, a: KbArticle) -> ArticleOut:
    rows = await session.scalars(
        select(KbTranslation).where(KbTranslation.article_id == a.id).order_by(KbTranslation.lang)
    )
    out = ArticleOut.model_validate(a)
    out.translations = [TranslationOut.model_validate(t) for t in rows]
    return out


async def _write_translation(session: AsyncSession, article_id: int, lang: str, data: TranslationIn) -> None:
    html = render.to_html(data.body_md)
    body = render.to_text(html)
    t = await session.scalar(
        select(KbTranslation).where(KbTranslation.article_id == article_id, KbTranslation.lang == lang)
    )
    if t is None:
        t = KbTranslation(article_id=article_id, lang=lang)
        session.add(t)
    t.title, t.body_md, t.body_html = data.title, data.body_md, html
    t.search_text = render.fold(data.title) + "\n" + render.fold(body)
    t.updated_at = utcnow()
    await session.flush()
    await search.index(session, translation_id=t.id, title=data.title, body=body)


async def create(session: AsyncSession, *, data: ArticleIn, author_id: int) -> ArticleOut:
    a = KbArticle(slug=data.slug, category=data.category, status=data.status.value, author_id=author_id)
    session.add(a)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(409, "slug_taken", f"an article {data.slug!r} exists") from exc
    await _write_translation(session, a.id, data.lang, TranslationIn(title=data.title, body_md=data.body_md))
    await session.commit()
    return await _out(session, a)


async def put_translation(session: AsyncSession, *, article_id: int, lang: str, data: TranslationIn) -> ArticleOut:
    a = await _article(session, article_id)
    await _write_translation(session, a.id, lang, data)
    a.updated_at = utcnow()
    await session.commit()
    return await _out(session, a)


async def change(session: AsyncSession, *, article_id: int, data: ArticleUpdate) -> ArticleOut:
    a = await _article(session, article_id)
    if data.category is not None:
        a.category = data.category
    if data.status is not None:
        a.status = data.status.value
    a.updated_at = utcnow()
    await session.commit()
    return await _out(session, a)


async def delete(session: AsyncSession, *, article_id: int) -> None:
    a = await _article(session, article_id)
    ids = list(await session.scalars(select(KbTranslation.id).where(KbTranslation.article_id == a.id)))
    await search.unindex(session, translation_ids=ids)
    await session.delete(a)
    await session.commit()


async def listing(session: AsyncSession) -> list[ArticleOut]:
    """Every article with its translations: two queries, whatever the number of articles."""
    articles = list(await session.scalars(select(KbArticle).order_by(KbArticle.category, KbArticle.slug)))
    by_article: dict[int, list[TranslationOut]] = {a.id: [] for a in articles}
    for t in await session.scalars(select(KbTranslation).order_by(KbTranslation.article_id, KbTranslation.lang)):
        if t.article_id in by_article:
            by_article[t.article_id].append(TranslationOut.model_validate(t))
    found = []
    for a in articles:
        out = ArticleOut.model_validate(a)
        out.translations = by_article[a.id]
        found.append(out)
    return found


async def _translation(session: AsyncSession, article: KbArticle, langs: list[str]) -> KbTranslation | None:
    rows = {
        t.lang: t
        for t in await session.scalars(
            select(KbTranslation).where(KbTranslation.article_id == article.id, KbTranslation.lang.in_(langs))
        )
    }
    return next((rows[lang] for lang in langs if lang in rows), None)


async def read(session: AsyncSession, *, slug: str, lang: str, default_lang: str) -> PublicArticle:
    """A published article in `lang`, or in the default language; counts a view."""
    a = await session.scalar(select(KbArticle).where(KbArticle.slug == slug, KbArticle.status == Status.published))
    t = await _translation(session, a, [lang, default_lang]) if a is not None else None
    if a is None or t is None:
        raise ApiError(404, "article_not_found", f"no article {slug!r}")
    await session.execute(update(KbArticle).where(KbArticle.id == a.id).values(views=KbArticle.views + 1))
    await session.commit()
    return PublicArticle(slug=a.slug, category=a.category, lang=t.lang, title=t.title, body_html=t.body_html)


async def find(session: AsyncSession, *, query: str, lang: str, default_lang: str, limit: int = 5) -> list[Hit]:
    """Best matches in the customer's language; the default language's fill the rest (one hit per article)."""
    langs = list(dict.fromkeys([lang, default_lang]))
    ids: list[int] = []
    for one in langs:
        if len(ids) < limit:
            ids += [i for i in await search.find(session, query=query, langs=[one], limit=limit) if i not in ids]
    if not ids:
        return []
    rows = await session.execute(select(KbTranslation, KbArticle).join(KbArticle).where(KbTranslation.id.in_(ids)))
    by_id = {t.id: (t, a) for t, a in rows}
    hits: list[Hit] = []
    seen: set[int] = set()
    for i in ids:
        t, a = by_id[i]
        if a.id in seen:
            continue
        seen.add(a.id)
        text = render.to_text(t.body_html)
        hits.append(Hit(slug=a.slug, lang=t.lang, title=t.title, summary=render.summary(text), category=a.category))
    return hits[:limit]


async def vote(session: AsyncSession, *, slug: str, customer_id: int, helped: bool) -> VoteOut:
    """One vote per customer and article (a second one replaces the first). The counts move by atomic
    increments, so votes from many visitors at once are all counted."""
    a = await session.scalar(select(KbArticle).where(KbArticle.slug == slug, KbArticle.status == Status.published))
    if a is None:
        raise ApiError(404, "article_not_found", f"no article {slug!r}")
    article_id = a.id
    v = await session.scalar(select(KbVote).where(KbVote.article_id == article_id, KbVote.customer_id == customer_id))
    yes, no = (1, 0) if helped else (0, 1)
    if v is None:
        session.add(KbVote(article_id=article_id, customer_id=customer_id, helped=helped))
        try:
            await session.flush()
        except IntegrityError as exc:  # the same visitor's other vote got in first: it stands
            await session.rollback()
            raise ApiError(409, "already_voted", "this vote is already being recorded") from exc
    elif v.helped != helped:
        v.helped, v.at = helped, utcnow()
        yes, no = (1, -1) if helped else (-1, 1)
    else:
        yes = no = 0
    await session.execute(
        update(KbArticle)
        .where(KbArticle.id == article_id)
        .values(helped=KbArticle.helped + yes, not_helped=KbArticle.not_helped + no)
    )
    await session.commit()
    row = (
        await session.execute(select(KbArticle.helped, KbArticle.not_helped).where(KbArticle.id == article_id))
    ).one()
    return VoteOut(helped=int(row[0]), not_helped=int(row[1]))


async def failed_search(session: AsyncSession, *, customer_id: int, query: str, lang: str, asked: str) -> None:
    session.add(
        KbFailedSearch(customer_id=customer_id, query=query.replace("\x00", "").strip()[:200], lang=lang, asked=asked)
    )
    await session.commit()


async def failed_searches(session: AsyncSession, *, limit: int = 50) -> FailedSearches:
    total = int(await session.scalar(select(func.count()).select_from(KbFailedSearch)) or 0)
    rows = await session.scalars(select(KbFailedSearch).order_by(KbFailedSearch.id.desc()).limit(limit))
    return FailedSearches(total=total, recent=[FailedSearchOut.model_validate(r) for r in rows])

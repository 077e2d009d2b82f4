"""The knowledge base: public reads and search for the widget (from the company's website too), votes from
visitors, writing for supervisors and planners, suggestions beside an agent's conversation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal
from contactcenter.bus import Bus
from contactcenter.conversations import service as conversations
from contactcenter.db import utcnow
from contactcenter.http import ApiError, get_bus, get_session, get_settings_dep, get_templates, too_many
from contactcenter.kb import failed, service
from contactcenter.kb.schemas import (
    LANG,
    ArticleIn,
    ArticleOut,
    ArticleUpdate,
    FailedSearches,
    FailedSearchIn,
    FailedTop,
    Hit,
    PublicArticle,
    TranslationIn,
    VoteIn,
    VoteOut,
    primary_lang,
)
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
Writer = Annotated[StaffPrincipal, Depends(deps.writers)]
Templates = Annotated[Jinja2Templates, Depends(get_templates)]
MAX_QUERY = 200
FAILED_PER_MINUTE = 5  # reports per visitor: one per chat or callback started


def _lang(settings: Settings, lang: str | None) -> str:
    return primary_lang(lang, settings.kb_default_lang)


@router.get("/api/kb/search", response_model=list[Hit])
async def search(
    request: Request,
    session: Session,
    settings: SettingsDep,
    bus: Annotated[Bus, Depends(get_bus)],
    _: Annotated[None, Depends(deps.widget_public)],
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    lang: Annotated[str | None, Query(max_length=35)] = None,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> list[Hit]:
    """Published articles for a question, in the visitor's language first. Any text is a valid query."""
    key = f"kb:search:{request.client.host if request.client else 'unknown'}"
    if await bus.hit(key, 60) > settings.kb_searches_per_minute:
        raise too_many("too_many_searches", "too many searches from this address", await bus.window_left(key))
    return await service.find(
        session, query=q, lang=_lang(settings, lang), default_lang=settings.kb_default_lang, limit=limit
    )


@router.get("/api/kb/articles/{slug}", response_model=PublicArticle)
async def article(
    slug: str,
    session: Session,
    settings: SettingsDep,
    _: Annotated[None, Depends(deps.widget_public)],
    lang: Annotated[str | None, Query(max_length=35)] = None,
) -> PublicArticle:
    return await read_article(session, settings, slug, lang)


@router.get("/help/{slug}", response_class=HTMLResponse, include_in_schema=False)
async def page(
    request: Request,
    slug: str,
    session: Session,
    settings: SettingsDep,
    templates: Annotated[Jinja2Templates, Depends(get_templates)],
    _: Annotated[None, Depends(deps.public)],
    lang: Annotated[str | None, Query(max_length=35)] = None,
) -> HTMLResponse:
    """An article as a page of its own: the link an agent sends in a chat or an email."""
    try:
        a = await read_article(session, settings, slug, lang)
    except ApiError as exc:
        ctx = {"article": None, "detail": exc.detail}
        return templates.TemplateResponse(request, "help_article.html", ctx, status_code=exc.status)
    return templates.TemplateResponse(request, "help_article.html", {"article": a})


async def read_article(session: AsyncSession, settings: Settings, slug: str, lang: str | None) -> PublicArticle:
    return await service.read(
        session, slug=slug[:80], lang=_lang(settings, lang), default_lang=settings.kb_default_lang
    )


@router.post("/api/kb/articles/{slug}/votes", response_model=VoteOut)
async def vote(
    slug: str, body: VoteIn, session: Session, who: Annotated[VisitorPrincipal, Depends(deps.visitor)]
) -> VoteOut:
    """ "Did this help?": one vote per visitor and article."""
    return await service.vote(session, slug=slug[:80], customer_id=who.customer_id, helped=body.helped)


@router.post("/api/kb/failed-searches", status_code=204)
async def failed_search(
    body: FailedSearchIn,
    session: Session,
    settings: SettingsDep,
    bus: Annotated[Bus, Depends(get_bus)],
    who: Annotated[VisitorPrincipal, Depends(deps.visitor)],
) -> None:
    """ "Searched, opened nothing, then asked for help" (a failed self-service), sent by the widget."""
    key = f"kb:failed:{who.customer_id}"
    if await bus.hit(key, 60) > FAILED_PER_MINUTE:
        raise too_many("too_many_reports", "too many reports from this visitor", await bus.window_left(key))
    await service.failed_search(
        session, customer_id=who.customer_id, query=body.query, lang=_lang(settings, body.lang), asked=body.asked
    )


@router.get("/api/kb/manage/failed-searches", response_model=FailedSearches)
async def failed_searches(session: Session, _: Annotated[StaffPrincipal, Depends(deps.any_staff)]) -> FailedSearches:
    """How many visitors searched, opened nothing and asked for help, and what they searched last."""
    return await service.failed_searches(session)


@router.get("/api/kb/manage/failed-queries", response_model=FailedTop)
async def failed_queries(
    session: Session,
    _: Writer,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FailedTop:
    """The texts searched before a failed self-service, grouped, most frequent first (the writers')."""
    return await failed.report(session, days=days, limit=limit, now=utcnow())


@router.get("/staff/kb/failed", response_class=HTMLResponse)
async def failed_page(request: Request, templates: Templates, who: Writer) -> HTMLResponse:
    # A shell: its script reads GET /api/kb/manage/failed-queries.
    return templates.TemplateResponse(request, "kb_failed.html", {"me": who, "nav": "kb"})


@router.get("/api/kb/suggestions", response_model=list[Hit])
async def suggestions(
    session: Session,
    settings: SettingsDep,
    _: Annotated[StaffPrincipal, Depends(deps.agents)],
    conversation_id: Annotated[str, Query(max_length=36)],
) -> list[Hit]:
    """Articles for a conversation's topic, in the customer's language, to send in a click."""
    conv = await conversations.get(session, conversation_id=conversation_id)
    query = " ".join(x for x in (conv.topic,) if x)
    if not query:
        return []
    return await service.find(
        session, query=query, lang=_lang(settings, conv.lang), default_lang=settings.kb_default_lang
    )


@router.get("/api/kb/manage/articles", response_model=list[ArticleOut])
async def listing(session: Session, _: Annotated[StaffPrincipal, Depends(deps.any_staff)]) -> list[ArticleOut]:
    return await service.listing(session)


@router.post("/api/kb/manage/articles", response_model=ArticleOut, status_code=201)
async def create(body: ArticleIn, session: Session, who: Writer) -> ArticleOut:
    return await service.create(session, data=body, author_id=who.user_id)


@router.patch("/api/kb/manage/articles/{article_id}", response_model=ArticleOut)
async def change(article_id: int, body: ArticleUpdate, session: Session, _: Writer) -> ArticleOut:
    return await service.change(session, article_id=article_id, data=body)


@router.put("/api/kb/manage/articles/{article_id}/translations/{lang}", response_model=ArticleOut)
async def translate(article_id: int, lang: str, body: TranslationIn, session: Session, _: Writer) -> ArticleOut:
    if not LANG.match(lang):
        raise ApiError(422, "bad_language", "a language tag such as en, zh or es-MX")
    return await service.put_translation(session, article_id=article_id, lang=primary_lang(lang, "en"), data=body)


@router.delete("/api/kb/manage/articles/{article_id}", status_code=204)
async def delete(article_id: int, session: Session, _: Writer) -> None:
    await service.delete(session, article_id=article_id)

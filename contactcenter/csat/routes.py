"""CSAT over HTTP: the widget's rating (visitor token), the signed link's page for a customer without a
login (email), and the figures for the wallboard (supervisors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal
from contactcenter.bus import Bus
from contactcenter.csat import links, service
from contactcenter.csat.models import MAX_COMMENT
from contactcenter.csat.schemas import AskOut, Period, RatingIn, RatingOut, ScoreIn, StatsOut
from contactcenter.db import Database, utcnow
from contactcenter.http import ApiError, get_bus, get_database, get_session, get_settings_dep, get_templates
from contactcenter.realtime.schemas import ConvId
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
BusDep = Annotated[Bus, Depends(get_bus)]
DbDep = Annotated[Database, Depends(get_database)]
Templates = Annotated[Jinja2Templates, Depends(get_templates)]
Visitor = Annotated[VisitorPrincipal, Depends(deps.visitor)]


async def _rate(
    db: Database, bus: Bus, settings: Settings, *, conversation_id: str, customer_id: int | None, body: ScoreIn
) -> RatingOut:
    # SQLite: one writer per process at a time, so two answers racing queue here rather than on the lock.
    async with db.write_gate(), db.session() as s:
        return await service.rate(
            s, bus, conversation_id=conversation_id, customer_id=customer_id, score=body.score,
            comment=body.comment, now=utcnow(), rate_days=settings.csat_rate_days,
        )  # fmt: skip


@router.post("/api/csat/ratings", response_model=RatingOut, status_code=201)
async def rate(body: RatingIn, db: DbDep, bus: BusDep, settings: SettingsDep, who: Visitor) -> RatingOut:
    """The widget's answer to the prompt, for one of the visitor's own closed conversations."""
    return await _rate(db, bus, settings, conversation_id=body.conversation_id, customer_id=who.customer_id, body=body)


@router.get("/api/csat/conversations/{conversation_id}", response_model=AskOut)
async def ask_status(conversation_id: ConvId, session: Session, settings: SettingsDep, who: Visitor) -> AskOut:
    """Whether the visitor's closed conversation is rated yet (the widget asks after it was away)."""
    return await service.status(
        session, conversation_id=conversation_id, customer_id=who.customer_id, now=utcnow(),
        rate_days=settings.csat_rate_days,
    )  # fmt: skip


@router.post("/api/csat/conversations/{conversation_id}/decline", response_model=AskOut)
async def decline(conversation_id: ConvId, db: DbDep, settings: SettingsDep, who: Visitor) -> AskOut:
    """The customer's "No thanks" to rating one of their own closed conversations: recorded once."""
    async with db.write_gate(), db.session() as s:
        return await service.decline(
            s, conversation_id=conversation_id, customer_id=who.customer_id, now=utcnow(),
            rate_days=settings.csat_rate_days,
        )  # fmt: skip


@router.get("/api/csat/stats", response_model=StatsOut)
async def stats(
    session: Session,
    _: Annotated[StaffPrincipal, Depends(deps.supervisors)],
    period: Annotated[Period, Query()] = Period.today,
) -> StatsOut:
    """Ratings per agent and queue for the wallboard: today (since 00:00 UTC) or the last 7 days."""
    return await service.stats(session, period=period, now=utcnow())


def _page(templates: Jinja2Templates, request: Request, status: int = 200, **ctx: object) -> HTMLResponse:
    base = {"token": "", "ask": None, "rated": None, "error": None, "max_comment": MAX_COMMENT}
    return templates.TemplateResponse(request, "csat.html", base | ctx, status_code=status)


@router.get("/csat/{token}", response_class=HTMLResponse, include_in_schema=False)
async def link_page(
    request: Request,
    token: str,
    session: Session,
    settings: SettingsDep,
    templates: Templates,
    _: Annotated[None, Depends(deps.public)],
) -> HTMLResponse:
    """The page of a signed link (the email channel's closing mail: csat/links.py `link_for`)."""
    now = utcnow()
    try:
        conversation_id = links.read(settings.secret_key.get_secret_value(), token, now=now.timestamp())
        ask = await service.status(
            session, conversation_id=conversation_id, customer_id=None, now=now, rate_days=settings.csat_rate_days
        )
    except ApiError as exc:
        return _page(templates, request, exc.status, error=exc.detail)
    return _page(templates, request, token=token, ask=ask)


@router.post("/csat/{token}", response_class=HTMLResponse, include_in_schema=False)
async def link_rate(
    request: Request,
    token: str,
    db: DbDep,
    bus: BusDep,
    settings: SettingsDep,
    templates: Templates,
    _: Annotated[None, Depends(deps.public)],
    score: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=MAX_COMMENT * 4)] = "",
) -> HTMLResponse:
    """The page's form: the token is the proof; one rating per conversation as in the widget."""
    try:
        conversation_id = links.read(settings.secret_key.get_secret_value(), token, now=utcnow().timestamp())
        try:
            body = ScoreIn(score=int(score) if score.isdigit() else 0, comment=comment)
        except ValidationError:
            detail = f"choose 1 to 5 stars; a comment of at most {MAX_COMMENT} characters"
            raise ApiError(422, "invalid_rating", detail) from None
        rated = await _rate(db, bus, settings, conversation_id=conversation_id, customer_id=None, body=body)
    except ApiError as exc:
        ask = None
        if exc.code in ("invalid_rating", "already_rated"):  # the form again with what went wrong, or the rating
            async with db.session() as s:
                ask = await service.status(s, conversation_id=conversation_id, customer_id=None, now=utcnow(),
                                           rate_days=settings.csat_rate_days)  # fmt: skip
        return _page(templates, request, exc.status, error=exc.detail, token=token, ask=ask)
    return _page(templates, request, 201, rated=rated)


@router.get("/api/csat/links/{token}", response_model=AskOut)
async def link_status(
    token: str, session: Session, settings: SettingsDep, _: Annotated[None, Depends(deps.public)]
) -> AskOut:
    """The same as the page, as JSON: the conversation a link rates and whether it is rated yet."""
    now = utcnow()
    conversation_id = links.read(settings.secret_key.get_secret_value(), token, now=now.timestamp())
    return await service.status(
        session, conversation_id=conversation_id, customer_id=None, now=now, rate_days=settings.csat_rate_days
    )

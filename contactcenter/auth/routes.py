"""Login page and session API, staff user admin, visitor tokens for the widget."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps, service
from contactcenter.auth.schemas import LoginBody, MeOut, UserCreate, UserOut, VisitorMeOut, VisitorTokenOut
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal
from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import IdentityKind
from contactcenter.http import ApiError, get_bus, get_session, get_settings_dep, get_templates, same_origin, too_many
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
BusDep = Annotated[Bus, Depends(get_bus)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
Templates = Annotated[Jinja2Templates, Depends(get_templates)]


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never redirect a fresh login to another host.
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return "/staff/"
    return target


def _set_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        deps.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_hours * 3600,
        path="/",
    )


async def _login(
    session: AsyncSession, bus: Bus, settings: Settings, request: Request, username: str, password: str
) -> tuple[str, str, UserOut]:
    if not same_origin(request.headers):
        # Login CSRF: another site posting its own credentials would sign this browser in as that user.
        raise ApiError(403, "cross_site_login", "sign in from this site's own login page")
    ip = _client_ip(request)
    await service.check_login_rate(
        bus,
        client_ip=ip,
        username=username,
        per_user=settings.login_attempts_per_minute,
        per_ip=settings.login_ip_attempts_per_minute,
    )
    user = await service.authenticate(session, username=username, password=password)
    if user is None:
        await service.count_failed_login(bus, client_ip=ip, username=username)
        raise ApiError(401, "bad_credentials", "wrong username or password")
    token, csrf = await service.start_session(session, bus, user=user, hours=settings.session_hours)
    return token, csrf, UserOut.model_validate(user)


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, templates: Templates, _: Annotated[None, Depends(deps.public)], next: str | None = None
) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse, response_model=None)
async def login_form(
    request: Request,
    session: Session,
    bus: BusDep,
    settings: SettingsDep,
    templates: Templates,
    _: Annotated[None, Depends(deps.public)],
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=500)] = "/staff/",
) -> Response:
    try:
        token, _csrf, _user = await _login(session, bus, settings, request, username, password)
    except ApiError as exc:
        ctx = {"next": _safe_next(next), "error": exc.detail, "username": username}
        return templates.TemplateResponse(request, "login.html", ctx, status_code=exc.status)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_cookie(response, token, settings)
    return response


@router.post("/api/session", response_model=MeOut)
async def login_api(
    body: LoginBody,
    request: Request,
    response: Response,
    session: Session,
    bus: BusDep,
    settings: SettingsDep,
    _: Annotated[None, Depends(deps.public)],
) -> MeOut:
    token, csrf, user = await _login(session, bus, settings, request, body.username, body.password)
    _set_cookie(response, token, settings)
    return MeOut(user=user, csrf_token=csrf)


@router.post("/logout", response_model=None)
async def logout(
    request: Request, session: Session, bus: BusDep, who: Annotated[StaffPrincipal, Depends(deps.any_staff)]
) -> Response:
    await service.end_session(session, bus, token=request.cookies.get(deps.SESSION_COOKIE, ""), user_id=who.user_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(deps.SESSION_COOKIE, path="/")
    return response


@router.get("/api/me", response_model=MeOut)
async def me(session: Session, who: Annotated[StaffPrincipal, Depends(deps.any_staff)]) -> MeOut:
    user = UserOut(id=who.user_id, username=who.username, display_name=who.display_name, role=who.role, active=True)
    return MeOut(user=user, csrf_token=who.csrf_token)


@router.get("/api/users", response_model=list[UserOut])
async def users(session: Session, _: Annotated[StaffPrincipal, Depends(deps.admins)]) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in await service.list_users(session)]


@router.post("/api/users", response_model=UserOut, status_code=201)
async def add_user(body: UserCreate, session: Session, _: Annotated[StaffPrincipal, Depends(deps.admins)]) -> UserOut:
    user = await service.create_user(
        session, username=body.username, display_name=body.display_name, role=body.role, password=body.password
    )
    return UserOut.model_validate(user)


@router.post("/api/visitors", response_model=VisitorTokenOut, status_code=201)
async def new_visitor(
    request: Request,
    session: Session,
    bus: BusDep,
    settings: SettingsDep,
    _: Annotated[None, Depends(deps.new_visitor)],
) -> VisitorTokenOut:
    key = f"visitor:ip:{_client_ip(request)}"
    if await bus.hit(key, 60) > settings.visitor_tokens_per_minute:
        raise too_many("too_many_visitors", "too many new visitors from this address", await bus.window_left(key))
    visitor_id = secrets.token_urlsafe(16)
    customer_id, _created = await ccr.resolve_customer(
        session,
        kind=IdentityKind.visitor,
        value=visitor_id,
        display_name=ccr.VISITOR_NAME,
        region=settings.default_phone_region,
    )
    return _visitor_token(settings, visitor_id, customer_id)


def _visitor_token(settings: Settings, visitor_id: str, customer_id: int) -> VisitorTokenOut:
    token = service.sign_visitor(settings.secret_key.get_secret_value(), visitor_id=visitor_id, customer_id=customer_id)
    life = int(settings.visitor_token_hours * 3600)
    return VisitorTokenOut(visitor_id=visitor_id, customer_id=customer_id, token=token, expires_in=life)


@router.post("/api/visitors/renew", response_model=VisitorTokenOut)
async def renew_visitor(
    bus: BusDep, settings: SettingsDep, who: Annotated[VisitorPrincipal, Depends(deps.renewable_visitor)]
) -> VisitorTokenOut:
    """A fresh token for the same visitor and customer (the widget renews before expiry, or just after)."""
    key = f"visitor:renew:{who.visitor_id}"
    if await bus.hit(key, 3600) > 20:  # a widget renews about once a day; more is a script
        raise too_many("too_many_renewals", "too many token renewals", await bus.window_left(key))
    return _visitor_token(settings, who.visitor_id, who.customer_id)


@router.get("/api/visitors/me", response_model=VisitorMeOut)
async def visitor_me(who: Annotated[VisitorPrincipal, Depends(deps.visitor)]) -> VisitorMeOut:
    return VisitorMeOut(visitor_id=who.visitor_id, customer_id=who.customer_id)


@router.get("/", response_model=None)
async def home(_: Annotated[None, Depends(deps.public)]) -> Response:
    return RedirectResponse("/staff/", status_code=303)

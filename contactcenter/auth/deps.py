"""Route guards: every route declares exactly one (tests enumerate them for the role x route matrix)."""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from typing import ClassVar

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute

from contactcenter.auth.https import SESSION_COOKIE, session_token
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal, principal_for_token, read_visitor
from contactcenter.http import ApiError, get_session, get_settings_dep
from contactcenter.settings import Settings
from contactcenter.types import Role

__all__ = ["SESSION_COOKIE"]
CSRF_HEADER = "x-csrf-token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

ALL_STAFF = frozenset(Role)
AGENTS = frozenset({Role.agent, Role.supervisor, Role.admin})
SUPERVISORS = frozenset({Role.supervisor, Role.admin})
PLANNERS = frozenset({Role.planner, Role.admin})
ADMINS = frozenset({Role.admin})
# Who writes knowledge-base articles: the people who know the answers and the people who plan the offers.
WRITERS = frozenset({Role.supervisor, Role.planner, Role.admin})


class Guard:
    kind: ClassVar[str]
    roles: frozenset[Role] = frozenset()
    # Visitors call it from the company's own website: CORS for the sites in CC_WIDGET_ORIGINS (auth/origins.py).
    cross_origin: ClassVar[bool] = False


class Public(Guard):
    """Anyone, signed in or not (login page, health checks, visitor token issue)."""

    kind = "public"

    async def __call__(self) -> None:
        return None


class Staff(Guard):
    """A signed-in staff member holding one of `roles`; unsafe methods also need the CSRF token."""

    kind = "staff"

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    async def __call__(self, request: Request, session: AsyncSession = Depends(get_session)) -> StaffPrincipal:
        token = session_token(request)
        principal = await principal_for_token(session, token=token) if token else None
        if principal is None:
            raise ApiError(401, "not_authenticated", "sign in first")
        if principal.role not in self.roles:
            raise ApiError(403, "forbidden", f"role {principal.role.value} may not do this")
        if request.method not in _SAFE:
            sent = request.headers.get(CSRF_HEADER)
            if sent is None and "form" in request.headers.get("content-type", ""):
                form_value = (await request.form()).get("csrf_token")
                sent = form_value if isinstance(form_value, str) else None
            if not sent or not hmac.compare_digest(sent, principal.csrf_token):
                raise ApiError(403, "csrf_failed", "missing or wrong CSRF token")
        return principal


class Visitor(Guard):
    cross_origin = True

    """A website visitor holding a signed visitor token (Authorization: Bearer ...)."""

    kind = "visitor"

    async def __call__(self, request: Request, settings: Settings = Depends(get_settings_dep)) -> VisitorPrincipal:
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        secret, life = settings.secret_key.get_secret_value(), settings.visitor_token_hours * 3600
        visitor = read_visitor(secret, token, max_age_s=life) if token else None
        if visitor is None:
            raise ApiError(401, "not_authenticated", "a valid visitor token is required")
        return visitor


class RenewableVisitor(Visitor):
    """A visitor token still valid or expired less than CC_VISITOR_RENEW_GRACE_HOURS ago: only the route that
    exchanges it for a fresh one, so a returning visitor stays the same customer."""

    async def __call__(self, request: Request, settings: Settings = Depends(get_settings_dep)) -> VisitorPrincipal:
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        window = (settings.visitor_token_hours + settings.visitor_renew_grace_hours) * 3600
        visitor = read_visitor(settings.secret_key.get_secret_value(), token, max_age_s=window) if token else None
        if visitor is None:
            raise ApiError(401, "not_authenticated", "a valid visitor token is required")
        return visitor


class VisitorOrStaff(Guard):
    cross_origin = True

    """Either a visitor token (the widget) or a staff session holding one of `roles` (the console)."""

    kind = "visitor_or_staff"

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles
        self._staff = Staff(roles)

    async def __call__(
        self,
        request: Request,
        session: AsyncSession = Depends(get_session),
        settings: Settings = Depends(get_settings_dep),
    ) -> StaffPrincipal | VisitorPrincipal:
        if request.headers.get("authorization", "").startswith("Bearer "):
            return await visitor(request, settings)
        return await self._staff(request, session)


public = Public()


class NewVisitor(Public):
    """Anyone, from the company's website too: the route that hands out visitor tokens, and the knowledge
    base's public reads (the widget answers before there is a visitor)."""

    cross_origin = True


new_visitor = NewVisitor()
widget_public = NewVisitor()
any_staff = Staff(ALL_STAFF)
agents = Staff(AGENTS)
supervisors = Staff(SUPERVISORS)
planners = Staff(PLANNERS)
writers = Staff(WRITERS)
admins = Staff(ADMINS)
visitor = Visitor()
renewable_visitor = RenewableVisitor()
visitor_or_agents = VisitorOrStaff(AGENTS)


def guards_of(dependant: Dependant) -> list[Guard]:
    """The guards a route's dependencies declare (exactly one per route; tests/auth checks it)."""
    found = [dependant.call] if isinstance(dependant.call, Guard) else []
    for sub in dependant.dependencies:
        found.extend(guards_of(sub))
    return [g for g in found if isinstance(g, Guard)]


def cross_origin_patterns(routes: Sequence[BaseRoute]) -> list[re.Pattern[str]]:
    """Path patterns of the routes whose guard lets visitors in from the company's website."""
    from fastapi.routing import iter_route_contexts

    found = []
    for ctx in iter_route_contexts(list(routes)):
        route = ctx.original_route
        if isinstance(route, APIRoute) and any(g.cross_origin for g in guards_of(route.dependant)):
            found.append(route.path_regex)
    return found

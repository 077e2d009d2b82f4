"""Every route declares exactly one guard, and every role (and no session, and a visitor) gets what it declares."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from contactcenter.auth import deps
from contactcenter.auth.models import StaffUser
from contactcenter.auth.service import start_session
from contactcenter.types import Role
from tests.conftest import UserFactory


def guards(dep: Dependant) -> list[deps.Guard]:
    found = [dep.call] if isinstance(dep.call, deps.Guard) else []
    for sub in dep.dependencies:
        found.extend(guards(sub))
    return [g for g in found if isinstance(g, deps.Guard)]


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """Every (method, route) the app serves; FastAPI >= 0.16x keeps included routers nested in app.routes."""
    from fastapi.routing import iter_route_contexts

    routes = [ctx.original_route for ctx in iter_route_contexts(app.routes)]
    found = [(m, r) for r in routes if isinstance(r, APIRoute) for m in sorted(r.methods)]
    assert len(found) >= 30, "route discovery broke: the matrix would check nothing"
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_every_route_has_exactly_one_guard(app: FastAPI) -> None:
    missing = [f"{m} {r.path}" for m, r in api_routes(app) if len(guards(r.dependant)) != 1]
    assert missing == []


async def _cookie_for(app: FastAPI, username: str) -> str:
    async with app.state.db.session() as s:
        from sqlalchemy import select

        user = await s.scalar(select(StaffUser).where(StaffUser.username == username))
        assert user is not None
        token, _csrf = await start_session(s, app.state.bus, user=user, hours=1)
    return token


async def _csrf(client: httpx.AsyncClient) -> str:
    r = await client.get("/api/me")
    assert r.status_code == 200
    token: str = r.json()["csrf_token"]
    return token


@pytest.mark.parametrize("who", ["anonymous", "visitor", *[r.value for r in Role]])
async def test_role_matrix(app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, who: str) -> None:
    headers: dict[str, str] = {}
    role: Role | None = None
    if who == "visitor":
        headers["Authorization"] = "Bearer " + (await client.post("/api/visitors")).json()["token"]
    elif who != "anonymous":
        role = Role(who)
        username = await make_user(role)
    failures = []
    for method, route in api_routes(app):
        guard = guards(route.dependant)[0]
        if role is not None:
            # A fresh session per request: some routes (logout) end the session they are called with.
            client.cookies.set(deps.SESSION_COOKIE, await _cookie_for(app, username))
            headers["X-CSRF-Token"] = await _csrf(client)
        r = await client.request(method, concrete(route.path), headers=headers, json={} if method == "POST" else None)
        client.cookies.clear()
        allowed = (
            guard.kind == "public"
            or (guard.kind == "visitor" and who == "visitor")
            or (guard.kind == "staff" and role in guard.roles)
            or (guard.kind == "visitor_or_staff" and (who == "visitor" or role in guard.roles))
        )
        if allowed:
            ok = r.status_code not in (401, 403)
        elif role is None or guard.kind == "visitor":
            ok = r.status_code == 401 or (r.status_code == 303 and r.headers["location"].startswith("/login"))
        else:
            is_json = r.headers.get("content-type", "").startswith("application/json")
            ok = r.status_code == 403 and (not is_json or r.json()["error"] == "forbidden")
        if r.status_code in (401, 403) and r.headers.get("content-type", "").startswith("application/json"):
            ok = ok and set(r.json()) == {"error", "detail"}
        ok = ok and r.status_code < 500  # dummy ids and empty bodies are bad input, never a crash
        if not ok:
            failures.append(f"{who}: {method} {route.path} -> {r.status_code} {r.text[:120]}")
    assert failures == []

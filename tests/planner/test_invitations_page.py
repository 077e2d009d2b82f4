"""The planner's invitations page (/staff/planner/invitations): planners and admins get the shell, with its
link in the menu; agents and supervisors get 403 and no link; nobody signed in is sent to the login."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from contactcenter.auth.https import SESSION_COOKIE
from contactcenter.auth.service import create_user, start_session
from contactcenter.types import Role
from tests.conftest import PASSWORD
from tests.engage.conftest import People, app, engage_settings, people

__all__ = ["app", "engage_settings", "people"]  # fixtures used below
PAGE = "/staff/planner/invitations"
LINK = f'href="{PAGE}"'


async def _admin(app: FastAPI) -> httpx.AsyncClient:
    async with app.state.db.session() as s:
        user = await create_user(s, username="root-invite", display_name="Root", role=Role.admin, password=PASSWORD)
        token, _ = await start_session(s, app.state.bus, user=user, hours=1)
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    c.cookies.set(SESSION_COOKIE, token)
    return c


async def test_planners_and_admins_get_the_page_with_its_link(app: FastAPI, people: People) -> None:
    planner = (await people("plan"))["plan"]
    admin = await _admin(app)
    try:
        for c in (planner.c, admin):
            r = await c.get(PAGE)
            assert r.status_code == 200, r.text
            assert 'id="invite-rules"' in r.text and "/static/planner-invitations.js" in r.text
            assert f'{LINK} class="active" aria-current="page"' in r.text
            assert LINK in (await c.get("/staff/planner")).text  # the other planner pages link to it
    finally:
        await admin.aclose()


async def test_agents_and_supervisors_are_refused_and_see_no_link(app: FastAPI, people: People) -> None:
    staff = await people("a1", "sup")
    for who in staff.values():
        r = await who.c.get(PAGE)
        assert r.status_code == 403
        assert 'id="invite-rules"' not in r.text
        assert LINK not in (await who.c.get("/staff/customers")).text
        # Nor the data behind it.
        assert (await who.c.get("/api/engage/results")).status_code == 403
        assert (await who.c.put("/api/engage/rules", json={"rules": []})).status_code == 403


async def test_nobody_signed_in_is_sent_to_the_login(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.get(PAGE)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")

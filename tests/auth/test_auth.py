"""Staff login, sessions, CSRF, rate limit, user admin and visitor tokens."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from contactcenter.auth.models import StaffSession, StaffUser
from contactcenter.auth.service import read_visitor, sign_visitor
from contactcenter.db import utcnow
from contactcenter.types import Role
from tests.conftest import PASSWORD, UserFactory, login


async def test_login_sets_httponly_samesite_cookie_and_me_works(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    name = await make_user(Role.agent)
    r = await client.post("/api/session", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    me = (await client.get("/api/me")).json()
    assert me["user"]["username"] == name and me["user"]["role"] == "agent"


async def test_a_login_posted_from_another_site_is_refused_and_signs_nobody_in(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    name = await make_user(Role.agent)
    host = client.base_url.netloc.decode()
    foreign = {"origin": "https://evil.example"}
    creds = {"username": name, "password": PASSWORD}
    r = await client.post("/api/session", json=creds, headers=foreign)
    assert r.status_code == 403 and r.json()["error"] == "cross_site_login" and "set-cookie" not in r.headers
    form = await client.post("/login", data={**creds, "next": "/staff/"}, headers={"origin": "null"})
    assert form.status_code == 403 and "set-cookie" not in form.headers and "login page" in form.text
    async with app.state.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(StaffSession)) == 0
    # The site's own page (and clients that send no Origin, as above in this file) still sign in.
    ok = await client.post("/api/session", json=creds, headers={"origin": f"http://{host}"})
    assert ok.status_code == 200 and "set-cookie" in ok.headers


async def test_passwords_are_stored_as_argon2_hashes(app: FastAPI, make_user: UserFactory) -> None:
    name = await make_user(Role.planner)
    async with app.state.db.session() as s:
        user = await s.scalar(select(StaffUser).where(StaffUser.username == name))
    assert user is not None and user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash


async def test_wrong_password_and_unknown_user_get_the_same_401(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    name = await make_user(Role.agent)
    a = await client.post("/api/session", json={"username": name, "password": "wrong password"})
    b = await client.post("/api/session", json={"username": "nobody-here", "password": "wrong password"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json() == {"error": "bad_credentials", "detail": "wrong username or password"}


async def test_login_is_rate_limited_even_with_the_right_password(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    name = await make_user(Role.agent)
    # Successful logins do not count: a floor signing in behind one address is never refused.
    for _ in range(6):
        assert (await client.post("/api/session", json={"username": name, "password": PASSWORD})).status_code == 200
    for _ in range(5):
        assert (await client.post("/api/session", json={"username": name, "password": "nope"})).status_code == 401
    r = await client.post("/api/session", json={"username": name, "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"] == "too_many_attempts"


async def test_state_changing_request_needs_the_session_csrf_token(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    csrf = await login(client, await make_user(Role.agent))
    body = {"display_name": "Ada Lovelace"}
    del client.headers["X-CSRF-Token"]
    r = await client.post("/api/customers", json=body)
    assert r.status_code == 403 and r.json()["error"] == "csrf_failed"
    r = await client.post("/api/customers", json=body, headers={"X-CSRF-Token": csrf + "x"})
    assert r.status_code == 403
    r = await client.post("/api/customers", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201


async def test_logout_ends_the_session_for_good(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    csrf = await login(client, await make_user(Role.supervisor))
    cookie = client.cookies.get("cc_session")
    r = await client.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303
    client.cookies.set("cc_session", cookie or "")
    assert (await client.get("/api/me")).status_code == 401


async def test_expired_session_is_refused(app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory) -> None:
    await login(client, await make_user(Role.agent))
    async with app.state.db.session() as s:
        await s.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(minutes=1)))
        await s.commit()
    r = await client.get("/api/me")
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated"


async def test_login_form_redirects_only_to_local_paths(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    name = await make_user(Role.agent)
    r = await client.post("/login", data={"username": name, "password": PASSWORD, "next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["location"] == "/staff/"
    r = await client.post("/login", data={"username": name, "password": "bad", "next": "/staff/customers"})
    assert r.status_code == 401 and "wrong username or password" in r.text


async def test_html_pages_redirect_to_login_without_a_session(client: httpx.AsyncClient) -> None:
    r = await client.get("/staff/customers", params={"q": "ann"})
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fstaff%2Fcustomers%3Fq%3Dann"


async def test_missing_customer_page_is_an_html_404(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    await login(client, await make_user(Role.agent))
    r = await client.get("/staff/customers/987654")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "no customer 987654" in r.text


async def test_admin_adds_users_and_duplicates_or_weak_passwords_are_refused(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await login(client, await make_user(Role.admin))
    body = {"username": "newagent", "display_name": "New Agent", "role": "agent", "password": "long enough pw"}
    assert (await client.post("/api/users", json=body)).status_code == 201
    dup = await client.post("/api/users", json=body)
    assert dup.status_code == 409 and dup.json()["error"] == "username_taken"
    weak = await client.post("/api/users", json={**body, "username": "other", "password": "short"})
    assert weak.status_code == 422 and weak.json()["error"] == "invalid_request"
    bad_role = await client.post("/api/users", json={**body, "username": "other2", "role": "root"})
    assert bad_role.status_code == 422
    async with app.state.db.session() as s:
        assert (
            await s.scalar(
                select(func.count())
                .select_from(StaffUser)
                .where(StaffUser.username.in_(["newagent", "other", "other2"]))
            )
            == 1
        )


async def test_visitor_token_identifies_one_visitor_and_forgeries_fail(client: httpx.AsyncClient) -> None:
    issued = (await client.post("/api/visitors")).json()
    me = await client.get("/api/visitors/me", headers={"Authorization": f"Bearer {issued['token']}"})
    assert me.json() == {"visitor_id": issued["visitor_id"], "customer_id": issued["customer_id"]}
    other = (await client.post("/api/visitors")).json()
    assert other["customer_id"] != issued["customer_id"]
    forged = sign_visitor("another-secret-" + "y" * 30, visitor_id=issued["visitor_id"], customer_id=999)
    r = await client.get("/api/visitors/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    tampered = issued["token"][:-2] + ("AA" if not issued["token"].endswith("AA") else "BB")
    assert (await client.get("/api/visitors/me", headers={"Authorization": f"Bearer {tampered}"})).status_code == 401
    # A visitor token opens no staff route.
    r = await client.get("/api/customers/1", headers={"Authorization": f"Bearer {issued['token']}"})
    assert r.status_code == 401


def test_visitor_token_roundtrip_and_garbage() -> None:
    token = sign_visitor("s" * 40, visitor_id="abcdefgh12", customer_id=5)
    v = read_visitor("s" * 40, token, max_age_s=3600)
    assert v is not None and v.customer_id == 5
    assert read_visitor("s" * 40, "garbage", max_age_s=3600) is None
    assert read_visitor("s" * 40, "", max_age_s=3600) is None


async def test_oversized_body_is_refused_before_parsing(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/session", content=b"{" + b" " * 2_000_000 + b"}", headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"


async def test_malformed_json_is_a_clear_422(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/session", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"

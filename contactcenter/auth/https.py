"""HTTPS-dependent transport security: the session cookie's name and flags, and HSTS on HTTPS responses.

Whether a request came over HTTPS is the ASGI scope's scheme; behind a proxy uvicorn sets it from
X-Forwarded-Proto, believed only from CC_TRUSTED_PROXIES (cli.py passes them as forwarded_allow_ips)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactcenter.settings import Settings

SESSION_COOKIE = "cc_session"
# Over HTTPS: the browser keeps a __Host- cookie only if Secure, path=/ and without Domain, so a sibling
# subdomain or a plain-http page cannot plant or overwrite it (session fixation).
SECURE_SESSION_COOKIE = "__Host-cc_session"


def is_https(scope: Scope) -> bool:
    return scope.get("scheme") in ("https", "wss")


def cookie_name(conn: HTTPConnection) -> str:
    return SECURE_SESSION_COOKIE if is_https(conn.scope) else SESSION_COOKIE


def session_token(conn: HTTPConnection) -> str | None:
    """The session cookie of this request: over HTTPS only the __Host- one is read."""
    return conn.cookies.get(cookie_name(conn))


def set_session_cookie(response: Response, conn: HTTPConnection, token: str, settings: Settings) -> None:
    https = is_https(conn.scope)
    response.set_cookie(
        cookie_name(conn),
        token,
        httponly=True,
        samesite="lax",
        secure=https or settings.cookie_secure,
        max_age=settings.session_hours * 3600,
        path="/",
    )


def delete_session_cookie(response: Response, conn: HTTPConnection) -> None:
    response.delete_cookie(cookie_name(conn), path="/", secure=is_https(conn.scope), httponly=True)


class HstsMiddleware:
    """Strict-Transport-Security on every HTTPS response (plain http answers never carry it: browsers ignore it)."""

    def __init__(self, app: ASGIApp, max_age_s: int) -> None:
        self.app, self.value = app, f"max-age={max_age_s}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_https(scope):
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("strict-transport-security", self.value)
            await send(message)

        await self.app(scope, receive, send_with_hsts)

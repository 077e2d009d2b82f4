"""Which other sites may embed the widget: CORS on the visitor routes, and only there, and the `Origin`
check of customer websockets. The sites are exact origins from CC_WIDGET_ORIGINS; there is never a wildcard.

Visitors carry bearer tokens, not cookies, so no credentials mode: a page of an allowed site may call the
visitor routes; staff routes stay same-origin (no CORS headers, their cookie and CSRF checks as before).
A request from another site that is not allowed is refused before any handler runs, so nothing is stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactcenter.http import same_origin

PREFLIGHT_METHODS = frozenset({"GET", "HEAD", "POST"})
PREFLIGHT_HEADERS = frozenset({"authorization", "content-type"})
MAX_AGE_S = "600"


def parse_origins(text: str) -> frozenset[str]:
    """CC_WIDGET_ORIGINS ("https://www.bank.example,https://shop.bank.example") as normalised origins."""
    found = set()
    for part in text.split(","):
        part = part.strip().rstrip("/")
        if not part:
            continue
        u = urlsplit(part)
        if u.scheme not in ("http", "https") or not u.netloc or u.path or u.query or u.fragment or "*" in part:
            raise ValueError(f"CC_WIDGET_ORIGINS: {part!r} is not an origin like https://www.example.com")
        found.add(f"{u.scheme}://{u.netloc}".lower())
    return frozenset(found)


def cross_site_refused(headers: Mapping[str, str], allowed: frozenset[str]) -> bool:
    """True when a browser on another site that is not allowed makes this request (no Origin: not a browser)."""
    origin = headers.get("origin")
    return origin is not None and not same_origin(headers) and origin.lower() not in allowed


class VisitorCors:
    """CORS for the visitor routes (`patterns`, filled once every router is included)."""

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str], patterns: list[re.Pattern[str]]) -> None:
        self.app, self.allowed, self.patterns = app, allowed, patterns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Most requests carry no Origin (same-site GETs, scripts): pass them on without decoding headers.
        if scope["type"] != "http" or not any(k == b"origin" for k, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        visitor = any(p.match(scope["path"]) for p in self.patterns)
        if origin is None or same_origin(headers) or not visitor:
            await self.app(scope, receive, send)  # not a cross-site visitor call: as before
            return
        if origin.lower() not in self.allowed:
            await _json(send, 403, "origin_not_allowed", f"{origin} may not embed the widget (CC_WIDGET_ORIGINS)")
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, origin, headers)
            return
        cors = _cors_headers(origin)

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, with_cors)

    async def _preflight(self, send: Send, origin: str, headers: Mapping[str, str]) -> None:
        method = headers["access-control-request-method"].upper()
        asked = {h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",") if h.strip()}
        if method not in PREFLIGHT_METHODS or not asked <= PREFLIGHT_HEADERS:
            detail = f"visitor routes allow {sorted(PREFLIGHT_METHODS)} with headers {sorted(PREFLIGHT_HEADERS)}"
            await _json(send, 403, "preflight_refused", detail)
            return
        allow = [
            (b"access-control-allow-methods", ", ".join(sorted(PREFLIGHT_METHODS)).encode()),
            (b"access-control-allow-headers", ", ".join(sorted(PREFLIGHT_HEADERS)).encode()),
            (b"access-control-max-age", MAX_AGE_S.encode()),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": [*_cors_headers(origin), *allow]})
        await send({"type": "http.response.body", "body": b""})


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"vary", b"Origin"),
        # The widget reads the file name of an attachment it downloads.
        (b"access-control-expose-headers", b"Content-Disposition"),
    ]


async def _json(send: Send, status: int, code: str, detail: str) -> None:
    body = orjson.dumps({"error": code, "detail": detail})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"vary", b"Origin"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

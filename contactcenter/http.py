"""HTTP plumbing shared by every capability: JSON errors, body limits, request-scoped dependencies."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlparse

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactcenter.bus import Bus
from contactcenter.db import Database
from contactcenter.settings import Settings

log = structlog.get_logger("http")


class ApiError(Exception):
    """Raise from anywhere in a request; becomes {"error": code, "detail": detail} with `status`."""

    def __init__(self, status: int, code: str, detail: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.detail = status, code, detail
        self.headers = dict(headers or {})


def too_many(code: str, detail: str, retry_after: float) -> ApiError:
    """A 429 with Retry-After (whole seconds, at least 1): the client knows when to try again."""
    return ApiError(429, code, detail, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


def error_response(
    status: int, code: str, detail: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and request.url.path.startswith("/staff")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if exc.status == 401 and _wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    if _wants_html(request):
        ctx = {"status": exc.status, "code": exc.code, "detail": exc.detail}
        return get_templates(request).TemplateResponse(request, "error.html", ctx, status_code=exc.status)
    log.info("request_refused", path=request.url.path, status=exc.status, error=exc.code)
    return error_response(exc.status, exc.code, exc.detail, exc.headers)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 400: "bad_request"}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, exc.detail)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
    log.info("request_invalid", path=request.url.path, errors=len(detail))
    return error_response(422, "invalid_request", detail)


async def _unhandled(request: Request, exc: Exception) -> Response:
    log.exception("unhandled_error", path=request.url.path)
    return error_response(500, "internal", "unexpected server error; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unhandled)


class BodyLimitMiddleware:
    """Refuse bodies over the limit before any handler parses them (Content-Length or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int, uploads: dict[str, int] | None = None) -> None:
        # `uploads`: path prefixes allowed a bigger body (file uploads), with their own limit.
        self.app, self.max_bytes, self.uploads = app, max_bytes, uploads or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next((n for p, n in self.uploads.items() if scope["path"].startswith(p)), self.max_bytes)
        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > limit:
                await self._refuse(scope, receive, send, limit)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise StarletteHTTPException(413, f"body larger than {limit} bytes")
            return msg

        await self.app(scope, limited, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        resp = error_response(413, "body_too_large", f"body larger than {limit} bytes")
        await resp(scope, receive, send)


# Request-scoped dependencies: everything comes from app.state, set up once in app.py.
def same_origin(headers: Mapping[str, str]) -> bool:
    """False when a browser says the request comes from another site (its Origin is not this host).

    Browsers send Origin on websockets and on cross-site POSTs; clients that send none (scripts, tests) pass.
    Behind a proxy, the proxy must pass the Host header through (docs/operations.md)."""
    origin = headers.get("origin")
    return origin is None or urlparse(origin).netloc == headers.get("host")


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_bus(request: Request) -> Bus:
    bus: Bus = request.app.state.bus
    return bus


def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_database(request).session() as session:
        yield session

"""create_app() and its lifespan: wires settings, database, bus and each capability's routes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import re
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from contactcenter import __version__
from contactcenter.analytics.routes import router as analytics_router
from contactcenter.analytics.runtime import Runtime as AnalyticsRuntime
from contactcenter.auth import deps
from contactcenter.auth.https import HstsMiddleware
from contactcenter.auth.origins import VisitorCors, parse_origins
from contactcenter.auth.routes import router as auth_router
from contactcenter.auth.secret import resolve_secret
from contactcenter.bus import make_bus
from contactcenter.capabilities import AppContext, Capability, body_limits, discover, widget_parts
from contactcenter.ccr.routes import router as ccr_router
from contactcenter.conversations.routes import router as conversations_router
from contactcenter.db import Database
from contactcenter.db.engine import WalCheckpointer, sqlite_file
from contactcenter.demo.check import warn_demo_accounts
from contactcenter.headers import SecurityHeadersMiddleware
from contactcenter.http import BodyLimitMiddleware, install_error_handlers
from contactcenter.integration.routes import router as integration_router
from contactcenter.kb.routes import router as kb_router
from contactcenter.ops.routes import router as ops_router
from contactcenter.ops.service import Metrics, MetricsMiddleware, setup_logging
from contactcenter.planner.routes import router as planner_router
from contactcenter.realtime.admission import SocketCap
from contactcenter.realtime.hub import Hub
from contactcenter.realtime.revocation import Revocation
from contactcenter.realtime.routes import WS_PATH, websocket
from contactcenter.realtime.routes import router as realtime_router
from contactcenter.routing import presence
from contactcenter.routing import service as routing
from contactcenter.routing.routes import router as routing_router
from contactcenter.settings import Settings, get_settings
from contactcenter.suggestions.routes import router as suggestions_router
from contactcenter.suggestions.runtime import Runtime as SuggestionsRuntime


class ContactCenterApp(FastAPI):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Thousands of mostly idle widget sockets: /ws skips the middleware and routing layers (none of
        # which apply to it) because each one keeps frames alive for the socket's whole life (~13 KiB
        # per socket together). The route stays registered for the same handler.
        if scope["type"] == "websocket" and scope["path"] == WS_PATH:
            scope["app"] = self
            await websocket(WebSocket(scope, receive, send))
            return
        await super().__call__(scope, receive, send)


def create_served_app() -> FastAPI:
    """The app `contactcenter serve` runs: as create_app, and it takes start-up's objects out of the GC."""
    return create_app(freeze_gc=True)


STOP_TIMEOUT_S = 15.0  # per step of the shutdown


async def _bounded(what: str, step: Awaitable[None]) -> None:
    """One step of the shutdown, given STOP_TIMEOUT_S: a step that hangs must not keep the process (and
    every step after it) from stopping. The log names it and the tasks still running, for whoever looks."""
    try:
        async with asyncio.timeout(STOP_TIMEOUT_S):
            await step
    except TimeoutError:
        running = sorted(t.get_name() for t in asyncio.all_tasks() if not t.done() and t is not asyncio.current_task())
        log = structlog.get_logger("app")
        log.error("stop_timed_out", step=what, seconds=STOP_TIMEOUT_S, running=running[:50])


def create_app(
    settings: Settings | None = None, *, freeze_gc: bool = False, extra: Sequence[Capability] = ()
) -> FastAPI:
    """The app with every channel under channels/ (and `extra` capabilities, e.g. a test's channel)."""
    # Refuses (SecretKeyError) a deployment without a usable key before anything else starts.
    settings = resolve_secret(settings or get_settings())
    capabilities = [*discover(), *extra]
    setup_logging(settings)
    log = structlog.get_logger("app")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        bus = make_bus(settings)
        await bus.start()
        app.state.db, app.state.bus = db, bus
        app.state.hub = hub = Hub(bus, db)
        for cap in capabilities:
            await cap.start(AppContext(settings=settings, db=db, bus=bus, hub=hub))
        app.state.revocation = revocation = Revocation(db, period_s=settings.heartbeat_s)
        revocation.attach(hub)
        hub.start()
        revocation.start()
        app.state.suggestions = suggestions = SuggestionsRuntime(settings=settings, db=db, bus=bus)
        await suggestions.start()
        app.state.analytics = analytics = AnalyticsRuntime(settings=settings, db=db, bus=bus)
        await analytics.start()
        routing.attach_configured(bus, settings)
        async with db.session() as s:
            await routing.load(s, bus)
            await presence.reenter(s, bus)
        sweeper = asyncio.create_task(presence.run_sweeper(db, bus))
        demo_check = asyncio.create_task(warn_demo_accounts(db))  # beside the start-up: it hashes passwords
        log.info("started", database=db.dialect, bus=bus.name, version=__version__)
        if freeze_gc:
            # Modules, routes and the rule cache live as long as the process: a full collection walking
            # them (~150k objects) paused every socket for tens of ms. Frozen, collections skip them.
            gc.collect()
            gc.freeze()
        # SQLite: WAL checkpoints off the writers' path (decision 26); started once start-up has succeeded.
        path = sqlite_file(settings.database_url)
        checkpointer = WalCheckpointer(path) if path else None
        if checkpointer is not None:
            checkpointer.start()
        try:
            yield
        finally:
            await _bounded("analytics", analytics.stop())
            await _bounded("suggestions", suggestions.stop())
            for task in (sweeper, demo_check):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await _bounded("revocation", revocation.stop())
            await _bounded("hub", hub.stop())
            for cap in reversed(capabilities):
                await _bounded(cap.name, cap.stop())
            await _bounded("bus", bus.close())
            await db.dispose()
            if checkpointer is not None:
                checkpointer.stop()
            log.info("stopped")

    # FastAPI's /docs pulls Swagger UI from a CDN with inline script: development only (CC_API_DOCS).
    on = settings.api_docs
    app = ContactCenterApp(
        title="Contact Center",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs" if on else None,
        redoc_url="/redoc" if on else None,
        openapi_url="/openapi.json" if on else None,
    )
    app.state.settings = settings
    app.state.capabilities = {cap.name: cap for cap in capabilities}
    app.state.widget_parts = widget_parts(capabilities, settings)
    app.state.widget_origins = parse_origins(settings.widget_origins)
    app.state.metrics = Metrics()
    app.state.socket_cap = SocketCap(settings.max_sockets_per_address)
    app.state.login_slots = asyncio.Semaphore(settings.login_verify_concurrency)
    app.state.templates = Jinja2Templates(directory=str(settings.web_dir / "templates"))
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        uploads={
            "/api/chat/attachments": settings.max_upload_bytes + 65_536,
            **body_limits(capabilities, settings),
        },
    )
    # CORS for the visitor routes only: their patterns are known once every router is included (below).
    visitor_routes: list[re.Pattern[str]] = []
    app.add_middleware(VisitorCors, allowed=app.state.widget_origins, patterns=visitor_routes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    if settings.hsts_max_age_s:
        app.add_middleware(HstsMiddleware, max_age_s=settings.hsts_max_age_s)
    exempt = ("/docs", "/redoc") if settings.api_docs else ()
    app.add_middleware(SecurityHeadersMiddleware, exempt=exempt)  # outermost: error responses get them too
    for router in (
        ops_router,
        auth_router,
        ccr_router,
        integration_router,
        kb_router,
        conversations_router,
        realtime_router,
        routing_router,
        planner_router,
        suggestions_router,
        analytics_router,
    ):
        app.include_router(router)
    for cap in capabilities:
        for router in cap.routers():
            app.include_router(router)
    visitor_routes += deps.cross_origin_patterns(app.routes)
    app.mount("/static", StaticFiles(directory=str(settings.web_dir / "static")), name="static")
    # The demo company website that embeds the widget (public, static).
    app.mount("/demo", StaticFiles(directory=str(settings.web_dir / "demo"), html=True), name="demo")
    return app

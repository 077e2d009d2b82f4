"""The email channel as a capability: its routes, the ingest worker (always: it files any backlog left in
email_raw), and the SMTP server, started only when CC_SMTP_ENABLED is set."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.channels.email import service
from contactcenter.channels.email.ingest import Ingestor
from contactcenter.channels.email.routes import router
from contactcenter.channels.email.smtp import start_server

log = structlog.get_logger("email")


class EmailCapability:
    name = service.CHANNEL

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.ingestor: Ingestor | None = None

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    async def start(self, ctx: AppContext) -> None:
        s = ctx.settings
        self.ingestor = Ingestor(ctx.db, ctx.bus, region=s.default_phone_region)
        self.ingestor.start()
        if not s.smtp_enabled:
            return
        self.server = await start_server(
            ctx.db,
            host=s.smtp_host,
            port=s.smtp_port,
            domains=s.email_domains,
            max_bytes=s.email_max_bytes,
            on_stored=self.ingestor.notify,
        )
        log.info("smtp_listening", host=s.smtp_host, port=s.smtp_port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        if self.ingestor is not None:
            await self.ingestor.stop()
            self.ingestor = None


def capability() -> EmailCapability:
    return EmailCapability()

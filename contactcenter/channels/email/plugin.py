"""The email channel as a capability: its SMTP server, started only when CC_SMTP_ENABLED is set."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.channels.email.smtp import start_server

log = structlog.get_logger("email")


class EmailCapability:
    name = "email"

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None

    def routers(self) -> Sequence[APIRouter]:
        return []

    async def start(self, ctx: AppContext) -> None:
        s = ctx.settings
        if not s.smtp_enabled:
            return
        self.server = await start_server(
            ctx.db, host=s.smtp_host, port=s.smtp_port, domains=s.email_domains, max_bytes=s.email_max_bytes
        )
        log.info("smtp_listening", host=s.smtp_host, port=s.smtp_port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


def capability() -> EmailCapability:
    return EmailCapability()

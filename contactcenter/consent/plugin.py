"""Consent as a capability: its routes only (found by capabilities.py, like co-browse and webhooks)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.consent.routes import router


class ConsentCapability:
    name = "consent"

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    async def start(self, ctx: AppContext) -> None:
        return None

    async def stop(self) -> None:
        return None


def capability() -> ConsentCapability:
    return ConsentCapability()

"""Campaigns as a capability (found by capabilities.py): its routes; it runs no task of its own (the
suggestions runtime reads the target lists, results are read on request)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from contactcenter.campaigns.routes import router
from contactcenter.capabilities import AppContext


class CampaignsCapability:
    name = "campaigns"

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    async def start(self, ctx: AppContext) -> None:
        return None

    async def stop(self) -> None:
        return None


def capability() -> CampaignsCapability:
    return CampaignsCapability()

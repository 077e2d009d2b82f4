"""Proactive invitations as a capability: its routes, and the cart paths its web.* rule facts read."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.engage import facts, rulefacts
from contactcenter.engage.routes import router
from contactcenter.settings import Settings


class EngageCapability:
    name = "engage"

    def widget_parts(self, settings: Settings) -> list[Path]:
        return [settings.web_dir / "widget" / "invite.js"]  # the invitation card

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    async def start(self, ctx: AppContext) -> None:
        rulefacts.cart = facts.cart_prefixes(ctx.settings.engage_cart_paths)

    async def stop(self) -> None:
        return None


def capability() -> EngageCapability:
    return EngageCapability()

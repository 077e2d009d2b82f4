"""Documents as a capability: the library's routes, and the push and receipt frames registered with the
realtime hub. It is not a channel: a document is pushed during a chat, a call or a callback alike."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.documents import frames
from contactcenter.documents.routes import UPLOAD_PATH, router
from contactcenter.realtime.channels import ChannelHooks
from contactcenter.settings import Settings

NAME = "documents"


class DocumentsCapability:
    name = NAME

    def widget_parts(self, settings: Settings) -> list[Path]:
        return [settings.web_dir / "widget" / "documents.js"]  # the viewer of pushed documents

    def routers(self) -> Sequence[APIRouter]:
        return [router]

    def body_limits(self, settings: Settings) -> dict[str, int]:
        return {UPLOAD_PATH: settings.document_max_bytes + 65_536}  # the multipart form around the file

    async def start(self, ctx: AppContext) -> None:
        # Registry keys hooks by name; no conversation has the channel "documents", so none looks it up.
        ctx.hub.add_channel(ChannelHooks(name=NAME, frames=frames.specs()))

    async def stop(self) -> None:
        return None


def capability() -> DocumentsCapability:
    return DocumentsCapability()

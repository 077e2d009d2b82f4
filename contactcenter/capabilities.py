"""How the app finds and starts its pluggable capabilities (today: the channels under channels/).

A channel is one package under `contactcenter/channels/` with a `plugin.py` whose `capability()` returns
a Capability: its HTTP routers, and a start step that registers it with the conversations core and the
realtime hub. The app names none of them; adding a channel edits nothing outside its package.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fastapi import APIRouter

from contactcenter.bus import Bus
from contactcenter.db import Database
from contactcenter.realtime.hub import Hub
from contactcenter.settings import Settings


@dataclass(frozen=True)
class AppContext:
    """What a capability's start step is given (dependencies passed in, not imported as globals)."""

    settings: Settings
    db: Database
    bus: Bus
    hub: Hub


class Capability(Protocol):
    name: str

    def routers(self) -> Sequence[APIRouter]:
        """Its HTTP routes (added when the app is created)."""

    async def start(self, ctx: AppContext) -> None:
        """Register with the hub and start its own tasks (in the app's lifespan, before serving)."""

    async def stop(self) -> None:
        """Stop its tasks (after the sockets are gone)."""


def discover_channels() -> list[Capability]:
    """One capability per package under contactcenter/channels/ that has a plugin module, by name."""
    import contactcenter.channels as channels

    found: list[Capability] = []
    for info in sorted(pkgutil.iter_modules(channels.__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"{channels.__name__}.{info.name}.plugin")
        except ModuleNotFoundError as exc:
            if exc.name != f"{channels.__name__}.{info.name}.plugin":
                raise  # a plugin that fails to import is a bug, not a missing plugin
            continue
        found.append(module.capability())
    return found

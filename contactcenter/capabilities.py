"""How the app finds and starts its pluggable capabilities: the channels under channels/, and the
capabilities beside them that work across channels (co-browse).

A channel is one package under `contactcenter/channels/` with a `plugin.py` whose `capability()` returns
a Capability: its HTTP routers, and a start step that registers it with the conversations core and the
realtime hub. A top-level package with a `plugin.py` is found the same way (decision 39). The app names
none of them; adding one edits nothing outside its package.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
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


def body_limits(capabilities: Sequence[Capability], settings: Settings) -> dict[str, int]:
    """Path prefixes whose bodies may be bigger than CC_MAX_BODY_BYTES, as capabilities declare them (an
    optional `body_limits(settings)` method: co-browse's snapshots)."""
    found: dict[str, int] = {}
    for cap in capabilities:
        declared = getattr(cap, "body_limits", None)
        if callable(declared):
            found.update(declared(settings))
    return found


def widget_parts(capabilities: Sequence[Capability], settings: Settings) -> list[Path]:
    """The scripts capabilities add to the customer's widget (an optional `widget_parts(settings)` method
    returning files): GET /widget.js serves them between the widget's texts and the widget itself, and each
    registers itself there with `registerPart` (web/widget/parts.js, decision 58)."""
    found: list[Path] = []
    for cap in capabilities:
        declared = getattr(cap, "widget_parts", None)
        if callable(declared):
            found.extend(p for p in declared(settings) if p not in found)
    return found


def _plugins_under(package: str, path: Sequence[str]) -> list[Capability]:
    found: list[Capability] = []
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        # Looked for on disk: importing every package to ask would run their imports for nothing.
        if not info.ispkg or not any((Path(p) / info.name / "plugin.py").is_file() for p in path):
            continue
        module = importlib.import_module(f"{package}.{info.name}.plugin")  # a plugin that fails is a bug
        found.append(module.capability())
    return found


def discover_channels() -> list[Capability]:
    """One capability per package under contactcenter/channels/ that has a plugin module, by name."""
    import contactcenter.channels as channels

    return _plugins_under(channels.__name__, channels.__path__)


def discover() -> list[Capability]:
    """Every channel, then every other top-level package of contactcenter/ that has a plugin module."""
    import contactcenter

    return [*discover_channels(), *_plugins_under(contactcenter.__name__, contactcenter.__path__)]

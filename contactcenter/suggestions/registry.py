"""Facts from other capabilities: a capability gives the rules a namespace of facts of its own by a
`rulefacts.py` module with `fact_sources()` (CSAT's csat.* facts), found on disk the way capabilities.py
finds plugins, so suggestions names none of them. Each source declares its facts for the catalogue (`rules
check` refuses the others) and loads their values for one customer; the gatherer caches them with the rest
of the customer's facts (facts.py), dropped on the customer's next touch.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.suggestions.catalogue import CORE_NAMESPACES, Fact

# (session, customer id) -> {key: value} for every fact of the namespace
Loader = Callable[[AsyncSession, int], Awaitable[dict[str, Any]]]
MODULE = "rulefacts"


@dataclass(frozen=True)
class FactSource:
    namespace: str
    facts: tuple[Fact, ...]
    load: Loader


_sources: dict[str, FactSource] = {}
_found = False
version = 0  # bumped on every registration: the catalogue's cached lists follow it


def register(source: FactSource) -> None:
    """Add a source (idempotent by namespace); its facts must all be in its own, new namespace."""
    global version
    if source.namespace in CORE_NAMESPACES:
        raise ValueError(f"fact namespace {source.namespace!r} belongs to the core catalogue")
    outside = [f.name for f in source.facts if f.name.split(".", 1)[0] != source.namespace]
    if outside:
        raise ValueError(f"facts {outside} are not in namespace {source.namespace!r}")
    _sources[source.namespace] = source
    version += 1


def _discover() -> None:
    global _found
    _found = True
    import contactcenter

    for info in sorted(pkgutil.iter_modules(contactcenter.__path__), key=lambda m: m.name):
        if info.ispkg and any((Path(p) / info.name / f"{MODULE}.py").is_file() for p in contactcenter.__path__):
            module = importlib.import_module(f"contactcenter.{info.name}.{MODULE}")
            declared = getattr(module, "fact_sources", None)
            if callable(declared):
                for source in declared():
                    register(source)


def sources() -> list[FactSource]:
    """Every source: those of the capabilities' rulefacts.py (found on first use) and any registered since."""
    if not _found:
        _discover()
    return list(_sources.values())

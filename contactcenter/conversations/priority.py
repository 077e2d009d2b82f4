"""A contact's routing priority: what its channel asks (a booked callback) plus what other capabilities add
for the customer (analytics: the value tier). Sources register by name, so an app built again in the same
process replaces its source instead of adding a second one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger("conversations")

MAX_PRIORITY = 9  # routing's scale: 0..9, higher is served first
PriorityOf = Callable[[AsyncSession, int], Awaitable[int]]  # (session, customer id) -> points to add

_sources: dict[str, PriorityOf] = {}


def register_source(name: str, source: PriorityOf) -> None:
    _sources[name] = source


def unregister_source(name: str) -> None:
    _sources.pop(name, None)


def parse_points(spec: str) -> dict[str, int]:
    """ "platinum=3,gold=2" -> {"platinum": 3, "gold": 2}; a malformed part is a configuration error."""
    points: dict[str, int] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip().isdigit():
            raise ValueError(f"expected name=points, got {part.strip()!r}")
        points[name.strip()] = min(int(value), MAX_PRIORITY)
    return points


async def contact_priority(session: AsyncSession, *, customer_id: int, asked: int) -> int:
    """The channel's ask plus every source's points, within 0..9. A failing source adds nothing: a contact
    is never refused routing because, say, analytics could not be read."""
    total = asked
    for name, source in _sources.items():
        try:
            total += await source(session, customer_id)
        except Exception as exc:
            log.warning("priority_source_failed", source=name, error=repr(exc))
    return max(0, min(MAX_PRIORITY, total))

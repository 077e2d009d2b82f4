"""What anonymous visitors may start: new chats per visitor and per address, chats open at once per address,
and new chats per queue (docs/security.md, "Anonymous visitors"). The counters live on the bus, so they hold
across every process on Redis. A refusal says when to try again; the widget shows "we're very busy"."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import func, select

from contactcenter.bus import Bus
from contactcenter.conversations.models import Conversation
from contactcenter.conversations.service import OPEN
from contactcenter.db import Database
from contactcenter.settings import Settings

log = structlog.get_logger("chat.limits")
# How long a chat counts against its address's open chats if its close is never seen (a crash).
OPEN_TTL_S = 24 * 3600
OPEN_RETRY_S = 60.0


@dataclass(frozen=True)
class Refusal:
    code: str  # too_many_chats (this visitor or address) or busy (the queue, for everyone)
    detail: str
    retry_after: float


def _open_group(address: str) -> str:
    return f"chat:open:ip:{address}"


async def check_start(
    bus: Bus, db: Database, settings: Settings, *, customer_id: int, address: str, queue: str | None
) -> Refusal | None:
    """Count this new chat and refuse it past a limit. The visitor's and the address's limits come first,
    so one flooding address is refused before it uses up the queue's allowance that everyone shares."""
    try:
        return await _check(bus, db, settings, customer_id=customer_id, address=address, queue=queue)
    except Exception as exc:
        # The bus is down: a customer's chat matters more than the count (the per-socket limits still hold).
        log.warning("start_limits_unavailable", error=repr(exc))
        return None


async def _check(
    bus: Bus, db: Database, settings: Settings, *, customer_id: int, address: str, queue: str | None
) -> Refusal | None:
    mine = "too_many_chats", "you have started too many chats; please try again later"
    for key, window, limit in (
        (f"chat:new:v:{customer_id}", 3600, settings.chat_new_per_visitor_per_hour),
        (f"chat:new:ip:{address}", 3600, settings.chat_new_per_address_per_hour),
    ):
        if await bus.hit(key, window) > limit:
            return Refusal(*mine, await bus.window_left(key))
    if await open_from(bus, db, address) >= settings.chat_open_per_address:
        return Refusal(*mine, OPEN_RETRY_S)
    key = f"chat:new:q:{queue or '-'}"
    if await bus.hit(key, 60) > settings.chat_new_per_queue_per_minute:
        return Refusal(
            "busy", "we're very busy right now; please try again in a few minutes", await bus.window_left(key)
        )
    return None


async def open_from(bus: Bus, db: Database, address: str) -> int:
    """Chats started from this address that are still open (closed ones are dropped from the set)."""
    group = _open_group(address)
    ids = await bus.present(group)
    if not ids:
        return 0
    async with db.session() as s:
        still = set(
            await s.scalars(select(Conversation.id).where(Conversation.id.in_(ids), Conversation.status.in_(OPEN)))
        )
    for gone in ids - still:
        await bus.mark_absent(group, gone)
    return len(still)


async def started(bus: Bus, *, address: str, conversation_id: str) -> None:
    """Count a new chat against its address's open chats."""
    try:
        await bus.mark_present(_open_group(address), conversation_id, OPEN_TTL_S)
    except Exception as exc:
        log.warning("start_limits_unavailable", error=repr(exc))


async def customer_has_open_chat(db: Database, *, customer_id: int, channel: str) -> bool:
    """A start for a visitor whose chat is open only returns that chat: nothing new to count."""
    async with db.session() as s:
        n = await s.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(
                Conversation.customer_id == customer_id, Conversation.channel == channel, Conversation.status.in_(OPEN)
            )
        )
    return bool(n)

"""What anonymous visitors may start: new chats per visitor and per address, chats open at once per address,
and new chats per queue (docs/security.md, "Anonymous visitors"). The counters live on the bus, so they hold
across every process on Redis. A refusal says when to try again; the widget shows "we're very busy"."""

from __future__ import annotations

import uuid
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
# A start's place among its address's open chats, until the chat exists (or the process died meanwhile).
PENDING_TTL_S = 30.0
_PENDING = "starting:"


@dataclass(frozen=True)
class Refusal:
    code: str  # too_many_chats (this visitor or address) or busy (the queue, for everyone)
    detail: str
    retry_after: float


def _open_group(address: str) -> str:
    return f"chat:open:ip:{address}"


@dataclass(frozen=True)
class Admitted:
    """A start let through: its place among the address's open chats, held until the chat exists."""

    address: str
    place: str


async def check_start(
    bus: Bus, db: Database, settings: Settings, *, customer_id: int, address: str, queue: str | None
) -> Refusal | Admitted | None:
    """Count this new chat and refuse it past a limit. The visitor's and the address's limits come first,
    so one flooding address is refused before it uses up the queue's allowance that everyone shares.
    None: the bus is down and nothing was counted (the chat goes ahead)."""
    try:
        return await _check(bus, db, settings, customer_id=customer_id, address=address, queue=queue)
    except Exception as exc:
        # The bus is down: a customer's chat matters more than the count (the per-socket limits still hold).
        log.warning("start_limits_unavailable", error=repr(exc))
        return None


async def _check(
    bus: Bus, db: Database, settings: Settings, *, customer_id: int, address: str, queue: str | None
) -> Refusal | Admitted:
    mine = "too_many_chats", "you have started too many chats; please try again later"
    for key, window, limit in (
        (f"chat:new:v:{customer_id}", 3600, settings.chat_new_per_visitor_per_hour),
        (f"chat:new:ip:{address}", 3600, settings.chat_new_per_address_per_hour),
    ):
        if await bus.hit(key, window) > limit:
            return Refusal(*mine, await bus.window_left(key))
    # Take a place first, then count: two starts at once on two processes see each other (never one too many).
    place = _PENDING + uuid.uuid4().hex
    await bus.mark_present(_open_group(address), place, PENDING_TTL_S)
    if await open_from(bus, db, address) > settings.chat_open_per_address:
        await bus.mark_absent(_open_group(address), place)
        return Refusal(*mine, OPEN_RETRY_S)
    key = f"chat:new:q:{queue or '-'}"
    if await bus.hit(key, 60) > settings.chat_new_per_queue_per_minute:
        await bus.mark_absent(_open_group(address), place)
        busy = "we're very busy right now; please try again in a few minutes"
        return Refusal("busy", busy, await bus.window_left(key))
    return Admitted(address, place)


async def open_from(bus: Bus, db: Database, address: str) -> int:
    """Chats from this address still open, and starts under way (closed ones are dropped from the set)."""
    group = _open_group(address)
    members = await bus.present(group)
    ids = {m for m in members if not m.startswith(_PENDING)}
    if not ids:
        return len(members)
    async with db.session() as s:
        still = set(
            await s.scalars(select(Conversation.id).where(Conversation.id.in_(ids), Conversation.status.in_(OPEN)))
        )
    for gone in ids - still:
        await bus.mark_absent(group, gone)
    return len(members) - len(ids - still)


async def started(bus: Bus, admitted: Admitted, conversation_id: str | None) -> None:
    """The chat exists (it now holds the place), or failed to start (None: the place is given back)."""
    group = _open_group(admitted.address)
    try:
        if conversation_id is not None:
            await bus.mark_present(group, conversation_id, OPEN_TTL_S)
        await bus.mark_absent(group, admitted.place)
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

"""What an invitation offers, from the centre's state as it is now: a chat when an agent of the queue has
room for one and the estimated wait is within the queue's target; else the next free callback slot; else
help articles found by the rule's topic (issue 17 item 3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.channels.callback import service as callback
from contactcenter.engage.schemas import Article, Offer
from contactcenter.kb import service as kb
from contactcenter.routing import service as routing
from contactcenter.routing import views
from contactcenter.routing.model import State
from contactcenter.routing.models import RoutingQueue
from contactcenter.settings import Settings

DEFAULT_TARGET_S = 30


@dataclass(frozen=True)
class Decided:
    offer: Offer
    slot_start: datetime | None = None
    articles: list[Article] = field(default_factory=list)


async def chat_now(session: AsyncSession, bus: Bus, *, queue: str, chat_capacity: int) -> bool:
    """An agent on duty for the queue with room for one more chat, and the wait estimated within target."""
    backend = routing.of(bus).backend
    room = 1.0 / chat_capacity  # one chat's share of an agent (routing/service.py)
    free = [
        a
        for a in await backend.agents()
        if queue in a.queues and a.state in (State.available, State.busy) and a.capacity - a.load >= room - 1e-9
    ]
    if not free:
        return False
    waiting = next((q.waiting for q in await backend.queue_views() if q.id == queue), 0)
    target = await session.scalar(select(RoutingQueue.target_s).where(RoutingQueue.id == queue))
    estimate = await views.estimate(bus, queue=queue, position=waiting)
    if estimate.expected_s is None:  # too few handled contacts to estimate: a free agent takes it if none wait
        return waiting == 0
    return estimate.expected_s <= (target if target is not None else DEFAULT_TARGET_S)


async def decide(
    session: AsyncSession, bus: Bus, settings: Settings, *, queue: str, topic: str, lang: str, now: datetime
) -> Decided:
    if await chat_now(session, bus, queue=queue, chat_capacity=settings.chat_capacity):
        return Decided("chat")
    try:
        slots = await callback.free_slots(session, queue=queue, settings=settings, now=now)
    except ValueError:  # no opening hours the callback channel can read: no callbacks
        slots = []
    if slots:
        return Decided("callback", slot_start=slots[0].start)
    hits = await kb.find(session, query=topic, lang=lang, default_lang=settings.kb_default_lang, limit=3)
    return Decided("articles", articles=[Article(slug=h.slug, title=h.title) for h in hits])

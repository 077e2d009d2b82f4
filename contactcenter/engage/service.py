"""The invitation check (issue 17 item 3): a visitor with browsing consent says which page they are on and
for how long; the rules in force decide whether to invite; a frequency cap per visitor (one conditional
UPDATE: concurrent checks from many tabs or processes claim it once); a hold-out per visitor by hash
(recorded, shown nothing); the offer from the centre's state (offer.py); the visitor's answer, once."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.consent import service as consent
from contactcenter.consent.schemas import Purpose
from contactcenter.conversations.models import Conversation
from contactcenter.conversations.schemas import ConversationStatus
from contactcenter.engage import facts, offer, rules
from contactcenter.engage.models import Invitation, InviteCap
from contactcenter.engage.schemas import AnswerOut, CheckIn, CheckOut, OfferOut
from contactcenter.http import ApiError, too_many
from contactcenter.kb.schemas import primary_lang
from contactcenter.settings import Settings


def held_out(customer_id: int, pct: float) -> bool:
    """Stable per visitor: the same visitor is in the same group on every page and every day."""
    digest = hashlib.sha256(f"engage:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000 < pct * 100


async def require_browsing(session: AsyncSession, *, customer_id: int, version: str) -> None:
    answer = (await consent.latest(session, customer_id=customer_id)).get(Purpose.browsing)
    if answer is None or not answer.granted or answer.version != version:
        raise ApiError(403, "consent_required", "the visitor has not allowed page views under this policy")


async def claim_cap(session: AsyncSession, *, customer_id: int, settings: Settings, now: datetime) -> bool:
    """Take the visitor's next invitation within the caps, or False; committed with the invitation."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(InviteCap)
        .values(customer_id=customer_id, day_count=0)
        .on_conflict_do_nothing(index_elements=["customer_id"])
    )
    day_ago = now - timedelta(days=1)
    new_day = InviteCap.day_start.is_(None) | (InviteCap.day_start <= day_ago)
    done = await session.execute(
        update(InviteCap)
        .where(
            InviteCap.customer_id == customer_id,
            InviteCap.last_at.is_(None) | (InviteCap.last_at <= now - timedelta(minutes=settings.engage_gap_minutes)),
            new_day | (InviteCap.day_count < settings.engage_per_day),
        )
        .values(
            last_at=now,
            day_start=case((new_day, now), else_=InviteCap.day_start),
            day_count=case((new_day, 1), else_=InviteCap.day_count + 1),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def _in_contact(session: AsyncSession, customer_id: int) -> bool:
    open_ = select(Conversation.id).where(
        Conversation.customer_id == customer_id, Conversation.status != ConversationStatus.closed.value
    )
    return (await session.scalar(open_.limit(1))) is not None


async def check(
    session: AsyncSession, bus: Bus, settings: Settings, *, customer_id: int, body: CheckIn, now: datetime
) -> CheckOut:
    await require_browsing(session, customer_id=customer_id, version=settings.consent_policy_version)
    key = f"engage:check:{customer_id}"
    if await bus.hit(key, 60) > settings.engage_checks_per_minute:
        raise too_many("too_many_checks", "too many invitation checks from this visitor", await bus.window_left(key))
    if not settings.engage_enabled:
        return CheckOut()
    path = (urlsplit(body.url).path or "/")[:500]
    web = await facts.browsing(
        session,
        customer_id=customer_id,
        now=now,
        cart=facts.cart_prefixes(settings.engage_cart_paths),
        live=(path, body.seconds),
    )
    in_force = await rules.current(session, settings)
    rule, wait = rules.evaluate(in_force.rules, web)
    if rule is None:
        return CheckOut(next_check_s=max(1, wait) if wait is not None else None)
    if await _in_contact(session, customer_id):  # already talking to us: nothing to invite to
        return CheckOut()
    if not await claim_cap(session, customer_id=customer_id, settings=settings, now=now):
        await session.rollback()
        return CheckOut()
    queue = settings.engage_queue
    row = Invitation(customer_id=customer_id, rule_id=rule.id, path=path, topic=rule.topic, created_at=now)
    if held_out(customer_id, settings.engage_holdout_pct):
        row.offer, row.held_out = "none", True
        session.add(row)
        await session.commit()
        return CheckOut()
    lang = primary_lang(body.lang, settings.kb_default_lang)
    decided = await offer.decide(session, bus, settings, queue=queue, topic=rule.topic, lang=lang, now=now)
    row.offer, row.held_out = decided.offer, False
    session.add(row)
    await session.commit()
    return CheckOut(
        invitation=OfferOut(
            id=row.id,
            offer=decided.offer,
            topic=rule.topic,
            queue=queue,
            slot_start=decided.slot_start,
            articles=decided.articles,
        )
    )


async def answer(
    session: AsyncSession, *, invitation_id: int, customer_id: int, value: str, now: datetime
) -> AnswerOut:
    """The visitor's answer to an invitation shown to them: once (409 after), theirs only (404 else)."""
    done = await session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation_id,
            Invitation.customer_id == customer_id,
            Invitation.held_out.is_(False),
            Invitation.answer.is_(None),
        )
        .values(answer=value, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    row = await session.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.customer_id == customer_id)
    )
    if row is None or row.held_out:
        raise ApiError(404, "invitation_not_found", f"no invitation {invitation_id} for this visitor")
    if not done.rowcount:  # type: ignore[attr-defined]
        raise ApiError(409, "already_answered", f"invitation {invitation_id} was {row.answer} already")
    assert row.answer is not None and row.answered_at is not None
    return AnswerOut(id=row.id, answer=row.answer, answered_at=row.answered_at)

"""Suggestions for a conversation and what became of them: shown (or held out), accepted, dismissed,
converted at wrap-up or by an order within the attribution window."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth.service import StaffPrincipal
from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import utcnow
from contactcenter.http import ApiError
from contactcenter.suggestions import stats
from contactcenter.suggestions.engine import Match
from contactcenter.suggestions.events import TOPIC_FEEDBACK, SaleRecorded, SuggestionAccepted
from contactcenter.suggestions.facts import contact_facts
from contactcenter.suggestions.models import RuleVersion, SuggestionRecord
from contactcenter.suggestions.sources import Candidate

if TYPE_CHECKING:
    from contactcenter.suggestions.runtime import Runtime
from contactcenter.suggestions.schemas import FeedbackOut, StatsOut, SuggestionList, SuggestionOut, VersionStats

log = structlog.get_logger("suggestions")
KEPT = ("accepted", "converted")  # still listed once the rule stops matching


def held_out(conversation_id: str, rule_id: str, pct: float) -> bool:
    """Deterministic per conversation and rule, so a re-run never flips a contact between groups."""
    h = int.from_bytes(hashlib.sha256(f"{conversation_id}:{rule_id}".encode()).digest()[:4], "big")
    return (h % 10_000) < round(pct * 100)


def status(r: SuggestionRecord) -> str:
    if r.held_out:
        return "held_out"
    if r.converted_at is not None:
        return "converted"
    if r.accepted_at is not None:
        return "accepted"
    if r.dismissed_at is not None:
        return "dismissed"
    return "shown"


def _owns(conv: ConversationOut, who: StaffPrincipal) -> bool:
    return conv.agent_id == who.user_id or who.role.value in ("supervisor", "admin")


async def _conversation(session: AsyncSession, conversation_id: str, who: StaffPrincipal) -> ConversationOut:
    conv = await _find(session, conversation_id)
    if conv is None or not _owns(conv, who):
        # Same answer for missing and not yours.
        raise ApiError(404, "conversation_not_found", "no such conversation for you")
    return conv


async def _find(session: AsyncSession, conversation_id: str) -> ConversationOut | None:
    return await conversations.find(session, conversation_id=conversation_id)


def _best_per_offer(found: list[Match]) -> list[Match]:
    seen: set[tuple[str, str]] = set()
    out = []
    for m in found:  # already best priority first
        key = (m.rule.id, m.text("offer"))
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def _candidate(conv: ConversationOut, m: Match) -> Candidate:
    return Candidate(
        rule_id=m.rule.id,
        version=m.rule.version,
        row_id=m.row.id,
        title=(m.text("title") or m.rule.name)[:200],
        offer=m.text("offer")[:120],
        script_id=m.text("script")[:120],
        priority=m.priority,
        reason=m.text("reason")[:500],
        held_out=held_out(conv.id, m.rule.id, m.rule.holdout_pct),
    )


async def _record(session: AsyncSession, conv: ConversationOut, c: Candidate) -> SuggestionRecord | None:
    rec = SuggestionRecord(
        rule_id=c.rule_id,
        version=c.version,
        row_id=c.row_id,
        customer_id=conv.customer_id,
        conversation_id=conv.id,
        title=c.title[:200],
        offer=c.offer[:120],
        script_id=c.script_id[:120],
        priority=c.priority,
        reason=c.reason[:500],
        held_out=c.held_out,
        shown_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(rec)
            await session.flush()
    except IntegrityError:
        return None  # recorded by a concurrent request
    return rec


async def suggest(
    session: AsyncSession, runtime: Runtime, *, conversation_id: str, who: StaffPrincipal
) -> SuggestionList:
    """Run the rules for a conversation now; record what is new; ranked suggestions with rendered scripts."""
    conv = await _conversation(session, conversation_id, who)
    contact = contact_facts(channel=conv.channel, queue=conv.queue, topic=conv.topic, page=conv.page_url)
    facts = await runtime.facts.gather(session, customer_id=conv.customer_id, conversation_id=conv.id, contact=contact)
    found = [_candidate(conv, m) for m in _best_per_offer(await runtime.evaluate(facts))] if facts is not None else []
    if facts is not None:  # campaigns and any other source beside the rules (suggestions/sources.py)
        found += await runtime.facts.providers.offers(session, customer_id=conv.customer_id, facts=facts)
    existing = {
        (r.rule_id, r.row_id): r
        for r in await session.scalars(select(SuggestionRecord).where(SuggestionRecord.conversation_id == conv.id))
    }
    listed: list[SuggestionRecord] = []
    for c in found:
        rec = existing.pop((c.rule_id, c.row_id), None) or await _record(session, conv, c)
        if rec is not None:
            listed.append(rec)
    await session.commit()
    listed += [r for r in existing.values() if status(r) in KEPT]
    listed = [r for r in listed if not r.held_out]
    listed.sort(key=lambda r: (-r.priority, r.id))
    ctx: dict[str, Any] = dict(facts or {})
    ctx["agent"] = {"name": who.display_name}
    return SuggestionList(suggestions=[_out(runtime, r, ctx) for r in listed])


def _out(runtime: Runtime, r: SuggestionRecord, ctx: dict[str, Any]) -> SuggestionOut:
    sctx = ctx | {"suggestion": {"offer": r.offer, "title": r.title, "reason": r.reason}}
    return SuggestionOut(
        id=r.id,
        rule_id=r.rule_id,
        version=r.version,
        title=r.title,
        offer=r.offer,
        script_id=r.script_id,
        script_html=runtime.scripts.render(r.script_id, sctx),
        priority=r.priority,
        reason=r.reason,
        status=status(r),
        ptc_reason=(ctx.get("ptc") or {}).get("reasons", {}).get(r.offer),
    )


async def _mine(session: AsyncSession, suggestion_id: int, who: StaffPrincipal) -> SuggestionRecord:
    rec = await session.get(SuggestionRecord, suggestion_id, with_for_update=True)
    conv = await _find(session, rec.conversation_id) if rec is not None else None
    if rec is None or rec.held_out or conv is None or not _owns(conv, who):
        raise ApiError(404, "suggestion_not_found", "no such suggestion for you")
    return rec


async def _announce(bus: Bus | None, event: SuggestionAccepted | SaleRecorded) -> None:
    # After the commit; a bus that is down loses the announcement, never the recorded feedback.
    if bus is None:
        return
    try:
        await bus.publish_event(TOPIC_FEEDBACK, event)
    except Exception as exc:
        log.warning("publish_failed", what=event.type, error=repr(exc))


def sale_event(rec: SuggestionRecord) -> SaleRecorded:
    assert rec.converted_at is not None
    return SaleRecorded(
        suggestion_id=rec.id,
        rule_id=rec.rule_id,
        version=rec.version,
        product=rec.conversion_product or rec.offer,
        amount=format(rec.conversion_amount if rec.conversion_amount is not None else Decimal(0), ".2f"),
        source=rec.conversion_source or "wrap_up",
        customer_id=rec.customer_id,
        conversation_id=rec.conversation_id,
        agent_id=rec.acted_by,
        converted_at=rec.converted_at,
    )


async def accept(
    session: AsyncSession, *, suggestion_id: int, who: StaffPrincipal, bus: Bus | None = None
) -> FeedbackOut:
    """The agent takes the suggestion up (undoes a dismissal); announced once per acceptance."""
    rec = await _mine(session, suggestion_id, who)
    fresh = rec.accepted_at is None
    if fresh:
        rec.accepted_at, rec.dismissed_at, rec.dismiss_reason, rec.acted_by = utcnow(), None, None, who.user_id
    await session.commit()
    if fresh and rec.accepted_at is not None:
        event = SuggestionAccepted(
            suggestion_id=rec.id,
            rule_id=rec.rule_id,
            version=rec.version,
            offer=rec.offer,
            customer_id=rec.customer_id,
            conversation_id=rec.conversation_id,
            agent_id=who.user_id,
            accepted_at=rec.accepted_at,
        )
        await _announce(bus, event)
    return FeedbackOut(id=rec.id, status=status(rec))


async def dismiss(session: AsyncSession, *, suggestion_id: int, reason: str, who: StaffPrincipal) -> FeedbackOut:
    """The agent sets the suggestion aside, saying why."""
    rec = await _mine(session, suggestion_id, who)
    if rec.converted_at is not None:
        raise ApiError(409, "already_converted", "this suggestion was converted; it cannot be dismissed")
    rec.dismissed_at, rec.dismiss_reason, rec.accepted_at, rec.acted_by = utcnow(), reason, None, who.user_id
    await session.commit()
    return FeedbackOut(id=rec.id, status=status(rec))


async def convert(
    session: AsyncSession,
    *,
    suggestion_id: int,
    product: str,
    amount: float,
    who: StaffPrincipal,
    bus: Bus | None = None,
) -> FeedbackOut:
    """A sale recorded at wrap-up."""
    rec = await _mine(session, suggestion_id, who)
    if rec.converted_at is not None:
        raise ApiError(409, "already_converted", "a sale is already recorded for this suggestion")
    now = utcnow()
    rec.converted_at, rec.conversion_product, rec.conversion_source = now, product, "wrap_up"
    rec.conversion_amount = Decimal(str(round(amount, 2)))
    rec.accepted_at = rec.accepted_at or now
    rec.dismissed_at, rec.dismiss_reason, rec.acted_by = None, None, who.user_id
    await session.commit()
    await _announce(bus, sale_event(rec))
    return FeedbackOut(id=rec.id, status=status(rec))


async def attribute_order(
    session: AsyncSession,
    *,
    customer_id: int,
    sku: str,
    amount: str,
    placed_at: datetime,
    window_days: int,
    bus: Bus | None = None,
) -> int | None:
    """An order recorded for a customer converts their latest unconverted suggestion (shown or held out) of
    that product within the window, including those shown to customers since merged into them; idempotent.
    Returns the record id, or None."""
    since = placed_at - timedelta(days=window_days)
    rec_id = await session.scalar(
        select(SuggestionRecord.id)
        .where(
            SuggestionRecord.customer_id.in_(ccr.holding_ids(customer_id)),
            SuggestionRecord.offer == sku,
            SuggestionRecord.converted_at.is_(None),
            SuggestionRecord.shown_at >= since,
            SuggestionRecord.shown_at <= placed_at + timedelta(minutes=5),
        )
        .order_by(SuggestionRecord.shown_at.desc())
        .limit(1)
    )
    if rec_id is None:
        return None
    done = await session.execute(
        update(SuggestionRecord)
        .where(SuggestionRecord.id == rec_id, SuggestionRecord.converted_at.is_(None))
        .values(
            converted_at=placed_at,
            conversion_product=sku,
            conversion_amount=Decimal(amount),
            conversion_source="order",
        )
    )
    await session.commit()
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return None  # another process attributed it first (every process hears the order)
    rec = await session.get(SuggestionRecord, rec_id, populate_existing=True)
    if rec is not None and rec.converted_at is not None:
        await _announce(bus, sale_event(rec))
    return rec_id


async def rule_stats(session: AsyncSession, *, rule_id: str) -> StatsOut:
    """Figures of every version of a rule (versions never shown report zeros)."""
    versions = list(
        await session.scalars(
            select(RuleVersion.version).where(RuleVersion.rule_id == rule_id).order_by(RuleVersion.version)
        )
    )
    if not versions:
        raise ApiError(404, "rule_not_found", f"no rule {rule_id!r}")
    found = {s.version: s for s in await stats.by_version(session, rule_id=rule_id)}
    return StatsOut(versions=[found.get(v) or VersionStats(version=v) for v in versions])

"""The abandon rate over every product-viewing session (issue 17 item 4, decision 56): sessions that viewed a
product page and ended (no page view for CC_ENGAGE_SESSION_GAP_MINUTES) without a contact (a conversation of
any channel) or an order, per day the session started, for the sessions with an invitation shown, with a
held-out invitation, and with none. A contact, an order or an invitation belongs to the session when it
comes between its start and the gap after its last page view (the check of a page and the beacon of the page
before race each other). Each session is
one row, counted once, on its start day; sessions not ended yet are reported apart, not as abandoned."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from contactcenter.conversations.models import Conversation
from contactcenter.engage.models import BrowseSession, Invitation
from contactcenter.engage.schemas import SessionDay, SessionGroup, SessionsOut
from contactcenter.integration.models import Order

MAX_ROWS = 200_000
GROUPS = ("invited", "held_out", "never")


def _first(
    at: InstrumentedAttribute[datetime], customer: InstrumentedAttribute[int], *where: ColumnElement[bool]
) -> ScalarSelect[datetime]:
    """The first time of a row (conversation, order, invitation) of the session's visitor since its start."""
    return (
        select(func.min(at))
        .where(customer == BrowseSession.customer_id, at >= BrowseSession.started_at, *where)
        .correlate(BrowseSession)
        .scalar_subquery()
    )


class _Tally:
    def __init__(self) -> None:
        self.sessions = self.contacted = self.ordered = self.abandoned = 0

    def add(self, contacted: bool, ordered: bool) -> None:
        self.sessions += 1
        self.contacted += contacted
        self.ordered += ordered
        self.abandoned += not (contacted or ordered)

    def out(self) -> SessionGroup:
        return SessionGroup(
            sessions=self.sessions, contacted=self.contacted, ordered=self.ordered, abandoned=self.abandoned
        )


def _utc(t: datetime | str | None, like: datetime) -> datetime | None:
    # A time read back through a subquery may come as text or without its zone (SQLite): it is UTC.
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    return None if t is None else t.replace(tzinfo=like.tzinfo)


async def report(session: AsyncSession, *, days: int, gap_minutes: float, now: datetime) -> SessionsOut:
    since = now - timedelta(days=days)
    gap = timedelta(minutes=gap_minutes)
    rows = await session.execute(
        select(
            BrowseSession.started_at,
            BrowseSession.last_seen,
            _first(Invitation.created_at, Invitation.customer_id, Invitation.held_out.is_(False)),
            _first(Invitation.created_at, Invitation.customer_id, Invitation.held_out.is_(True)),
            _first(Conversation.created_at, Conversation.customer_id),
            _first(Order.placed_at, Order.customer_id),
        )
        .where(BrowseSession.started_at >= since, BrowseSession.product_pages > 0)
        .order_by(BrowseSession.started_at)
        .limit(MAX_ROWS)
    )
    totals = {g: _Tally() for g in GROUPS}
    by_day: dict[str, dict[str, _Tally]] = defaultdict(lambda: {g: _Tally() for g in GROUPS})
    ongoing = 0
    for started, last, *firsts in rows.all():
        if last > now - gap:  # not left yet: neither abandoned nor kept
            ongoing += 1
            continue
        end = last + gap
        invited, held, contacted, ordered = (t is not None and t <= end for t in (_utc(f, started) for f in firsts))
        seen = (contacted, ordered)
        group = "invited" if invited else "held_out" if held else "never"
        totals[group].add(*seen)
        by_day[started.date().isoformat()][group].add(*seen)
    return SessionsOut(
        days=days,
        gap_minutes=gap_minutes,
        ongoing=ongoing,
        invited=totals["invited"].out(),
        held_out=totals["held_out"].out(),
        never=totals["never"].out(),
        by_day=[
            SessionDay(day=d, invited=g["invited"].out(), held_out=g["held_out"].out(), never=g["never"].out())
            for d, g in sorted(by_day.items())
        ],
    )

"""Invitation results for the planner (issue 17 items 3 and 4): invitations shown, accepted and dismissed,
and what the visitors did after (a contact, an order, or neither: abandoned), for the invited against the
held out, overall, per offer and per day. A contact or order counts within CC_ENGAGE_ATTRIBUTION_DAYS."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from contactcenter.conversations.models import Conversation
from contactcenter.engage.models import Invitation
from contactcenter.engage.schemas import Day, Group, ResultsOut
from contactcenter.integration.models import Order

MAX_ROWS = 200_000


class _Tally:
    def __init__(self) -> None:
        self.n = self.shown = self.accepted = self.dismissed = self.contacted = self.ordered = self.abandoned = 0

    def add(self, shown: bool, answer: str | None, contacted: bool, ordered: bool) -> None:
        self.n += 1
        self.shown += shown
        self.accepted += answer == "accepted"
        self.dismissed += answer == "dismissed"
        self.contacted += contacted
        self.ordered += ordered
        self.abandoned += not (contacted or ordered)

    def out(self) -> Group:
        return Group(
            invitations=self.n, shown=self.shown, accepted=self.accepted, dismissed=self.dismissed,
            contacted=self.contacted, ordered=self.ordered, abandoned=self.abandoned,
        )  # fmt: skip


def _first_conversation() -> ScalarSelect[datetime]:
    return (
        select(func.min(Conversation.created_at))
        .where(Conversation.customer_id == Invitation.customer_id, Conversation.created_at >= Invitation.created_at)
        .correlate(Invitation)
        .scalar_subquery()
    )


def _first_order() -> ScalarSelect[datetime]:
    return (
        select(func.min(Order.placed_at))
        .where(Order.customer_id == Invitation.customer_id, Order.placed_at >= Invitation.created_at)
        .correlate(Invitation)
        .scalar_subquery()
    )


async def results(session: AsyncSession, *, days: int, attribution_days: int, now: datetime) -> ResultsOut:
    since = now - timedelta(days=days)
    window = timedelta(days=attribution_days)
    rows = await session.execute(
        select(
            Invitation.held_out,
            Invitation.offer,
            Invitation.answer,
            Invitation.created_at,
            _first_conversation(),
            _first_order(),
        )
        .where(Invitation.created_at >= since)
        .order_by(Invitation.created_at)
        .limit(MAX_ROWS)
    )
    groups = {True: _Tally(), False: _Tally()}
    by_offer: dict[str, _Tally] = defaultdict(_Tally)
    by_day: dict[str, dict[bool, _Tally]] = defaultdict(lambda: {True: _Tally(), False: _Tally()})
    for held, kind, answer, at, conv_at, order_at in rows.all():
        # A row's time read back through a subquery may come without its zone (SQLite): it is UTC.
        def near(t: datetime | str | None, at: datetime = at) -> bool:
            if isinstance(t, str):
                t = datetime.fromisoformat(t)
            return t is not None and t.replace(tzinfo=at.tzinfo) - at <= window

        seen = (not held, answer, near(conv_at), near(order_at))
        groups[held].add(*seen)
        if not held:
            by_offer[kind].add(*seen)
        by_day[at.date().isoformat()][held].add(*seen)
    return ResultsOut(
        days=days,
        invited=groups[False].out(),
        held_out=groups[True].out(),
        by_offer={k: t.out() for k, t in sorted(by_offer.items())},
        by_day=[Day(day=d, invited=g[False].out(), held_out=g[True].out()) for d, g in sorted(by_day.items())],
    )

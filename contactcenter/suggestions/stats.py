"""Figures per rule and version from the suggestion records (read-only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.suggestions.models import SuggestionRecord as R
from contactcenter.suggestions.schemas import Stats, VersionStats


def _count(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


_FIGURES = (
    _count(R.held_out.is_(False)),
    _count(R.held_out.is_(False) & R.accepted_at.is_not(None)),
    _count(R.held_out.is_(False) & R.dismissed_at.is_not(None)),
    _count(R.held_out.is_(False) & R.converted_at.is_not(None)),
    _count(R.held_out.is_(True)),
    _count(R.held_out.is_(True) & R.converted_at.is_not(None)),
)


def _stats(shown: int, accepted: int, dismissed: int, converted: int, holdout: int, held_conv: int) -> Stats:
    rate = converted / shown if shown else None
    held_rate = held_conv / holdout if holdout else None
    return Stats(
        shown=shown,
        accepted=accepted,
        dismissed=dismissed,
        converted=converted,
        conversion_rate=rate,
        holdout=holdout,
        holdout_converted=held_conv,
        uplift=rate - held_rate if rate is not None and held_rate is not None else None,
    )


async def by_rule(session: AsyncSession) -> dict[str, Stats]:
    """rule id -> figures over all its versions."""
    rows = await session.execute(select(R.rule_id, *_FIGURES).group_by(R.rule_id))
    return {rid: _stats(*(int(x) for x in figs)) for rid, *figs in rows.all()}


async def by_version(session: AsyncSession, *, rule_id: str) -> list[VersionStats]:
    """One rule's figures per version, oldest first."""
    rows = await session.execute(
        select(R.version, *_FIGURES).where(R.rule_id == rule_id).group_by(R.version).order_by(R.version)
    )
    return [VersionStats(version=v, **_stats(*(int(x) for x in figs)).model_dump()) for v, *figs in rows.all()]

"""Failed self-service for the writers (issue 17 item 5): the texts visitors searched before they opened
nothing and asked for help, grouped (case and spacing ignored), most frequent first, with how often, when
last, and what they asked for instead; so the writers know which articles are missing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.kb.models import KbFailedSearch
from contactcenter.kb.schemas import FailedQuery, FailedTop

MAX_GROUPS = 20_000  # distinct (text, language, asked) rows read per period


def key(query: str) -> str:
    """One group for "Card  blocked" and "card blocked"."""
    return " ".join(query.casefold().split())


def _common(counts: dict[str, int]) -> list[str]:
    return sorted(counts, key=lambda k: (-counts[k], k))


@dataclass
class _Group:
    count: int = 0
    last_at: datetime | None = None
    chat: int = 0
    callback: int = 0
    spellings: dict[str, int] = field(default_factory=dict)
    langs: dict[str, int] = field(default_factory=dict)

    def add(self, query: str, lang: str, asked: str, n: int, last: datetime) -> None:
        self.count += n
        self.last_at = last if self.last_at is None or last > self.last_at else self.last_at
        self.chat += n if asked == "chat" else 0
        self.callback += n if asked == "callback" else 0
        self.spellings[query] = self.spellings.get(query, 0) + n
        self.langs[lang] = self.langs.get(lang, 0) + n

    def out(self) -> FailedQuery:
        assert self.last_at is not None
        return FailedQuery(
            query=_common(self.spellings)[0], count=self.count, last_at=self.last_at, chat=self.chat,
            callback=self.callback, langs=_common(self.langs),
        )  # fmt: skip


def top(rows: Iterable[tuple[Any, ...]], *, limit: int) -> list[FailedQuery]:
    groups: dict[str, _Group] = {}
    for query, lang, asked, n, last in rows:
        groups.setdefault(key(query), _Group()).add(query, lang, asked, int(n), last)
    found = [g.out() for g in groups.values()]
    found.sort(key=lambda q: (-q.count, -q.last_at.timestamp(), q.query))
    return found[:limit]


async def report(session: AsyncSession, *, days: int, limit: int, now: datetime) -> FailedTop:
    since = now - timedelta(days=days)
    rows = await session.execute(
        select(
            KbFailedSearch.query, KbFailedSearch.lang, KbFailedSearch.asked, func.count(), func.max(KbFailedSearch.at)
        )
        .where(KbFailedSearch.at >= since)
        .group_by(KbFailedSearch.query, KbFailedSearch.lang, KbFailedSearch.asked)
        .limit(MAX_GROUPS)
    )
    read = []
    for query, lang, asked, n, last in rows.all():
        if isinstance(last, str):  # SQLite hands max() of a time back as text: it is UTC
            last = datetime.fromisoformat(last)
        read.append((query, lang, asked, n, last.replace(tzinfo=now.tzinfo) if last.tzinfo is None else last))
    queries = top(read, limit=limit)
    total = sum(int(n) for _, _, _, n, _ in read)
    return FailedTop(days=days, total=total, distinct=len({key(r[0]) for r in read}), queries=queries)

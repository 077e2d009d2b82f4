"""Full-text search on either backend, from any user input (decision 40).

The query is never passed to the engine's own syntax: it is folded and split into words, and only those
words, quoted, reach FTS5 MATCH or to_tsquery, so "NEAR(", quotes, `*` or `:` in a search never raise. Words
are OR-ed and ranked (a question in natural language shares a few words with its answer, not all), the last
word also as a prefix (answers while the customer types). Runs of Chinese, Japanese or Korean characters have
no spaces for a tokenizer to split on: they are matched as character pairs, by substring, on both backends."""

from __future__ import annotations

import re

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.kb.render import fold

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
MAX_WORDS = 12
MAX_PAIRS = 8


def words(query: str) -> tuple[list[str], list[str]]:
    """(words for the index, CJK character pairs for substring matching)."""
    folded = fold(query)
    pairs: list[str] = []
    for run in _CJK.findall(folded):
        pairs.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    rest = _CJK.sub(" ", folded)
    found = [w for w in _WORD.findall(rest) if len(w) > 1 or w.isdigit()]
    return found[:MAX_WORDS], list(dict.fromkeys(pairs))[:MAX_PAIRS]


async def _fts_sqlite(session: AsyncSession, ws: list[str], langs: list[str], limit: int) -> list[int]:
    terms = [f'"{w}"' for w in ws] + [f'"{ws[-1]}"*']
    q = text(
        "SELECT t.id FROM kb_fts f JOIN kb_translations t ON t.id = f.rowid"
        " JOIN kb_articles a ON a.id = t.article_id"
        " WHERE kb_fts MATCH :match AND a.status = 'published' AND t.lang IN :langs"
        " ORDER BY bm25(kb_fts, 4.0, 1.0) LIMIT :limit"
    ).bindparams(bindparam("langs", expanding=True))
    rows = await session.execute(q, {"match": " OR ".join(terms), "langs": langs, "limit": limit})
    return [int(r[0]) for r in rows]


async def _fts_postgres(session: AsyncSession, ws: list[str], langs: list[str], limit: int) -> list[int]:
    # Words are \w+ only, so nothing in them is tsquery syntax.
    query = " | ".join([*ws, f"{ws[-1]}:*"])
    q = text(
        "SELECT t.id FROM kb_translations t JOIN kb_articles a ON a.id = t.article_id"
        " WHERE t.search @@ to_tsquery('simple', :q) AND a.status = 'published' AND t.lang IN :langs"
        " ORDER BY ts_rank(t.search, to_tsquery('simple', :q)) DESC, t.id LIMIT :limit"
    ).bindparams(bindparam("langs", expanding=True))
    rows = await session.execute(q, {"q": query, "langs": langs, "limit": limit})
    return [int(r[0]) for r in rows]


async def _pairs(session: AsyncSession, pairs: list[str], langs: list[str], limit: int) -> list[int]:
    score = " + ".join(f"(CASE WHEN t.search_text LIKE :p{i} THEN 1 ELSE 0 END)" for i in range(len(pairs)))
    q = text(
        f"SELECT t.id, ({score}) AS score FROM kb_translations t JOIN kb_articles a ON a.id = t.article_id"
        " WHERE a.status = 'published' AND t.lang IN :langs AND (" + score + ") > 0"
        " ORDER BY score DESC, t.id LIMIT :limit"
    ).bindparams(bindparam("langs", expanding=True))
    params: dict[str, object] = {f"p{i}": f"%{p}%" for i, p in enumerate(pairs)}
    rows = await session.execute(q, {**params, "langs": langs, "limit": limit})
    return [int(r[0]) for r in rows]


async def find(session: AsyncSession, *, query: str, langs: list[str], limit: int) -> list[int]:
    """Translation ids of published articles in `langs`, best first."""
    ws, pairs = words(query)
    postgres = session.get_bind().dialect.name == "postgresql"
    found: list[int] = []
    if pairs:
        found = await _pairs(session, pairs, langs, limit)
    if ws and len(found) < limit:
        fts = _fts_postgres if postgres else _fts_sqlite
        found += [i for i in await fts(session, ws, langs, limit) if i not in found]
    return found[:limit]


async def index(session: AsyncSession, *, translation_id: int, title: str, body: str) -> None:
    """Keep SQLite's FTS5 table in step (PostgreSQL's column is generated from search_text)."""
    if session.get_bind().dialect.name == "postgresql":
        return
    await session.execute(text("DELETE FROM kb_fts WHERE rowid = :id"), {"id": translation_id})
    await session.execute(
        text("INSERT INTO kb_fts (rowid, title, body) VALUES (:id, :title, :body)"),
        {"id": translation_id, "title": fold(title), "body": fold(body)},
    )


async def unindex(session: AsyncSession, *, translation_ids: list[int]) -> None:
    if session.get_bind().dialect.name == "postgresql" or not translation_ids:
        return
    q = text("DELETE FROM kb_fts WHERE rowid IN :ids").bindparams(bindparam("ids", expanding=True))
    await session.execute(q, {"ids": translation_ids})

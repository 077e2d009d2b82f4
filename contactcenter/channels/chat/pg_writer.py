"""The chat writer's batches on PostgreSQL: one transaction on an asyncpg connection of the writer's own.

Through SQLAlchemy a batch was seven statements, each compiled, bound row by row and sent after a pool
checkout with a pre-ping (three more round trips): the writer was the largest part of a PostgreSQL chat
server's CPU. Here every statement takes whole arrays (`unnest`), is prepared once per connection, and
numbering a batch is one `UPDATE ... FROM unnest(...) RETURNING`. The steps that decide what is stored stay
batch.py's, shared with the SQLAlchemy and SQLite paths; the writer falls back to the one-by-one path
(SQLAlchemy) whenever a batch here fails. Decision 30.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.channels.chat import batch
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.batch import Numbered, Posted, PostIn, ReadRow
from contactcenter.channels.chat.schemas import MessageOut, SenderKind
from contactcenter.conversations import service as conversations

_FOUND = (
    "SELECT conversation_id, sender_kind, client_id, seq, sender_name, body, private, attachments::text,"
    " created_at FROM chat_messages WHERE conversation_id = ANY($1::text[]) AND client_id = ANY($2::text[])"
)
# Numbers handed out and read back in one statement; the updated rows stay locked against a close until
# the commit, so the numbers are ours.
_NUMBER = (
    "UPDATE chat_threads AS t SET last_seq = t.last_seq + n.n FROM unnest($1::text[], $2::int[]) AS n(id, n)"
    " WHERE t.conversation_id = n.id AND NOT t.closed RETURNING t.conversation_id, t.last_seq"
)
_MESSAGES = (
    "INSERT INTO chat_messages (conversation_id, seq, sender_kind, sender_id, sender_name, body, private,"
    " attachments, client_id, created_at) SELECT m.c, m.s, m.k, m.i, m.n, m.b, m.p, '[]'::jsonb, m.cl, $9"
    " FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[], $6::text[], $7::bool[], $8::text[])"
    " AS m(c, s, k, i, n, b, p, cl)"
)
_READ = (
    "UPDATE chat_threads AS t SET {col} = r.seq FROM unnest($1::text[], $2::int[]) AS r(id, seq)"
    " WHERE t.conversation_id = r.id AND t.{col} < r.seq AND t.last_seq >= r.seq"
)
_READ_ROWS = (
    "SELECT conversation_id, customer_read_seq, agent_read_seq FROM chat_threads"
    " WHERE conversation_id = ANY($1::text[])"
)


def asyncpg_dsn(url: str) -> str:
    """The database URL as asyncpg takes it (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgBatchWriter:
    """Owns one asyncpg connection, used by one batch at a time (the ChatWriter's task runs them in turn);
    a connection that failed is dropped and the next batch opens a new one."""

    def __init__(self, url: str) -> None:
        self.dsn = asyncpg_dsn(url)
        self.conn: Any = None

    async def post_messages(self, bus: Bus, posts: Sequence[PostIn]) -> list[Posted]:
        """batch.post_messages on this writer's connection; raises when the transaction failed."""
        conn = await self._connection()
        try:
            async with conn.transaction():
                res = await self._write(conn, posts)
        except BaseException:
            await self._drop_if_broken()
            raise
        await batch.announce_stored(bus, res.stored, res.touches, res.touch_ids, res.now)
        return batch.results_for(posts, res.found, res.failed, res.stored)

    async def mark_read_many(self, bus: Bus, reads: Mapping[tuple[str, SenderKind], int]) -> None:
        """batch.mark_read_many on this writer's connection."""
        conn = await self._connection()
        try:
            async with conn.transaction():
                rows = await self._reads(conn, reads)
        except BaseException:
            await self._drop_if_broken()
            raise
        await batch.announce_reads(bus, reads, rows)

    async def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                await conn.close(timeout=2)
            except Exception:
                conn.terminate()

    async def _connection(self) -> Any:
        if self.conn is None or self.conn.is_closed():
            self.conn = await asyncpg.connect(self.dsn, timeout=5)
        return self.conn

    async def _drop_if_broken(self) -> None:
        # A failed statement inside the transaction leaves the connection usable (the block rolled back);
        # a lost or cancelled one may not be: open a fresh one for the next batch.
        if self.conn is not None and (self.conn.is_closed() or self.conn.is_in_transaction()):
            self.conn.terminate()
            self.conn = None

    async def _write(self, conn: Any, posts: Sequence[PostIn]) -> batch.Result:
        res = batch.Result()
        res.found = await _found(conn, posts)
        fresh, counts = batch.fresh_posts(posts, res.found)
        numbered: dict[str, Numbered] = {}
        if counts:
            ids = list(counts)
            lasts = {r[0]: r[1] for r in await conn.fetch(_NUMBER, ids, [counts[c] for c in ids])}
            who = await conversations.audience_asyncpg(conn, ids)
            numbered = {cid: (last, who[cid][1], who[cid][2]) for cid, last in lasts.items() if cid in who}
            res.failed = batch.refusals([c for c in counts if c not in numbered], set(who))
        res.stored, res.touches = batch.number(fresh, counts, numbered, res.now)
        if res.stored:
            cols: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [])
            for key, (out, _, _) in res.stored.items():
                p = fresh[key]
                row = (out.conversation_id, out.seq, p.sender.value, p.sender_id, p.sender_name, p.body)
                for col, value in zip(cols, (*row, p.private, p.client_id), strict=True):
                    col.append(value)
            await conn.execute(_MESSAGES, *cols, res.now)
            res.touch_ids = await ccr.insert_touches_asyncpg(conn, res.touches, res.now)
        return res

    async def _reads(self, conn: Any, reads: Mapping[tuple[str, SenderKind], int]) -> list[ReadRow]:
        for reader, col in ((SenderKind.customer, "customer_read_seq"), (SenderKind.agent, "agent_read_seq")):
            moves = [(cid, seq) for (cid, who), seq in reads.items() if who is reader]
            if moves:
                await conn.execute(_READ.format(col=col), [m[0] for m in moves], [m[1] for m in moves])
        ids = list({cid for cid, _ in reads})
        seqs = await conn.fetch(_READ_ROWS, ids)
        who = await conversations.audience_asyncpg(conn, ids)
        return [(r[0], who[r[0]][1], who[r[0]][2], r[1], r[2]) for r in seqs if r[0] in who]


async def _found(conn: Any, posts: Sequence[PostIn]) -> dict[tuple[str, str, str], MessageOut]:
    keys = {p.key for p in posts}
    rows = await conn.fetch(_FOUND, list({k[0] for k in keys}), list({k[2] for k in keys}))
    found: dict[tuple[str, str, str], MessageOut] = {}
    for conv, kind, client, seq, name, body, private, attachments, created in rows:
        if (key := (conv, kind, client)) in keys:
            found[key] = chat.row_message(conv, seq, kind, name, body, private, attachments, client, created)
    return found

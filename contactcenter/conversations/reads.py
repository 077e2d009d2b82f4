"""Reading conversations for sockets and lists: Core statements straight into schemas.

A socket's hello reads its open conversations, and after a process dies a thousand sockets say hello at
once on the survivor: ORM entities (identity map, instance state) cost that survivor more than the rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Row, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.conversations.models import Conversation
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import driver_fetch, driver_reads

OPEN = ("queued", "assigned")
_T = Conversation.__table__
# The same reads in PostgreSQL's own words, for the driver (every column of the table, as the Core path).
_COLS = ", ".join(c.name for c in _T.c)
_PG_CUSTOMER = (
    f"SELECT {_COLS} FROM conversations WHERE (customer_id = $1 AND status = ANY($2::text[]))"
    " OR id = ANY($3::text[]) ORDER BY created_at"
)
_PG_AGENT = (
    f"SELECT {_COLS} FROM conversations WHERE (agent_id = $1 AND status = 'assigned')"
    " OR id = ANY($2::text[]) ORDER BY created_at"
)


def _out(row: Row[tuple[object, ...]]) -> ConversationOut:
    return ConversationOut.model_validate(row._asdict())


async def _outs(session: AsyncSession, q: Select[tuple[object, ...]]) -> list[ConversationOut]:
    return [_out(r) for r in await session.execute(q)]


def _customers(customer_id: int) -> ColumnElement[bool]:
    return (_T.c.customer_id == customer_id) & _T.c.status.in_(OPEN)


def _agents(agent_id: int) -> ColumnElement[bool]:
    return (_T.c.agent_id == agent_id) & (_T.c.status == "assigned")


async def open_for_customer(
    session: AsyncSession, *, customer_id: int, channel: str | None = None
) -> list[ConversationOut]:
    """A customer's conversations that are not closed (of one channel, or all), oldest first."""
    q = select(_T).where(_customers(customer_id))
    if channel is not None:
        q = q.where(_T.c.channel == channel)
    return await _outs(session, q.order_by(_T.c.created_at))


async def open_for_agent(session: AsyncSession, *, agent_id: int) -> list[ConversationOut]:
    """Conversations assigned to an agent and still open, every channel, oldest first."""
    return await _outs(session, select(_T).where(_agents(agent_id)).order_by(_T.c.created_at))


async def for_socket(
    session: AsyncSession, *, customer_id: int | None = None, agent_id: int | None = None, resumed: Sequence[str] = ()
) -> tuple[list[ConversationOut], list[ConversationOut]]:
    """What a socket's hello needs, in one statement: the side's open conversations (a customer's, or those
    assigned to an agent), oldest first, and those of `resumed` not among them (closed, or moved to someone
    else, while the client was away). The caller checks the second list against who may see it."""
    if (customer_id is None) == (agent_id is None):
        raise ValueError("one of customer_id and agent_id")
    wanted = [i for i in dict.fromkeys(resumed) if "\x00" not in i]  # PostgreSQL refuses NUL in text
    if driver_reads(session):
        args = (customer_id, list(OPEN), wanted) if customer_id is not None else (agent_id, wanted)
        rows = await driver_fetch(session, _PG_CUSTOMER if customer_id is not None else _PG_AGENT, *args)
        found = [ConversationOut.model_validate(dict(r)) for r in rows]
    else:
        mine = _customers(customer_id) if customer_id is not None else _agents(agent_id or 0)
        q = select(_T).where(or_(mine, _T.c.id.in_(wanted)) if wanted else mine).order_by(_T.c.created_at)
        found = await _outs(session, q)
    opened: list[ConversationOut] = []
    others: list[ConversationOut] = []
    for c in found:
        if customer_id is not None:
            is_mine = c.customer_id == customer_id and c.status in OPEN
        else:
            is_mine = c.agent_id == agent_id and c.status == "assigned"
        (opened if is_mine else others).append(c)
    return opened, others

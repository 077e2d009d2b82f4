"""Following a conversation when a socket says hello: nothing missed, nothing read that need not be."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus.memory import MemoryBus
from contactcenter.channels.chat import batch, messages
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.events import message_posted
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import Database
from contactcenter.realtime.channels import ChannelHooks, Registry
from contactcenter.realtime.connection import Connection, Who, with_positions
from contactcenter.realtime.schemas import CORE_FRAMES
from tests.chat.test_writer import conversation, post


class Recorder:
    """Stands in for the websocket: what the server would have sent, as JSON text."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int = 1000) -> None:
        pass


class Counted:
    """The chat's catch-up hook, counting its reads."""

    def __init__(self) -> None:
        self.reads = 0

    async def __call__(self, session: AsyncSession, cid: str, after: int, agent: bool) -> Any:
        self.reads += 1
        return await messages.catch_up(session, cid, after, agent)


async def _setup(db: Database, n: int) -> tuple[ConversationOut, Counted, Registry]:
    conv_id, _ = await conversation(db)
    async with db.session() as s:
        await batch.post_messages(s, MemoryBus(), posts=[post(conv_id, f"m{i}") for i in range(n)])
    counted = Counted()
    registry = Registry(CORE_FRAMES)
    registry.add(ChannelHooks(name=chat.CHANNEL, frames=[], catch_up=counted, positions=chat.positions))
    async with db.session() as s:
        conv = await conversations.get(s, conversation_id=conv_id)
        (conv,) = await with_positions(s, registry, [conv])
    return conv, counted, registry


def _connection(db: Database, registry: Registry, customer: int) -> tuple[Connection, Recorder]:
    ws = Recorder()
    return Connection(ws, Who("customer", customer, "Wren", "customer"), db, registry), ws  # type: ignore[arg-type]


async def _drain(conn: Connection) -> None:
    while conn.sender is not None:
        await conn.sender


async def test_an_up_to_date_resume_reads_nothing(db: Database) -> None:
    conv, counted, registry = await _setup(db, 3)
    conn, ws = _connection(db, registry, conv.customer_id)
    await conn.track(conv, after=3)
    await _drain(conn)
    assert counted.reads == 0 and conn.delivered[conv.id] == 3
    assert [f for f in ws.sent if '"type":"message"' in f] == []


async def test_a_resume_behind_reads_what_it_missed(db: Database) -> None:
    conv, counted, registry = await _setup(db, 3)
    conn, ws = _connection(db, registry, conv.customer_id)
    await conn.track(conv, after=1)
    await _drain(conn)
    assert counted.reads == 1 and conn.delivered[conv.id] == 3
    assert sum('"type":"message"' in f for f in ws.sent) == 2


async def test_an_item_announced_between_the_read_and_the_follow_is_not_lost(db: Database) -> None:
    conv, counted, registry = await _setup(db, 3)  # the welcome read saw 3 messages
    conn, ws = _connection(db, registry, conv.customer_id)
    async with db.session() as s:  # a 4th is stored and announced before the socket follows
        (res,) = await batch.post_messages(s, MemoryBus(), posts=[post(conv.id, "m3")])
    assert not isinstance(res, Exception)
    await conn.deliver(message_posted(res[0], customer_id=conv.customer_id, agent_id=conv.agent_id))
    await conn.track(conv, after=3)
    await _drain(conn)
    assert counted.reads == 1 and conn.delivered[conv.id] == 4
    assert sum('"type":"message"' in f for f in ws.sent) == 1


async def test_a_session_recheck_closes_only_sockets_it_looked_up(db: Database) -> None:
    # A console that says hello while the periodic check reads the sessions was verified at hello: the
    # check's answer (which does not mention its session) must not close it.
    from contactcenter.realtime.revocation import Revocation

    registry = Registry(CORE_FRAMES)
    revocation = Revocation(db, period_s=60)
    ended, _ = _connection(db, registry, 1)
    joined, _ = _connection(db, registry, 2)
    revocation.track(ended, "hash-of-an-ended-session")
    checked = set(revocation.sessions.values())  # what the check reads...
    revocation.track(joined, "hash-of-a-new-session")  # ...while this socket says hello
    assert revocation._close_stale(checked, live=set()) == 1
    assert ended.close_code == 4401 and joined.close_code is None

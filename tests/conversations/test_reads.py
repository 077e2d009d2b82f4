"""A socket's hello reads its open conversations and the ones it resumes in one statement; the split must
never show a socket a conversation that is no longer its own as open."""

from __future__ import annotations

from datetime import timedelta

from contactcenter.ccr.models import Customer
from contactcenter.conversations import reads
from contactcenter.conversations.models import Conversation
from contactcenter.db import Database, utcnow


async def _seed(db: Database) -> tuple[int, int]:
    t0 = utcnow()
    async with db.session() as s:
        me, other = Customer(display_name="Me", profile={}), Customer(display_name="Other", profile={})
        s.add_all([me, other])
        await s.flush()
        rows = [
            ("c-queued", me.id, "queued", None),
            ("c-mine", me.id, "assigned", 7),
            ("c-closed", me.id, "closed", 7),
            ("c-moved", me.id, "assigned", 8),  # transferred from agent 7 to agent 8
            ("c-other", other.id, "assigned", 7),
        ]
        for i, (cid, customer, status, agent) in enumerate(rows):
            s.add(
                Conversation(
                    id=cid,
                    customer_id=customer,
                    customer_name="x",
                    status=status,
                    agent_id=agent,
                    created_at=t0 + timedelta(seconds=i),
                )
            )
        await s.commit()
        return me.id, other.id


async def test_a_customer_gets_its_open_conversations_and_the_closed_one_it_resumed(db: Database) -> None:
    me, _ = await _seed(db)
    async with db.reader() as s:
        opened, others = await reads.for_socket(s, customer_id=me, resumed=["c-closed", "c-mine", "nope"])
        core = await reads.open_for_customer(s, customer_id=me)
    assert [c.id for c in opened] == ["c-queued", "c-mine", "c-moved"]  # oldest first
    assert opened == core  # PostgreSQL's driver path reads every field as the Core path does (times in UTC)
    assert all(c.created_at.utcoffset() is not None for c in opened)
    assert [c.id for c in others] == ["c-closed"]  # an unknown id is simply not there


async def test_an_agent_never_sees_a_moved_or_foreign_conversation_as_its_own(db: Database) -> None:
    await _seed(db)
    async with db.reader() as s:
        opened, others = await reads.for_socket(s, agent_id=7, resumed=["c-moved", "c-closed", "c-moved", "bad\x00id"])
        plain = await reads.open_for_agent(s, agent_id=7)
    assert [c.id for c in opened] == ["c-mine", "c-other"] == [c.id for c in plain]
    # Returned for the caller to check (the hub drops what the socket may not see), never as open.
    assert sorted(c.id for c in others) == ["c-closed", "c-moved"]
    assert all(c.agent_id != 7 or c.status == "closed" for c in others)


async def test_no_resume_reads_only_the_sides_own(db: Database) -> None:
    me, other = await _seed(db)
    async with db.reader() as s:
        opened, others = await reads.for_socket(s, customer_id=other)
        mine = await reads.open_for_customer(s, customer_id=me, channel="chat")
    assert ([c.id for c in opened], others) == (["c-other"], [])
    assert [c.id for c in mine] == ["c-queued", "c-mine", "c-moved"]


async def test_a_writing_session_never_reads_past_what_it_has_not_flushed(db: Database) -> None:
    """The driver's shortcut is for reader sessions only: in a session with pending changes the Core path
    (which flushes first) must answer."""
    me, _ = await _seed(db)
    async with db.session() as s:
        conv = await s.get(Conversation, "c-queued")
        assert conv is not None
        conv.status = "closed"  # pending, not flushed
        opened, _ = await reads.for_socket(s, customer_id=me)
        await s.rollback()
    assert "c-queued" not in [c.id for c in opened]

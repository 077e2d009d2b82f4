"""Catch-up reads (a resumed socket's missed messages) go straight to the driver on PostgreSQL: they must
return exactly what the ORM path returns, private notes kept from customers, in order, page by page."""

from __future__ import annotations

import pytest

from contactcenter.ccr.models import Customer
from contactcenter.channels.chat.messages import messages_after
from contactcenter.channels.chat.models import ChatMessage, ChatThread
from contactcenter.conversations.models import Conversation
from contactcenter.db import Database

FILE = {"id": "a1", "name": "quote.pdf", "type": "application/pdf", "size": 1234}


async def _seed(db: Database) -> str:
    async with db.session() as s:
        cust = Customer(display_name="C", profile={})
        s.add(cust)
        await s.flush()
        s.add(Conversation(id="conv", customer_id=cust.id, customer_name="C", status="assigned", agent_id=3))
        await s.flush()
        s.add(ChatThread(conversation_id="conv", last_seq=6))
        for seq in range(1, 7):
            s.add(
                ChatMessage(
                    conversation_id="conv",
                    seq=seq,
                    sender_kind="agent" if seq % 2 == 0 else "customer",
                    sender_id=3 if seq % 2 == 0 else None,
                    sender_name="Ann" if seq % 2 == 0 else "C",
                    body=f"m{seq} <b>",
                    private=seq == 4,
                    attachments=[FILE] if seq == 5 else [],
                    client_id=f"k{seq}",
                )
            )
        await s.commit()
    return "conv"


@pytest.mark.parametrize("include_private", [True, False])
async def test_the_reader_path_returns_what_the_orm_path_returns(db: Database, include_private: bool) -> None:
    conv = await _seed(db)
    async with db.session() as s:
        orm = await messages_after(s, conversation_id=conv, after=1, include_private=include_private)
    async with db.reader() as s:
        fast = await messages_after(s, conversation_id=conv, after=1, include_private=include_private)
        page = await messages_after(s, conversation_id=conv, after=1, include_private=include_private, limit=2)
    assert fast == orm
    assert [m.seq for m in fast] == ([2, 3, 4, 5, 6] if include_private else [2, 3, 5, 6])
    assert [m.seq for m in page] == [2, 3]
    assert next(m for m in fast if m.seq == 5).attachments[0].name == "quote.pdf"
    assert all(m.at.utcoffset() is not None for m in fast)

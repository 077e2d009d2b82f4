"""A chat message's re-run hint goes to whoever answers the conversation now, as the real-time topic told the
runtime (no database read per message), and falls back to the database for conversations it never heard of."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from contactcenter.bus import Bus
from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.events import TOPIC_TOUCHES, touch_logged_json
from contactcenter.conversations.events import ConversationChanged
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import Database, utcnow
from contactcenter.integration import service as integration
from contactcenter.integration.models import Product
from contactcenter.integration.schemas import OrderIn
from contactcenter.realtime.events import TOPIC_REALTIME, Push
from contactcenter.settings import Settings
from contactcenter.suggestions.events import SuggestionsFrame
from contactcenter.suggestions.runtime import Runtime
from tests.chat.test_writer import conversation
from tests.conftest import _fresh_sqlite


def _changed(conv_id: str, customer: int, status: str, agent: int | None) -> ConversationChanged:
    out = ConversationOut(
        id=conv_id,
        customer_id=customer,
        channel="chat",
        queue="general",
        status=status,  # type: ignore[arg-type]
        agent_id=agent,
        customer_name="Wren",
        topic=None,
        page_url=None,
        created_at=utcnow(),
        closed_at=None,
    )
    return ConversationChanged(conversation=out)


def _message_touch(touch_id: int, customer: int, conv_id: str) -> str:
    return touch_logged_json(
        touch_id=touch_id,
        customer_id=customer,
        channel="chat",
        kind="message",
        occurred_at=utcnow(),
        summary="hello",
        conversation_id=conv_id,
    )


@dataclass
class Hint:
    conversation_id: str
    agent_id: int | None


async def _hints(bus: Bus, runtime: Runtime, data: str) -> list[Hint]:
    async with bus.subscribe(TOPIC_REALTIME) as sub:
        await runtime.handle(data)
        got = []
        while (msg := await sub.get(timeout=0.1)) is not None:
            push = Push.model_validate_json(msg.data)
            frame = SuggestionsFrame.model_validate_json(push.frame)
            assert frame.conversation_id == push.to.conversation_id
            got.append(Hint(frame.conversation_id, push.to.agent_id))
        return got


async def test_hints_follow_transfers_and_closes_heard_on_the_bus(tmp_path: Path, sqlite_template: Path) -> None:
    settings = Settings(database_url=_fresh_sqlite(sqlite_template, tmp_path), secret_key="t" * 40)
    db, bus = Database(settings.database_url), MemoryBus()
    try:
        runtime = Runtime(settings=settings, db=db, bus=bus)
        stored, customer = await conversation(db, agent_id=7)  # in the database, assigned to 7
        unheard = str(uuid.uuid4())
        for event in (_changed(unheard, customer, "assigned", 3), _changed(unheard, customer, "assigned", 4)):
            await runtime.handle(event.model_dump_json())  # as heard from another process: text only
        # A transfer from 3 to 4 was heard: the hint goes to 4 (the database does not even know this one).
        assert [
            (h.conversation_id, h.agent_id) for h in await _hints(bus, runtime, _message_touch(1, customer, unheard))
        ] == [(unheard, 4)]
        # Never heard of: read from the database.
        assert [
            (h.conversation_id, h.agent_id) for h in await _hints(bus, runtime, _message_touch(2, customer, stored))
        ] == [(stored, 7)]
        closed = _changed(unheard, customer, "closed", 4)
        await runtime.handle(closed.model_dump_json(), closed)  # in process: the object itself
        runtime.message_reruns.clear()
        assert await _hints(bus, runtime, _message_touch(3, customer, unheard)) == []
        await asyncio.sleep(0)
    finally:
        await db.dispose()


async def test_a_merge_heard_on_the_touches_topic_refreshes_the_targets_facts(
    tmp_path: Path, sqlite_template: Path
) -> None:
    settings = Settings(database_url=_fresh_sqlite(sqlite_template, tmp_path), secret_key="t" * 40)
    db, bus = Database(settings.database_url), MemoryBus()
    try:
        runtime = Runtime(settings=settings, db=db, bus=bus)
        conv, target = await conversation(db, agent_id=7)
        _, source = await conversation(db, status="closed", agent_id=None)

        async def owned() -> list[str]:
            async with db.session() as s:
                facts = await runtime.facts.gather(s, customer_id=target, conversation_id=conv, contact={})
            assert facts is not None
            return list(facts["products"]["owned"])

        assert await owned() == []  # now cached for the conversation
        async with db.session() as s:
            s.add(Product(sku="FUND-1", name="Global fund", category="funds", price=Decimal(100)))
            await s.commit()
            await integration.record_order(s, bus, data=OrderIn(customer_id=source, sku="FUND-1", amount=Decimal(9)))
        async with bus.subscribe(TOPIC_TOUCHES) as touches:
            async with db.session() as s:
                await ccr.merge_customers(s, bus, source_id=source, target_id=target, actor_id=1, reason="same")
            heard = await touches.get(timeout=1)
        assert heard is not None
        assert await owned() == []  # the cache does not know yet
        # As heard from another process (text only): the facts are read again, the console is told.
        assert [(h.conversation_id, h.agent_id) for h in await _hints(bus, runtime, heard.data)] == [(conv, 7)]
        assert await owned() == ["FUND-1"]
    finally:
        await db.dispose()


async def test_a_start_touch_before_its_assignment_reads_nothing_the_assignment_hints(
    tmp_path: Path, sqlite_template: Path
) -> None:
    settings = Settings(database_url=_fresh_sqlite(sqlite_template, tmp_path), secret_key="t" * 40)
    db, bus = Database(settings.database_url), MemoryBus()
    try:
        runtime = Runtime(settings=settings, db=db, bus=bus)
        stored, customer = await conversation(db, agent_id=7)
        reads = 0
        hint_open = runtime._hint_open

        async def counted(customer_id: int, only: str | None = None) -> None:
            nonlocal reads
            reads += 1
            await hint_open(customer_id, only)

        runtime._hint_open = counted  # type: ignore[method-assign]
        start = touch_logged_json(
            touch_id=1,
            customer_id=customer,
            channel="chat",
            kind="conversation",
            occurred_at=utcnow(),
            summary="Chat started",
            conversation_id=stored,
        )
        # The start touch of a chat the runtime has not heard assigned: no read, no hint (a burst of starts
        # would be a read each) ...
        assert await _hints(bus, runtime, start) == [] and reads == 0
        # ... the assignment, when it comes, is what tells the agent.
        assigned = _changed(stored, customer, "assigned", 7)
        async with bus.subscribe(TOPIC_REALTIME) as sub:
            await runtime.handle(assigned.model_dump_json())
            msg = await sub.get(timeout=1)
        assert msg is not None and Push.model_validate_json(msg.data).to.agent_id == 7
    finally:
        await db.dispose()

"""Routing after it restarts (a new in-process backend, or Redis lost its keys) rebuilds from the
conversations core: a transferred contact waits in the queue it was sent to, and an agent's open
conversations count against their capacity before anything new is offered."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus.redis import RedisBus
from contactcenter.conversations import service as conversations
from contactcenter.routing import presence
from contactcenter.routing import service as routing
from contactcenter.routing.backend import make_backend
from contactcenter.routing.schemas import QueueIn, TransferIn
from contactcenter.routing.service import Held, Routing
from tests.routing.test_api import Staff, online, people, start_chat

__all__ = ["people"]


async def restart_routing(app: FastAPI) -> None:
    """As after a process restart: routing forgets every contact and agent it knew, queues are loaded again."""
    bus = app.state.bus
    if isinstance(bus, RedisBus):
        keys = [k async for k in bus.client.scan_iter("rt:*")]
        if keys:
            await bus.client.delete(*keys)
    routing.attach(bus, Routing(make_backend(bus, offer_s=20.0), chat_capacity=4))
    async with app.state.db.session() as s:
        await routing.load(s, bus)
        await presence.reenter(s, bus)


async def test_a_transfer_to_another_queue_survives_a_routing_restart(app: FastAPI, people: dict[str, Staff]) -> None:
    bus = app.state.bus
    async with app.state.db.session() as s:
        await routing.put_queue(s, bus, data=QueueIn(id="sales", name="Sales", skills={"mortgages": 1}))
    await online(app, people["a1"])
    conv, _ = await start_chat(app)
    async with app.state.db.session() as s:
        assert (await conversations.get(s, conversation_id=conv)).agent_id == people["a1"].id
        await routing.transfer(
            s, bus, contact_id=conv, data=TransferIn(queue="sales"), by=people["a1"].id, own_only=True
        )
        stored = await conversations.get(s, conversation_id=conv)
    assert (stored.status, stored.queue) == ("queued", "sales")  # nobody has the skill: it waits there
    await restart_routing(app)
    view = await routing.of(bus).backend.contact(conv)
    assert view is not None and (view.queue, view.status) == ("sales", "queued")


async def test_open_conversations_count_against_capacity_after_a_routing_restart(
    app: FastAPI, people: dict[str, Staff]
) -> None:
    bus, a1 = app.state.bus, people["a1"]
    await online(app, a1)
    held = [(await start_chat(app, f"C{i}"))[0] for i in range(4)]  # capacity 4 chats: a1 is full
    async with app.state.db.session() as s:
        assert [c.id for c in await conversations.open_for_agent(s, agent_id=a1.id)] == held
    await restart_routing(app)
    await online(app, a1)  # the console reconnects after the restart
    agent = await routing.of(bus).backend.agent(a1.id)
    assert agent is not None and sorted(agent.held) == sorted(held) and agent.load > 0.99
    extra, _ = await start_chat(app, "Fifth")
    async with app.state.db.session() as s:
        fifth = await conversations.get(s, conversation_id=extra)
        mine = await conversations.open_for_agent(s, agent_id=a1.id)
    assert fifth.status == "queued" and len(mine) == 4  # not a fifth chat for a full agent


async def test_consoles_reconnecting_together_read_the_waiting_contacts_once(
    app: FastAPI, people: dict[str, Staff], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process lost sends its consoles to the survivors at once: each used to read every waiting contact and
    ask routing about each. Once per few seconds per process is enough, except after routing forgot its
    queues (a restart, a flush): then the next console re-enters them at once."""
    bus = app.state.bus
    async with app.state.db.session() as s:
        await routing.put_queue(s, bus, data=QueueIn(id="sales", name="Sales", skills={"mortgages": 1}))
    await online(app, people["a1"])
    waiting = [(await start_chat(app, f"W{i}"))[0] for i in range(2)]
    async with app.state.db.session() as s:
        for cid in waiting:  # to a queue whose skill nobody has: they wait there
            await routing.transfer(
                s, bus, contact_id=cid, data=TransferIn(queue="sales"), by=people["a1"].id, own_only=True
            )
    hooks = routing.contact_hooks()
    assert hooks is not None
    reads = 0
    pending = hooks.pending

    async def counted(session: AsyncSession) -> list[Held]:
        nonlocal reads
        reads += 1
        return await pending(session)

    monkeypatch.setattr(routing, "_hooks", dataclasses.replace(hooks, pending=counted))
    monkeypatch.setattr(routing.of(bus), "reentered_at", float("-inf"))
    await online(app, people["a1"], people["a2"], people["a3"])
    assert reads == 1
    # Routing forgets everything inside the window: the next console's hello re-enters the waiting contacts.
    if isinstance(bus, RedisBus):
        keys = [k async for k in bus.client.scan_iter("rt:*")]
        await bus.client.delete(*keys)
    else:
        routing.of(bus).backend = make_backend(bus, offer_s=20.0)
    await online(app, people["a1"])
    assert reads == 2
    for cid in waiting:
        view = await routing.of(bus).backend.contact(cid)
        assert view is not None and (view.queue, view.status) == ("sales", "queued")

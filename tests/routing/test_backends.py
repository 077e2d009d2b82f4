"""The same routing rules on both backends (the Redis one is routing.lua, so this is what keeps the two
implementations in step)."""

from __future__ import annotations

import pytest

from contactcenter.routing.backend import RoutingBackend
from contactcenter.routing.model import AgentSpec, Channel, ContactSpec, QueueSpec, RoutingError, State

SALES = QueueSpec("sales", {"sales": 1})
SUPPORT = QueueSpec("support", {"support": 2})


async def setup(b: RoutingBackend, *agents: AgentSpec) -> None:
    await b.add_queue(SALES)
    await b.add_queue(SUPPORT)
    for i, a in enumerate(agents):
        await b.add_agent(a, now=0)
        await b.heartbeat(a.id, now=float(i), ttl_s=1000)


def chat(cid: str, queue: str = "sales", prio: int = 0, ch: Channel = Channel.chat) -> ContactSpec:
    return ContactSpec(cid, queue, ch, prio)


async def test_longest_idle_skills_and_weighted_capacity(backend: RoutingBackend) -> None:
    b = backend
    await setup(b, AgentSpec(1, {"sales": 1}), AgentSpec(2, {"sales": 1, "support": 2}), AgentSpec(3, {"support": 1}))
    assert [o.agent_id for o in await b.enqueue(chat("a"), now=5)] == [1]
    assert [o.agent_id for o in await b.enqueue(chat("b"), now=6)] == [2]
    assert [o.agent_id for o in await b.enqueue(chat("s", "support"), now=7)] == [2]  # agent 3's level is too low
    # Agent 1 holds one chat (0.25): three more fit, a call does not.
    assert await b.enqueue(chat("call", ch=Channel.voice), now=8) == []
    view = await b.agent(1)
    assert view is not None and view.state is State.busy and view.load == pytest.approx(0.25)
    c = await b.contact("call")
    assert c is not None and c.status == "queued" and c.position == 0
    assert [q.waiting for q in await b.queue_views()] == [1, 0]


async def test_priority_then_arrival_order(backend: RoutingBackend) -> None:
    b = backend
    await setup(b)
    for cid, prio in (("old", 0), ("vip", 5), ("new", 0), ("vip2", 5)):
        await b.enqueue(chat(cid, prio=prio), now=1)
    positions = [(await b.contact(c)) for c in ("vip", "vip2", "old", "new")]
    assert [p.position for p in positions if p] == [0, 1, 2, 3]
    await b.add_agent(AgentSpec(9, {"sales": 1}, capacity=0.25), now=2)
    offers = await b.heartbeat(9, now=2, ttl_s=100)
    served = []
    while offers:
        served.append(offers[0].contact_id)
        await b.accept(9, offers[0].contact_id, now=3)
        _, offers = await b.finish(offers[0].contact_id, now=3)
    assert served == ["vip", "vip2", "old", "new"]


async def test_decline_timeout_and_wrong_agent(backend: RoutingBackend) -> None:
    b = backend
    await setup(b, AgentSpec(1, {"sales": 1}, capacity=0.25), AgentSpec(2, {"sales": 1}, capacity=0.25))
    [o] = await b.enqueue(chat("a"), now=5)
    assert o.agent_id == 1
    for agent, code in ((2, "offer_not_yours"), (1, "offer_withdrawn")):
        with pytest.raises(RoutingError) as e:
            if code == "offer_withdrawn":
                await b.finish("zzz", now=5)
                await b.accept(agent, "zzz", now=5)
            await b.accept(agent, "a", now=5)
        assert e.value.code == code
    [o2] = await b.decline(1, "a", now=6)
    assert (o2.contact_id, o2.agent_id) == ("a", 2)
    assert [o.agent_id for o in await b.enqueue(chat("b"), now=7)] == [1]
    await b.enqueue(chat("c"), now=8)
    assert await b.tick(now=16) == []
    v2 = await b.agent(2)
    assert v2 is not None and v2.state is State.away and v2.reason == "missed offer" and v2.load == 0
    ca, cc = await b.contact("a"), await b.contact("c")
    assert ca and cc and (ca.status, ca.position, cc.position) == ("queued", 0, 1)
    assert [o.contact_id for o in await b.set_state(2, State.available, now=20)] == ["a"]


async def test_states_presence_and_wrap_up(backend: RoutingBackend) -> None:
    b = backend
    await setup(b, AgentSpec(1, {"sales": 1}), AgentSpec(2, {"sales": 1}))
    [a] = await b.enqueue(chat("a"), now=5)
    await b.accept(a.agent_id, "a", now=5)
    [bo] = await b.enqueue(chat("b"), now=5)
    assert (a.agent_id, bo.agent_id) == (1, 2)
    await b.set_state(2, State.away, now=6, reason="lunch")
    cb = await b.contact("b")
    assert cb is not None and cb.agent == 1
    with pytest.raises(RoutingError):
        await b.set_state(1, State.busy, now=6)
    # Agent 1's presence lapses: the offer of b goes back to the queue, the accepted chat stays theirs.
    await b.tick(now=2000)
    v1 = await b.agent(1)
    assert v1 is not None and v1.state is State.offline and v1.held == {"a": "assigned"}
    cb = await b.contact("b")
    assert cb is not None and (cb.status, cb.position) == ("queued", 0)
    # Back with a heartbeat, into wrap-up, then available when the wrap-up ends.
    await b.heartbeat(1, now=2001, ttl_s=1000)
    await b.finish("b", now=2001)
    await b.set_state(1, State.wrap_up, now=2002, reason="sale", until=2030)
    assert await b.enqueue(chat("d"), now=2003) == []
    assert [o.contact_id for o in await b.tick(now=2030)] == ["d"]


async def test_transfer_and_bad_targets_change_nothing(backend: RoutingBackend) -> None:
    b = backend
    await setup(b, AgentSpec(1, {"sales": 1}), AgentSpec(2, {"support": 2}))
    await b.enqueue(chat("a"), now=5)
    await b.accept(1, "a", now=5)
    for kwargs, code in (({"queue": "nope"}, "queue_not_found"), ({"agent_id": 77}, "agent_not_found")):
        with pytest.raises(RoutingError) as e:
            await b.transfer("a", now=6, **kwargs)  # type: ignore[arg-type]
        assert e.value.code == code
    c = await b.contact("a")
    assert c is not None and (c.agent, c.status) == (1, "assigned")
    [t] = await b.transfer("a", now=6, queue="support")
    assert t.agent_id == 2
    v1 = await b.agent(1)
    assert v1 is not None and v1.load == 0
    await b.accept(2, "a", now=6)
    [t] = await b.transfer("a", now=7, agent_id=1)
    assert t.agent_id == 1
    with pytest.raises(RoutingError):
        await b.enqueue(chat("x", "nope"), now=8)


async def test_handle_times_are_kept(backend: RoutingBackend) -> None:
    for s in (30.0, 60.0):
        await backend.record_handle("sales", s)
    assert sorted(await backend.handle_times("sales")) == [30.0, 60.0]


async def test_auto_accepting_agent_gets_contacts_assigned_without_a_timer(backend: RoutingBackend) -> None:
    b = backend
    await setup(b, AgentSpec(1, {"sales": 1}, auto_accept=True))
    [o] = await b.enqueue(chat("a"), now=5)
    assert o.accepted and o.agent_id == 1
    await b.heartbeat(1, now=500, ttl_s=100_000)
    await b.tick(now=10_000)  # no offer timer: the agent is not moved away for a "missed" offer
    v = await b.agent(1)
    assert v is not None and v.state is State.busy
    c = await b.contact("a")
    assert c is not None and c.status == "assigned" and c.agent == 1
    with pytest.raises(RoutingError) as e:
        await b.accept(1, "a", now=6)
    assert e.value.code == "offer_withdrawn"


async def test_a_heartbeat_after_expiry_but_before_the_tick_keeps_the_agent(backend: RoutingBackend) -> None:
    await setup(backend, AgentSpec(1, {"sales": 1}))  # present until t=1000
    await backend.heartbeat(1, now=1000.5, ttl_s=100)
    await backend.tick(now=1001)
    v = await backend.agent(1)
    assert v is not None and v.state is State.available

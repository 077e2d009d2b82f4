"""The pure routing core: priorities, longest idle, weighted capacity, states, offers, timers."""

from __future__ import annotations

import pytest

from contactcenter.routing.core import Router
from contactcenter.routing.model import AgentSpec, Channel, ContactSpec, QueueSpec, RoutingError, State


def router(*agents: AgentSpec, queues: tuple[QueueSpec, ...] = (QueueSpec("sales", {"sales": 1}),)) -> Router:
    r = Router(offer_s=10)
    for q in queues:
        r.add_queue(q)
    for i, a in enumerate(agents):
        r.add_agent(a, now=0)
        r.heartbeat(a.id, now=float(i), ttl_s=1000)
    return r


def chat(cid: str, queue: str = "sales", priority: int = 0, channel: Channel = Channel.chat) -> ContactSpec:
    return ContactSpec(cid, queue, channel, priority)


def test_longest_idle_eligible_agent_gets_the_contact() -> None:
    r = router(AgentSpec(1, {"sales": 1}), AgentSpec(2, {"sales": 2}), AgentSpec(3, {"support": 1}))
    [o] = r.enqueue(chat("a"), now=5)
    assert o.agent_id == 1  # available since t=0, before agent 2 (t=1); agent 3 lacks the skill
    [o] = r.enqueue(chat("b"), now=6)
    assert o.agent_id == 2  # agent 1 just got work, so agent 2 is now the longest idle


def test_skill_levels_are_minimums() -> None:
    q = QueueSpec("vip", {"sales": 3, "fr": 1})
    r = router(AgentSpec(1, {"sales": 2, "fr": 5}), AgentSpec(2, {"sales": 3, "fr": 1}), queues=(q,))
    assert [o.agent_id for o in r.enqueue(chat("a", "vip"), now=5)] == [2]


def test_weighted_capacity_four_chats_or_one_call() -> None:
    r = router(AgentSpec(1, {"sales": 1}))
    assert len([o for i in range(5) for o in r.enqueue(chat(f"c{i}"), now=5)]) == 4
    assert r.enqueue(chat("call", channel=Channel.voice), now=5) == []
    assert r.agents[1].load == pytest.approx(1.0)
    # Finishing one chat frees a quarter: the waiting chat fits, the call still does not.
    _, offers = r.finish("c0", now=6)
    assert [o.contact_id for o in offers] == ["c4"]
    for cid in ("c1", "c2", "c3", "c4"):
        r.finish(cid, now=7)
    assert r.contacts["call"].agent == 1 and r.agents[1].load == pytest.approx(1.0)


def test_per_agent_weights_override_defaults() -> None:
    r = router(AgentSpec(1, {"sales": 1}, capacity=1.0, weights={"chat": 0.5}))
    offers = [o for i in range(3) for o in r.enqueue(chat(f"c{i}"), now=5)]
    assert [o.contact_id for o in offers] == ["c0", "c1"]


def test_priority_first_then_oldest() -> None:
    r = router()
    for cid, prio in (("old", 0), ("vip", 5), ("new", 0), ("vip2", 5)):
        r.enqueue(chat(cid, priority=prio), now=1)
    assert [r.position(c) for c in ("vip", "vip2", "old", "new")] == [0, 1, 2, 3]
    r.add_agent(AgentSpec(1, {"sales": 1}, capacity=0.25), now=2)
    offers = r.heartbeat(1, now=2, ttl_s=100)
    served = []
    while offers:
        [o] = offers
        served.append(o.contact_id)
        r.accept(1, o.contact_id, now=3)
        _, offers = r.finish(o.contact_id, now=3)
    assert served == ["vip", "vip2", "old", "new"]


def test_decline_and_timeout_reoffer_to_the_next_agent_keeping_the_place() -> None:
    r = router(AgentSpec(1, {"sales": 1}, capacity=0.25), AgentSpec(2, {"sales": 1}, capacity=0.25))
    [o] = r.enqueue(chat("a"), now=5)
    assert o.agent_id == 1
    [o2] = r.decline(1, "a", now=6)
    assert (o2.contact_id, o2.agent_id) == ("a", 2)
    # Agent 1 has room again and gets the next contact. Agent 2 lets "a" time out and is moved away;
    # nobody else will take "a", so it waits at the head of its queue, ahead of later contacts.
    assert [o.agent_id for o in r.enqueue(chat("b"), now=7)] == [1]
    r.enqueue(chat("c"), now=8)
    assert r.tick(now=6 + 10) == []
    assert r.agents[2].state is State.away and r.agents[2].reason == "missed offer"
    assert (r.position("a"), r.position("c")) == (0, 1)
    # Agent 2 comes back: "a" (declined by agent 1 only) is theirs again before "c".
    assert [o.contact_id for o in r.set_state(2, State.available, now=20)] == ["a"]


def test_accepting_someone_elses_or_a_withdrawn_offer_is_refused_and_changes_nothing() -> None:
    r = router(AgentSpec(1, {"sales": 1}), AgentSpec(2, {"sales": 1}))
    [o] = r.enqueue(chat("a"), now=5)
    with pytest.raises(RoutingError) as e:
        r.accept(2, "a", now=6)
    assert e.value.code == "offer_not_yours"
    r.finish("a", now=6)
    with pytest.raises(RoutingError) as e:
        r.accept(o.agent_id, "a", now=7)
    assert e.value.code == "offer_withdrawn"
    assert r.agents[1].load == 0 and r.agents[2].load == 0


def test_going_away_or_offline_gives_offers_back_but_keeps_accepted_contacts() -> None:
    r = router(AgentSpec(1, {"sales": 1}), AgentSpec(2, {"sales": 1}))
    [a] = r.enqueue(chat("a"), now=5)
    r.accept(a.agent_id, "a", now=5)
    [b] = r.enqueue(chat("b"), now=5)
    assert (a.agent_id, b.agent_id) == (1, 2)
    r.set_state(2, State.away, now=6, reason="lunch")
    # b goes to agent 1, who has room; agent 2 keeps nothing.
    assert r.contacts["b"].agent == 1 and r.agents[2].load == 0
    assert r.agents[2].state is State.away and r.agents[2].reason == "lunch"
    # Presence lapses: agent 1 goes offline, the offer of b returns, a stays theirs.
    assert r.tick(now=2000) == []
    assert r.agents[1].state is State.offline and r.contacts["a"].status == "assigned"
    assert r.contacts["b"].status == "queued" and r.position("b") == 0


def test_wrap_up_is_timed_and_busy_cannot_be_set() -> None:
    r = router(AgentSpec(1, {"sales": 1}))
    r.set_state(1, State.wrap_up, now=5, reason="sale", until=35)
    assert r.enqueue(chat("a"), now=6) == []
    assert [o.contact_id for o in r.tick(now=35)] == ["a"]
    assert r.status(r.agents[1]) is State.busy
    with pytest.raises(RoutingError):
        r.set_state(1, State.busy, now=36)


def test_transfer_to_queue_or_agent_and_missing_queue() -> None:
    support = QueueSpec("support", {"support": 1})
    r = router(
        AgentSpec(1, {"sales": 1}), AgentSpec(2, {"support": 1}), queues=(QueueSpec("sales", {"sales": 1}), support)
    )
    r.enqueue(chat("a"), now=5)
    r.accept(1, "a", now=5)
    with pytest.raises(RoutingError) as e:
        r.transfer("a", now=6, queue="nope")
    assert e.value.code == "queue_not_found" and r.contacts["a"].agent == 1
    [t] = r.transfer("a", now=6, queue="support")
    assert t.agent_id == 2 and r.agents[1].load == 0
    r.accept(2, "a", now=6)
    [t] = r.transfer("a", now=7, agent_id=1)
    assert t.agent_id == 1


def test_unknown_queue_and_duplicate_contact_are_refused() -> None:
    r = router()
    with pytest.raises(RoutingError):
        r.enqueue(chat("a", "nope"), now=1)
    r.enqueue(chat("a"), now=1)
    with pytest.raises(RoutingError):
        r.enqueue(chat("a"), now=1)

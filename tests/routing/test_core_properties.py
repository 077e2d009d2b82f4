"""Property tests of the routing core: whatever happens, capacity holds, no contact has two agents, no
contact waits while an eligible agent has room, and within a queue and priority the oldest goes first."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from contactcenter.routing.core import Router
from contactcenter.routing.model import EPS, AgentSpec, Channel, ContactSpec, Offer, QueueSpec, RoutingError, State

QUEUES = (QueueSpec("q1", {"a": 1}), QueueSpec("q2", {"b": 2}), QueueSpec("q3", {}))
agent_st = st.builds(
    AgentSpec,
    id=st.just(0),
    skills=st.dictionaries(st.sampled_from(["a", "b"]), st.integers(1, 2)),
    capacity=st.sampled_from([0.25, 0.5, 1.0]),
    weights=st.one_of(st.just({}), st.just({"chat": 0.5})),
)
enqueue_st = st.tuples(
    st.just("enqueue"), st.sampled_from(QUEUES), st.sampled_from([Channel.chat, Channel.voice]), st.integers(0, 1)
)
op_st = st.one_of(
    enqueue_st,
    enqueue_st,
    st.tuples(st.just("finish"), st.integers(0, 50)),
    st.tuples(st.just("accept"), st.integers(0, 50)),
    st.tuples(st.just("decline"), st.integers(0, 50)),
    st.tuples(st.just("finish"), st.integers(0, 50)),
    st.tuples(st.just("state"), st.integers(0, 3), st.sampled_from([State.available, State.away, State.offline])),
    st.tuples(st.just("wrap"), st.integers(0, 3)),
    st.tuples(st.just("beat"), st.integers(0, 3)),
    st.tuples(st.just("tick"), st.floats(0, 4)),
    st.tuples(st.just("transfer"), st.integers(0, 50), st.sampled_from(QUEUES)),
)


def check(r: Router, offers: list[Offer], op: str) -> None:
    holders: dict[str, int] = {}
    for a in r.agents.values():
        assert a.load <= a.spec.capacity + EPS, "capacity exceeded"
        assert abs(a.load - sum(a.held.values())) < 1e-6
        for cid in a.held:
            assert cid not in holders, "two agents for one contact"
            holders[cid] = a.spec.id
            assert r.contacts[cid].agent == a.spec.id and r.contacts[cid].status in ("offered", "assigned")
        if a.state is not State.available:
            assert all(r.contacts[c].status == "assigned" for c in a.held), "an offer to an unavailable agent"
    for c in r.contacts.values():
        queued = c.key in r.waiting[(c.spec.queue, c.spec.channel)]
        assert queued == (c.status == "queued"), "lost or duplicated in the queue"
        if c.status == "queued":
            for a in r.agents.values():
                fits = a.load + a.spec.weight(c.spec.channel) <= a.spec.capacity + EPS
                eligible = c.spec.queue in a.queues and a.spec.id not in c.declined
                assert not (r.routable(a) and fits and eligible), "a contact waits while an agent has room"
    if op in ("enqueue", "finish", "decline", "accept", "beat"):
        for o in offers:
            c = r.contacts.get(o.contact_id)
            if c is None:
                continue
            for other in r.waiting[(c.spec.queue, c.spec.channel)]:
                older = r.contacts[other[2]]
                if older.spec.priority == c.spec.priority and older.seq < c.seq:
                    assert o.agent_id in older.declined, "an inversion: a younger contact served first"


@settings(max_examples=300, deadline=None)
@given(agents=st.lists(agent_st, min_size=1, max_size=4), ops=st.lists(op_st, min_size=10, max_size=80))
def test_invariants_hold_under_any_sequence(agents: list[AgentSpec], ops: list[tuple[object, ...]]) -> None:
    r = Router(offer_s=5)
    for q in QUEUES:
        r.add_queue(q)
    for i, spec in enumerate(agents):
        r.add_agent(AgentSpec(i, spec.skills, spec.capacity, spec.weights), now=0)
        r.heartbeat(i, now=0, ttl_s=20)
    now, n = 0.0, 0
    ids = lambda k: sorted(r.contacts)[k % len(r.contacts)] if r.contacts else "none"  # noqa: E731
    for op in ops:
        offers: list[Offer] = []
        kind = str(op[0])
        try:
            if kind == "enqueue":
                n += 1
                q, ch, prio = op[1], op[2], op[3]
                assert isinstance(q, QueueSpec) and isinstance(ch, Channel) and isinstance(prio, int)
                offers = r.enqueue(ContactSpec(f"c{n:03}", q.id, ch, prio), now=now)
            elif kind in ("accept", "decline"):
                c = r.contacts.get(ids(int(str(op[1]))))
                agent = c.agent if c is not None and c.agent is not None else 0
                if kind == "accept":
                    r.accept(agent, ids(int(str(op[1]))), now=now)
                else:
                    offers = r.decline(agent, ids(int(str(op[1]))), now=now)
            elif kind == "finish":  # mostly contacts with an agent, so room frees up while others wait
                held = sorted(c for c, v in r.contacts.items() if v.status != "queued") or ["none"]
                _, offers = r.finish(held[int(str(op[1])) % len(held)], now=now)
            elif kind == "state":
                offers = r.set_state(int(str(op[1])) % len(agents), State(str(op[2])), now=now, reason="x")
            elif kind == "wrap":
                offers = r.set_state(int(str(op[1])) % len(agents), State.wrap_up, now=now, until=now + 3)
            elif kind == "beat":
                offers = r.heartbeat(int(str(op[1])) % len(agents), now=now, ttl_s=20)
            elif kind == "tick":
                now += float(str(op[1]))
                offers = r.tick(now=now)
            elif kind == "transfer":
                q = op[2]
                assert isinstance(q, QueueSpec)
                offers = r.transfer(ids(int(str(op[1]))), now=now, queue=q.id)
        except RoutingError:
            pass
        check(r, offers, kind)

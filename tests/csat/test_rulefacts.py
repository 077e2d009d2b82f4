"""csat.* facts for the rules, plugged in through suggestions' fact-source registry (no csat in
suggestions): the gatherer gives a customer's last rating and average on both backends, a rule on
"rated low last time" validates and matches, an unknown csat fact is refused, and a source cannot take a
core namespace."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.bus.memory import MemoryBus
from contactcenter.conversations import service as conversations
from contactcenter.csat import service
from contactcenter.db import Database, utcnow
from contactcenter.suggestions import registry
from contactcenter.suggestions.catalogue import Fact, by_name
from contactcenter.suggestions.engine import RuleSet
from contactcenter.suggestions.facts import FactGatherer, contact_facts
from contactcenter.suggestions.jdm import parse
from tests.suggestions.helpers import conversation, customer, demo_rule, table
from tests.suggestions.test_engine import facts


async def rated(db: Database, customer_id: int, score: int) -> None:
    bus = MemoryBus()
    async with db.session() as s:
        cid = await conversation(s, customer_id=customer_id, agent_id=7)
        conv = await conversations.close(s, bus, conversation_id=cid, by="agent")
        assert await service.ask(s, conv=conv, now=utcnow())
        await service.rate(s, bus, conversation_id=cid, customer_id=customer_id, score=score, comment="",
                           now=utcnow(), rate_days=14)  # fmt: skip


async def test_the_gatherer_gives_last_and_average(db: Database) -> None:
    async with db.session() as s:
        ann = await customer(s, name="Ann")
        bob = await customer(s, name="Bob")
    await rated(db, ann, 5)
    await rated(db, ann, 2)
    gatherer = FactGatherer(ttl_s=0)
    contact = contact_facts(channel="chat", queue="general", topic=None, page=None)
    async with db.session() as s:
        got = await gatherer.gather(s, customer_id=ann, conversation_id=None, contact=contact)
        none = await gatherer.gather(s, customer_id=bob, conversation_id=None, contact=contact)
    assert got is not None and got["csat"] == {"last": 2, "avg": 3.5, "count": 2, "days_since_last": 0}
    assert none is not None and none["csat"] == {"last": None, "avg": None, "count": 0, "days_since_last": None}


def low_last_time() -> dict[str, Any]:
    content = demo_rule("retention")
    t = table(content)
    t["inputs"] = [{"id": "in_0", "name": "Last rating", "field": "csat.last"}]
    row = {k: v for k, v in t["rules"][0].items() if not k.startswith("in_")}
    t["rules"] = [row | {"_id": "low-1", "in_0": "$ != null and $ <= 2", "out_reason": '"Rated us low last time"'}]
    return content


def test_a_rule_on_a_low_last_rating_validates_and_matches() -> None:
    assert {"csat.last", "csat.avg", "csat.count", "csat.days_since_last"} <= by_name().keys()
    content = low_last_time()
    parsed, problems = parse(content, path="low.json")
    assert problems == [] and parsed is not None
    rules = RuleSet()
    assert rules.put(rule_id="low", name="Low", version=1, holdout_pct=0, content=content) == []
    f = facts()
    assert [m.rule.id for m in rules.evaluate(f | {"csat": f["csat"] | {"last": 2}})] == ["low"]
    assert rules.evaluate(f | {"csat": f["csat"] | {"last": 4}}) == []
    assert rules.evaluate(f | {"csat": f["csat"] | {"last": None}}) == []

    table(content)["rules"][0]["in_0"] = "csat.nope <= 2"
    _, problems = parse(content, path="low.json")
    assert any("unknown fact 'csat.nope'" in p.message for p in problems)


def test_a_source_may_not_take_a_core_namespace_or_stray_outside_its_own() -> None:
    async def load(_s: Any, _c: int) -> dict[str, Any]:
        return {}

    with pytest.raises(ValueError, match="core catalogue"):
        registry.register(registry.FactSource("customer", (Fact("customer.mood", "string", "x", "x"),), load))
    with pytest.raises(ValueError, match="not in namespace"):
        registry.register(registry.FactSource("mood", (Fact("customer.mood", "string", "x", "x"),), load))

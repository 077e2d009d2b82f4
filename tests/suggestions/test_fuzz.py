"""The rule loader never crashes: bad bytes, bad JSON, bad nodes and bad expressions give problems, not errors."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactcenter.suggestions import engine
from contactcenter.suggestions.jdm import load_text
from tests.suggestions.helpers import demo_rule, table

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


def _check(content: Any) -> None:
    parsed, problems = engine.validate(content, path="fuzz.json", scripts={"retention", "fund_advisor"})
    assert (parsed is None) == bool(problems)
    for p in problems:
        assert p.path == "fuzz.json" and p.message


@FAST
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    parsed, problems = load_text(data, path="fuzz.json")
    assert parsed is None and problems


@FAST
@given(json_values)
def test_random_json(value: Any) -> None:
    _check(value)
    load_text(json.dumps(value), path="fuzz.json")


def test_deeply_nested_json() -> None:
    parsed, problems = load_text("[" * 100_000 + "]" * 100_000, path="fuzz.json")
    assert parsed is None and problems


@FAST
@given(
    st.sampled_from(["nodes", "edges"]),
    st.integers(0, 3),
    st.sampled_from(["id", "type", "name", "content"]),
    json_values,
)
def test_broken_nodes_and_edges(part: str, index: int, key: str, value: Any) -> None:
    c = demo_rule("fund-advisor")
    items = c[part]
    if index < len(items):
        items[index][key] = value
    else:
        items.append({key: value})
    _check(c)


@FAST
@given(
    st.sampled_from(["in_0", "in_1", "in_2", "out_offer", "out_priority", "out_reason", "out_script", "_id"]),
    st.text(max_size=40) | st.sampled_from(['"a" +', "$ >", "1/0", "contains(", "x.y.z", "#", "[[[", "'", '"\\']),
)
def test_bad_expressions(column: str, expr: str) -> None:
    c = demo_rule("fund-advisor")
    table(c)["rules"][0][column] = expr
    _check(c)


@FAST
@given(json_values)
def test_bad_table_content(value: Any) -> None:
    c = demo_rule("retention")
    next(n for n in c["nodes"] if n["type"] == "decisionTableNode")["content"] = value
    _check(c)


FAST_EVAL = settings(max_examples=60, deadline=None)


@FAST_EVAL
@given(st.dictionaries(st.sampled_from(["customer", "contact", "products", "touches"]), json_values, max_size=4))
def test_evaluation_with_odd_facts_never_raises(facts: dict[str, Any]) -> None:
    rules = engine.RuleSet()
    assert (
        rules.put(rule_id="fund-advisor", name="x", version=1, holdout_pct=0, content=demo_rule("fund-advisor")) == []
    )
    rules.evaluate(facts)

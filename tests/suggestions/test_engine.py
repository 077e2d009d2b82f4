"""The rule cache and the scripts: a version is built once, the demo rules match the customers they describe,
scripts show missing fields plainly and stay in the sandbox."""

from __future__ import annotations

from typing import Any

from contactcenter.suggestions.catalogue import FACTS, example_facts
from contactcenter.suggestions.engine import RuleSet
from contactcenter.suggestions.files import read_folder
from contactcenter.suggestions.scripts import MISSING, ScriptStore
from tests.suggestions.helpers import RULES, demo_rule, table


def loaded() -> RuleSet:
    rules = RuleSet()
    files, problems = read_folder(RULES)
    assert problems == []
    for f in files:
        assert rules.put(rule_id=f.id, name=f.name, version=1, holdout_pct=0, content=f.content) == []
    return rules


def facts(**over: Any) -> dict[str, Any]:
    f = example_facts()
    f["customer"].update(value_tier=None, previous_tier=None, tier_dropped=False, attrition_risk=None)
    f["products"].update(owned=[], categories=[])
    f["contact"].update(page="/", topic=None)
    for dotted, value in over.items():
        ns, key = dotted.split("__")
        f[ns][key] = value
    return f


def offers(rules: RuleSet, f: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m.rule.id, m.text("script")) for m in rules.evaluate(f)]


def test_each_version_is_built_once() -> None:
    rules = loaded()
    assert rules.loads == 5
    content = demo_rule("retention")
    for _ in range(3):
        rules.put(rule_id="retention", name="Renamed", version=1, holdout_pct=10, content=content)
        rules.evaluate(facts())
    assert rules.loads == 5 and rules.rules["retention"].name == "Renamed"
    rules.put(rule_id="retention", name="Renamed", version=2, holdout_pct=10, content=content)
    assert rules.loads == 6


def test_gold_customer_on_a_fund_page_gets_the_fund_adviser() -> None:
    rules = loaded()
    got = offers(rules, facts(customer__value_tier="gold", contact__page="/funds/global-equity"))
    assert got == [("fund-advisor", "fund_advisor")]
    assert offers(rules, facts(customer__value_tier="silver", contact__page="/funds/global-equity")) == []
    owned = facts(customer__value_tier="gold", contact__page="/funds/global-equity", products__owned=["HB-FD-GLOBAL"])
    assert offers(rules, owned) == []


def test_a_dropped_tier_gets_the_retention_script_first() -> None:
    rules = loaded()
    f = facts(customer__value_tier="silver", customer__previous_tier="gold", customer__tier_dropped=True)
    f["contact"]["page"] = "/mortgages/calculator"
    found = rules.evaluate(f)
    assert [m.rule.id for m in found] == ["retention", "mortgage-first"]
    assert found[0].text("reason") == "Value tier fell from gold to silver"
    assert found[0].row.reason == "customer.tier_dropped true"


def test_null_analytics_match_nothing_that_needs_them() -> None:
    assert offers(loaded(), facts()) == []


def test_a_broken_rule_does_not_hide_the_others() -> None:
    rules = loaded()
    bad = demo_rule("home-insurance")
    # Compiles, but adding text to null fails when the row matches a customer with no tier.
    table(bad)["rules"][0]["out_reason"] = '"Tier " + customer.value_tier'
    rules.put(rule_id="home-insurance", name="x", version=2, holdout_pct=0, content=bad)
    f = facts(customer__attrition_risk=0.9, customer__segment="private", products__owned=["HB-MG-FIX5"])
    assert offers(rules, f) == [("retention", "retention")]
    f["customer"]["value_tier"] = "gold"
    assert offers(rules, f) == [("retention", "retention"), ("home-insurance", "home_insurance")]


def test_scripts_render_missing_fields_plainly() -> None:
    store = ScriptStore.from_dir(RULES / "scripts")
    f = facts()
    f["customer"]["home_branch"] = None
    del f["customer"]["first_name"]
    html = store.render("fund_advisor", f)
    assert "<strong>Global Equity Fund</strong>" in html
    assert html.count(MISSING) >= 2 and "None" not in html
    assert "Script &#x27;nope&#x27; is not available" in store.render("nope", f)


def test_scripts_escape_customer_data_and_stay_sandboxed() -> None:
    store = ScriptStore.from_dir(RULES / "scripts")
    f = facts()
    f["customer"]["first_name"] = "<script>alert(1)</script>"
    html = store.render("home_insurance", f)
    assert "<script>" not in html and "&lt;script&gt;" in html
    store.templates["x"] = store.env.from_string("{{ customer.__class__.__mro__ }}{{ ''.__class__.__base__ }}")
    assert "class" not in store.render("x", f)


def test_every_catalogue_fact_has_an_example_and_the_demo_uses_real_facts() -> None:
    assert all(f.description and f.type for f in FACTS)
    fields = {
        c["field"] for rid in ("fund-advisor", "retention", "home-insurance") for c in table(demo_rule(rid))["inputs"]
    }
    assert fields <= {f.name for f in FACTS}


def test_a_holdout_change_reaches_matches_without_a_rebuild() -> None:
    rules = loaded()
    f = facts(customer__value_tier="gold", contact__page="/funds/global-equity")
    assert rules.evaluate(f)[0].rule.holdout_pct == 0
    built = rules.loads
    rules.put(rule_id="fund-advisor", name="x", version=1, holdout_pct=25, content=demo_rule("fund-advisor"))
    assert rules.evaluate(f)[0].rule.holdout_pct == 25 and rules.loads == built

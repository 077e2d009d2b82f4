"""The per-process rule cache: each rule version is parsed and handed to zen-engine ONCE, through a loader
that returns a prepared ZenDecisionContent (DESIGN.md section 5: building a decision per call costs 1.6-7 ms,
a cached one evaluates in tens of microseconds)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import structlog
import zen

from contactcenter.suggestions.catalogue import example_facts
from contactcenter.suggestions.jdm import (
    ROW_COLUMN,
    ParsedRule,
    Row,
    _first_line,
    combined_json,
    engine_json,
    engine_table,
    parse,
)
from contactcenter.suggestions.sandbox import RuleTimeout, Sandbox
from contactcenter.suggestions.schemas import Problem

log = structlog.get_logger("suggestions.engine")


@dataclass(frozen=True)
class LoadedRule:
    id: str
    name: str
    version: int
    holdout_pct: float
    parsed: ParsedRule

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"


@dataclass(frozen=True)
class Match:
    rule: LoadedRule
    row: Row
    outputs: dict[str, Any]

    @property
    def priority(self) -> float:
        p = self.outputs.get("priority")
        return float(p) if isinstance(p, int | float) and not isinstance(p, bool) else 0.0

    def text(self, name: str) -> str:
        v = self.outputs.get(name)
        return "" if v is None else str(v)


def validate(content: Any, *, path: str, scripts: Collection[str] | None) -> tuple[ParsedRule | None, list[Problem]]:
    """Everything `rules check` and a publish demand of one rule: shape, facts, scripts, and a trial run."""
    parsed, problems = parse(content, path=path)
    if parsed is None:
        return None, problems
    if scripts is not None:
        for sid, rows in sorted(parsed.scripts.items()):
            if sid not in scripts:
                problems += [
                    Problem(path=path, row=r, message=f"row {r}: no script {sid!r} in rules/scripts") for r in rows
                ]
    try:
        engine = zen.ZenEngine()
        engine.create_decision(engine_json(content, parsed)).evaluate(example_facts())
    except Exception as exc:
        problems.append(Problem(path=path, message=f"zen-engine refused the graph: {_first_line(exc)}"))
    if problems:
        return None, problems
    parsed.content = content
    return parsed, []


class RuleSet:
    """Loaded rules of this process, each at its published version.

    Each version is prepared once (its own decision, kept for isolation) and all rules in force also run
    together as one combined decision, rebuilt only when a rule changes: one engine call per contact
    instead of one per rule. If the combined run fails (a rule's output fails for some customer), the
    rules run one by one so the others still answer.
    """

    def __init__(self) -> None:
        self.rules: dict[str, LoadedRule] = {}
        self._contents: dict[str, zen.ZenDecisionContent] = {}
        self._graphs: dict[str, str] = {}  # the same decisions as JSON, for the sandbox's workers
        self._retired: set[str] = set()  # keys dropped since the sandbox last heard
        self._tables: dict[str, dict[str, Any]] = {}
        self._combined: tuple[str, list[str]] | None = None  # key, rule ids in table order
        self._generation = 0
        self.engine = zen.ZenEngine({"loader": self._load})
        self.loads = 0  # decisions built; tests check a version is built once

    def _load(self, key: str) -> zen.ZenDecisionContent:
        return self._contents[key]

    def put(self, *, rule_id: str, name: str, version: int, holdout_pct: float, content: Any) -> list[Problem]:
        """Load a version (built once; the same version again only updates name and holdout)."""
        old = self.rules.get(rule_id)
        if old is not None and old.version == version:
            self.rules[rule_id] = LoadedRule(rule_id, name, version, holdout_pct, old.parsed)
            return []
        # A stored version was validated when published; the bounds of the day are not applied again (a
        # version from before them is still loaded: the sandbox's time limit stops it if it runs away).
        parsed, problems = parse(content, path=f"{rule_id} v{version}", bounded=False)
        graph = engine_json(content, parsed) if parsed is not None else ""
        try:
            decision = zen.ZenDecisionContent(graph) if parsed is not None else None
        except Exception as exc:
            problems, decision = [Problem(path=rule_id, message=f"zen-engine refused: {_first_line(exc)}")], None
        if parsed is None or decision is None:
            log.warning("rule_not_loaded", rule=rule_id, version=version, problems=len(problems))
            return problems
        parsed.content = content
        rule = LoadedRule(rule_id, name, version, holdout_pct, parsed)
        self._contents[rule.key], self._graphs[rule.key] = decision, graph
        self._tables[rule_id] = engine_table(content, parsed)
        self.loads += 1
        self.rules[rule_id] = rule
        if old is not None:
            self._drop(old.key)
        self._changed()
        return []

    def remove(self, rule_id: str) -> None:
        old = self.rules.pop(rule_id, None)
        self._tables.pop(rule_id, None)
        if old is not None:
            self._drop(old.key)
            self._changed()

    def _drop(self, key: str) -> None:
        self._contents.pop(key, None)
        self._graphs.pop(key, None)
        self._retired.add(key)

    def _changed(self) -> None:
        if self._combined is not None:
            self._drop(self._combined[0])
        self._combined = None

    def _combined_key(self) -> tuple[str, list[str]]:
        if self._combined is None:
            order = list(self.rules)
            self._generation += 1
            key = f"*all@{self._generation}"
            graph = combined_json([self._tables[r] for r in order])
            self._contents[key], self._graphs[key] = zen.ZenDecisionContent(graph), graph
            self._combined = (key, order)
        return self._combined

    def evaluate(self, facts: dict[str, Any], only: Collection[str] | None = None) -> list[Match]:
        """Every matching row of every rule (or of `only`), best priority first."""
        found: list[Match] = []
        if only is None and self.rules:
            key, order = self._combined_key()
            try:
                result = self.engine.evaluate(key, facts)["result"]
            except Exception:
                only = order  # someone's rule failed: find out whose, run the rest
            else:
                for i, rule_id in enumerate(order):
                    # The rule as it is now: a hold-out or name change keeps the built decision.
                    found += matches(self.rules[rule_id], result.get(f"r{i}") if isinstance(result, dict) else None)
        if only is not None:
            for rule in list(self.rules.values()):
                if rule.id in only:
                    found += self.evaluate_rule(rule, facts)
        found.sort(key=lambda m: (-m.priority, m.rule.id, m.row.index))
        return found

    async def run(self, sandbox: Sandbox, facts: dict[str, Any]) -> tuple[list[Match], list[LoadedRule]]:
        """`evaluate` in the sandbox's workers, each run within its time limit: the matches, and the rules
        that ran past it (each found by running the rules one by one once the combined run did)."""
        if self._retired:
            sandbox.forget(self._retired)
            self._retired = set()
        found: list[Match] = []
        stopped: list[LoadedRule] = []
        if not self.rules:
            return found, stopped
        key, order = self._combined_key()
        try:
            result = await sandbox.run(key, self._graphs[key], facts)
        except Exception:  # a rule failed or ran away: find out whose, run the rest
            rules = [self.rules[r] for r in order if r in self.rules]
            for rule in rules:
                if rule.key not in self._graphs:
                    continue  # replaced while the combined run went on
                try:
                    found += matches(rule, await sandbox.run(rule.key, self._graphs[rule.key], facts))
                except RuleTimeout:
                    stopped.append(rule)
                except Exception as exc:
                    log.warning("rule_failed", rule=rule.id, version=rule.version, error=_first_line(exc))
        else:
            for i, rule_id in enumerate(order):
                if rule_id in self.rules:
                    found += matches(self.rules[rule_id], result.get(f"r{i}") if isinstance(result, dict) else None)
        found.sort(key=lambda m: (-m.priority, m.rule.id, m.row.index))
        return found, stopped

    def evaluate_rule(self, rule: LoadedRule, facts: dict[str, Any]) -> list[Match]:
        try:
            result = self.engine.evaluate(rule.key, facts)["result"]
        except Exception as exc:  # one broken rule must not hide the others
            log.warning("rule_failed", rule=rule.id, version=rule.version, error=_first_line(exc))
            return []
        return matches(rule, result)


def matches(rule: LoadedRule, result: Any) -> list[Match]:
    """zen's result (a list for collect, an object for first) as matches with their rows."""
    items = result if isinstance(result, list) else [result] if isinstance(result, dict) and result else []
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        row = rule.parsed.row(str(item.pop(ROW_COLUMN, "")))
        if row is not None:
            out.append(Match(rule, row, item))
    return out


def evaluate_draft(parsed: ParsedRule, content: Any, facts_list: list[dict[str, Any]]) -> list[list[Match]]:
    """A draft (not published) against several customers' facts: built once, evaluated per customer."""
    rule = LoadedRule("draft", "draft", 0, 0.0, parsed)
    decision = zen.ZenEngine().create_decision(engine_json(content, parsed))
    out = []
    for facts in facts_list:
        try:
            out.append(matches(rule, decision.evaluate(facts)["result"]))
        except Exception:
            out.append([])
    return out

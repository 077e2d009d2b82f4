"""JDM decision graphs as planners write them: parse, validate, and prepare for zen-engine.

A rule is one JDM graph: an input node, ONE decision table, an output node. Anything else (JavaScript
"function" nodes above all, but also switch, expression, sub-decision and custom nodes) is refused, so a
planner's rule can only ever compare facts. The table's output columns are the suggestion.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import zen
from pydantic import BaseModel, ConfigDict, ValidationError

from contactcenter.suggestions.bounds import unbounded
from contactcenter.suggestions.catalogue import by_name, namespaces
from contactcenter.suggestions.schemas import Problem

SUPPORTED_NODES = frozenset({"inputNode", "outputNode", "decisionTableNode"})
REQUIRED_OUTPUTS = ("offer", "script", "priority", "reason")
OPTIONAL_OUTPUTS = ("title",)
HIT_POLICIES = frozenset({"first", "collect"})
MAX_ROWS = 20_000
MAX_CELL = 1_000
ROW_COLUMN = "_row"  # injected output column: tells which row matched, without tracing
SCRIPT_LITERAL = re.compile(r"""^\s*(["'])([A-Za-z0-9_.-]{1,120})\1\s*$""")
STRING_LITERAL = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Column(_Loose):
    id: str
    name: str = ""
    field: str | None = None


class TableContent(_Loose):
    hitPolicy: str
    inputs: list[Column]
    outputs: list[Column]
    rules: list[dict[str, Any]]


class Node(_Loose):
    id: str
    type: str
    name: str = ""
    content: Any = None


class Edge(_Loose):
    id: str = ""
    sourceId: str
    targetId: str


class Graph(_Loose):
    nodes: list[Node]
    edges: list[Edge]


@dataclass(frozen=True)
class Row:
    id: str
    index: int  # 1-based, as planners count
    conditions: tuple[tuple[str, str], ...]  # (fact, cell) for every non-empty input cell
    outputs: dict[str, str]  # output field -> cell expression

    @property
    def reason(self) -> str:
        """Why this row matches, in the table's own words."""
        return "; ".join(f"{f} {c.strip()}" for f, c in self.conditions) or "matches every contact"


@dataclass
class ParsedRule:
    content: dict[str, Any]
    table_id: str
    hit_policy: str
    rows: list[Row]
    scripts: dict[str, list[int]] = field(default_factory=dict)  # script id -> rows naming it
    _by_id: dict[str, Row] = field(default_factory=dict, repr=False)

    def row(self, row_id: str) -> Row | None:
        if len(self._by_id) != len(self.rows):
            self._by_id = {r.id: r for r in self.rows}
        return self._by_id.get(row_id)


def _first_line(exc: BaseException) -> str:
    # zen-engine's errors carry a Rust backtrace after the message.
    return str(exc).split("Stack backtrace", 1)[0].strip().replace("\n\n", ": ")[:300]


def facts_in(expr: str) -> set[str]:
    """Dotted fact names an expression mentions (string literals left out)."""
    return {f"{m[1]}.{m[2]}" for m in fact_ref().finditer(STRING_LITERAL.sub('""', expr))}


_fact_ref: tuple[frozenset[str], re.Pattern[str]] | None = None


def fact_ref() -> re.Pattern[str]:
    """A dotted name in any fact namespace (the core's and every registered source's)."""
    global _fact_ref
    names = namespaces()
    if _fact_ref is None or _fact_ref[0] != names:
        _fact_ref = (names, re.compile(r"(?<![\w.$#])(" + "|".join(sorted(names)) + r")\.([A-Za-z_]\w*)"))
    return _fact_ref[1]


def load_text(text: str | bytes, *, path: str) -> tuple[ParsedRule | None, list[Problem]]:
    """Parse a rule file's text; never raises, returns problems instead."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Problem(path=path, row=None, message=f"not JSON: {exc.msg} at line {exc.lineno} col {exc.colno}")]
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        return None, [Problem(path=path, row=None, message=f"not JSON: {exc.__class__.__name__}")]
    return parse(data, path=path)


def parse(data: Any, *, path: str, bounded: bool = True) -> tuple[ParsedRule | None, list[Problem]]:
    """Check the graph's shape (supported nodes, one table, outputs, rows, expressions); never raises.
    `bounded`: also refuse expressions whose cost is unbounded (bounds.py); publishing demands it."""
    if not isinstance(data, dict):
        return None, [Problem(path=path, row=None, message="a rule is a JSON object with nodes and edges")]
    try:
        graph = Graph.model_validate(data)
    except (ValidationError, RecursionError) as exc:
        msg = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
            if isinstance(exc, ValidationError)
            else "nested too deeply"
        )
        return None, [Problem(path=path, row=None, message=f"not a JDM graph: {msg}")]
    problems: list[Problem] = []
    for n in graph.nodes:
        if n.type == "functionNode":
            problems.append(
                Problem(
                    path=path,
                    row=None,
                    message=f"node {n.name or n.id!r}: function (JavaScript) nodes are not allowed in planner rules",
                )
            )
        elif n.type not in SUPPORTED_NODES:
            problems.append(
                Problem(
                    path=path,
                    row=None,
                    message=f"node {n.name or n.id!r}: node kind {n.type!r} "
                    f"is not supported (use {', '.join(sorted(SUPPORTED_NODES))})",
                )
            )
    if problems:
        return None, problems
    kinds = [n.type for n in graph.nodes]
    for kind in SUPPORTED_NODES:
        if kinds.count(kind) != 1:
            problems.append(
                Problem(path=path, row=None, message=f"a rule needs exactly one {kind}, found {kinds.count(kind)}")
            )
    if problems:
        return None, problems
    by_kind = {n.type: n for n in graph.nodes}
    inp, table, out = by_kind["inputNode"], by_kind["decisionTableNode"], by_kind["outputNode"]
    links = {(e.sourceId, e.targetId) for e in graph.edges}
    if links != {(inp.id, table.id), (table.id, out.id)}:
        problems.append(Problem(path=path, row=None, message="edges must link input -> decision table -> output"))
    parsed = _parse_table(table, path=path, problems=problems, bounded=bounded)
    return (parsed if not problems else None), problems


def _parse_table(node: Node, *, path: str, problems: list[Problem], bounded: bool) -> ParsedRule | None:
    try:
        t = TableContent.model_validate(node.content)
    except (ValidationError, RecursionError):
        problems.append(
            Problem(path=path, row=None, message="the decision table needs hitPolicy, inputs, outputs, rules")
        )
        return None
    if t.hitPolicy not in HIT_POLICIES:
        problems.append(
            Problem(path=path, row=None, message=f"hitPolicy must be first or collect, not {t.hitPolicy!r}")
        )
    inputs: list[tuple[str, str]] = []
    for c in t.inputs:
        if not c.field:
            problems.append(Problem(path=path, row=None, message=f"input column {c.name or c.id!r} has no fact"))
        elif c.field not in by_name():
            problems.append(
                Problem(path=path, row=None, message=f"input column {c.name or c.id!r}: unknown fact {c.field!r}")
            )
        else:
            inputs.append((c.id, c.field))
    outputs = {c.field: c.id for c in t.outputs if c.field}
    for name in REQUIRED_OUTPUTS:
        if name not in outputs:
            problems.append(Problem(path=path, row=None, message=f"the table needs an output column {name!r}"))
    for f in outputs:
        if f not in REQUIRED_OUTPUTS + OPTIONAL_OUTPUTS:
            problems.append(Problem(path=path, row=None, message=f"unknown output column {f!r}"))
    if len(t.rules) > MAX_ROWS:
        problems.append(Problem(path=path, row=None, message=f"more than {MAX_ROWS} rows"))
    if problems:
        return None
    parsed = ParsedRule(content={}, table_id=node.id, hit_policy=t.hitPolicy, rows=[])
    seen: set[str] = set()
    for i, raw in enumerate(t.rules, start=1):
        row = _parse_row(
            raw,
            i,
            inputs,
            outputs,
            path=path,
            problems=problems,
            seen=seen,
            table=(node.name or node.id) if bounded else None,
        )
        if row is not None:
            parsed.rows.append(row)
            m = SCRIPT_LITERAL.match(row.outputs.get("script", ""))
            if m:
                parsed.scripts.setdefault(m[2], []).append(i)
    return parsed


def _parse_row(
    raw: dict[str, Any],
    i: int,
    inputs: list[tuple[str, str]],
    outputs: dict[str, str],
    *,
    path: str,
    problems: list[Problem],
    seen: set[str],
    table: str | None,
) -> Row | None:
    def bad(msg: str) -> None:
        problems.append(Problem(path=path, row=i, message=f"row {i}: {msg}"))

    def compile_(cell: str, unary: bool, what: str) -> None:
        if _compile(cell, unary=unary, bad=bad, what=what) and table and (why := unbounded(cell.strip())):
            bad(f"node {table!r}, {what}: {cell.strip()[:80]!r} {why}")

    row_id = raw.get("_id")
    if not isinstance(row_id, str) or not row_id or len(row_id) > 64:
        bad("needs an _id (a string of 1 to 64 characters)")
        return None
    if row_id in seen:
        bad(f"_id {row_id!r} is used by another row")
    seen.add(row_id)
    cells: dict[str, str] = {}
    for col, _ in inputs + [(c, f) for f, c in outputs.items()]:
        v = raw.get(col, "")
        if not isinstance(v, str) or len(v) > MAX_CELL or "\x00" in v:
            bad(f"cell {col!r} must be text of at most {MAX_CELL} characters")
            return None
        cells[col] = v
    conditions = []
    for col, fact in inputs:
        cell = cells[col]
        if not cell.strip():
            continue
        compile_(cell, True, f"condition on {fact}")
        conditions.append((fact, cell))
    outs = {f: cells[c] for f, c in outputs.items()}
    for f, cell in outs.items():
        if not cell.strip():
            if f in REQUIRED_OUTPUTS:
                bad(f"output {f!r} is empty")
            continue
        compile_(cell, False, f"output {f}")
    if outs.get("script", "").strip() and not SCRIPT_LITERAL.match(outs["script"]):
        bad('the script output must be a quoted script id, e.g. "fund_advisor"')
    for cell in [c for _, c in conditions] + list(outs.values()):
        for fact in sorted(facts_in(cell) - by_name().keys()):
            bad(f"unknown fact {fact!r}")
    return Row(id=row_id, index=i, conditions=tuple(conditions), outputs=outs)


def _compile(expr: str, *, unary: bool, bad: Any, what: str) -> bool:
    try:
        (zen.compile_unary_expression if unary else zen.compile_expression)(expr)
    except Exception as exc:  # zen raises RuntimeError with a JSON description
        bad(f"{what}: {expr.strip()[:80]!r} is not a valid expression ({_first_line(exc)})")
        return False
    return True


def engine_table(content: dict[str, Any], parsed: ParsedRule) -> dict[str, Any]:
    """The planner's decision table plus a hidden output column naming each row."""
    node = next(n for n in content["nodes"] if n.get("id") == parsed.table_id)
    c = dict(node["content"])
    c["outputs"] = [*c["outputs"], {"id": "__row", "name": "row", "field": ROW_COLUMN}]
    c["rules"] = [{**r, "__row": json.dumps(r["_id"])} for r in c["rules"]]
    return c


def engine_json(content: dict[str, Any], parsed: ParsedRule) -> str:
    """The graph zen-engine loads for one rule."""
    table = engine_table(content, parsed)
    nodes = [{**n, "content": table} if n.get("id") == parsed.table_id else n for n in content["nodes"]]
    return json.dumps({**content, "nodes": nodes})


def combined_json(tables: list[dict[str, Any]]) -> str:
    """Every rule's table side by side in one graph, each answering under its own key ("r0", "r1", ...), so
    all rules run in one engine call."""
    nodes: list[dict[str, Any]] = [{"id": "in", "type": "inputNode", "name": "facts"}]
    edges: list[dict[str, Any]] = []
    for i, t in enumerate(tables):
        nodes.append(
            {"id": f"t{i}", "type": "decisionTableNode", "name": f"r{i}", "content": {**t, "outputPath": f"r{i}"}}
        )
        edges += [
            {"id": f"a{i}", "sourceId": "in", "targetId": f"t{i}", "type": "edge"},
            {"id": f"b{i}", "sourceId": f"t{i}", "targetId": "out", "type": "edge"},
        ]
    nodes.append({"id": "out", "type": "outputNode", "name": "suggestions"})
    return json.dumps({"nodes": nodes, "edges": edges})

"""Static limits on a planner's expressions, so a published rule cannot run for minutes (issue 11, item 7).

zen's expression language has no loops or recursion; the only constructs whose cost is not bounded by the
text's length are the closure functions (map, filter, flatMap, all, some, none, one, count) iterating over a
range such as [0..1000000], and closures nested inside closures (their costs multiply). So: an expression is
at most MAX_EXPRESSION characters, closures do not nest, and a range a closure iterates has number literals
for bounds at most MAX_RANGE apart. Ranges outside closures are intervals (`[18..65]`, a membership test in
constant time) and stay free. The evaluation time limit (sandbox.py) stops whatever still slips through.
"""

from __future__ import annotations

import re

MAX_EXPRESSION = 500
MAX_RANGE = 1_000
CLOSURES = frozenset({"map", "filter", "flatMap", "all", "some", "none", "one", "count"})
_STRINGS = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`""")
_CALL = re.compile(r"([A-Za-z_]\w*)\s*\($")
_RANGE = re.compile(r"[\[(]\s*([^\[\]()]*?)\s*\.\.\s*([^\[\]()]*?)\s*[\])]")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def unbounded(expr: str) -> str | None:
    """Why this expression may run without bound, or None if its cost is bounded by its length."""
    if len(expr) > MAX_EXPRESSION:
        return f"is longer than {MAX_EXPRESSION} characters"
    text = _STRINGS.sub('""', expr)  # names and brackets inside string literals are text, not code
    closure_at: list[int] = []  # for each character: how many closure calls enclose it
    stack: list[bool] = []  # open brackets: is it a closure's argument list?
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([":
            m = _CALL.search(text[: i + 1]) if ch == "(" else None
            is_closure = m is not None and m[1] in CLOSURES
            if is_closure and depth:
                return f"nests {m[1] if m else ''}() inside another map/filter-like function (their costs multiply)"
            stack.append(is_closure)
            depth += is_closure
        elif ch in ")]" and stack:
            depth -= stack.pop()
        closure_at.append(depth)
    for r in _RANGE.finditer(text):
        if not any(closure_at[r.start() : r.end()]):
            continue
        lo, hi = r[1], r[2]
        if not (_NUMBER.match(lo) and _NUMBER.match(hi)):
            return f"iterates the range {r[0]!r}, whose bounds are not number literals"
        if float(hi) - float(lo) > MAX_RANGE:
            return f"iterates the range {r[0]!r}, more than {MAX_RANGE} values"
    return None

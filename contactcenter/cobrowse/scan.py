"""The server's second look at every co-browse event (docs/cobrowse.md): card numbers (Luhn) and IBANs in
any string of an event are replaced by `*` before it is relayed. The browser masks first; this catches what
it cannot know is sensitive (a card number shown as page text, a field rrweb did not mask)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Digits (any script's: int() reads them) with at most one separator between two of them.
_SEP = " \u00a0\u2009\u202f\u2002\u2003\u2010\u2011\u2012\u2013\u2014./-"
_DIGIT_RUN = re.compile(rf"\d(?:[{re.escape(_SEP)}]?\d){{12,}}")
# Two letters, two check digits, then 11 to 30 letters or digits, optionally in groups of four.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ \u00a0]?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")
CARD_MIN, CARD_MAX = 13, 19
MAX_DEPTH = 2000  # nesting deeper than this is refused (a real DOM is far shallower)
# Longer digit runs are masked whole: checking every window of a run of thousands costs seconds of CPU.
LONG_RUN = 64


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_valid(text: str) -> bool:
    s = re.sub(r"[ \u00a0]", "", text).upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def _iban_end(candidate: str) -> int:
    """Length of the longest valid IBAN `candidate` starts with (the match may run on into a word), or 0."""
    ends = [i + 1 for i, c in enumerate(candidate) if c.isalnum()]
    for end in reversed(ends[14:34]):
        if _iban_valid(candidate[:end]):
            return end
    return 0


def _card_spans(run: str) -> list[tuple[int, int]]:
    """Spans (in `run`) of Luhn-valid 13-19 digit numbers: the whole run, or a window of a longer run."""
    positions = [i for i, c in enumerate(run) if c.isdigit()]
    digits = "".join(run[i] for i in positions)
    n = len(digits)
    if CARD_MIN <= n <= CARD_MAX and luhn(digits):
        return [(0, len(run))]
    if n > LONG_RUN:
        return [(0, len(run))]
    spans: list[tuple[int, int]] = []
    if n > CARD_MAX:  # a card number glued to other digits: any window that passes counts
        for start in range(n - CARD_MIN + 1):
            for length in range(CARD_MIN, min(CARD_MAX, n - start) + 1):
                if luhn(digits[start : start + length]):
                    spans.append((positions[start], positions[start + length - 1] + 1))
    return spans


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        for i in range(a, b):
            if chars[i].isalnum():
                chars[i] = "*"
    return "".join(chars)


def redact_text(text: str, found: Counter[str]) -> str:
    """`text` with every card number and IBAN in it masked; counts what it masked in `found`."""
    spans: list[tuple[int, int]] = []
    if len(text) >= CARD_MIN:
        for m in _IBAN.finditer(text):
            end = _iban_end(m.group())
            if end:
                found["iban"] += 1
                spans.append((m.start(), m.start() + end))
        ibans = list(spans)
        for m in _DIGIT_RUN.finditer(text):
            if any(a <= m.start() < b for a, b in ibans):
                continue  # an IBAN's digits, masked already
            hits = _card_spans(m.group())
            if hits:
                found["card_number"] += 1
                spans += [(m.start() + a, m.start() + b) for a, b in hits]
    return _mask(text, spans) if spans else text


class TooDeep(ValueError):
    pass


@dataclass
class ScanResult:
    value: Any
    found: Counter[str] = field(default_factory=Counter)

    @property
    def clean(self) -> bool:
        return not self.found


def scan(value: Any) -> ScanResult:
    """A copy of a JSON value with every string redacted (iteratively: a snapshot nests as deep as its DOM)."""
    found: Counter[str] = Counter()
    root: list[Any] = [value]
    # (container, key, child, depth): each child is replaced in its (copied) container.
    stack: list[tuple[Any, Any, Any, int]] = [(root, 0, value, 0)]
    while stack:
        parent, key, child, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TooDeep(f"nested deeper than {MAX_DEPTH}")
        if isinstance(child, str):
            parent[key] = redact_text(child, found)
        elif isinstance(child, dict):
            copy = dict(child)
            parent[key] = copy
            stack.extend((copy, k, v, depth + 1) for k, v in copy.items() if isinstance(v, str | dict | list))
        elif isinstance(child, list):
            items = list(child)
            parent[key] = items
            stack.extend((items, i, v, depth + 1) for i, v in enumerate(items) if isinstance(v, str | dict | list))
    return ScanResult(root[0], found)

"""The widget keeps its own copy of the staff pages' reconnect and pacing rules (it must stay one
self-contained file): the two copies must stay identical."""

from __future__ import annotations

import re

from tests.e2e.conftest import ROOT

BLOCK = re.compile(r"/\* rt-rules:begin\..*?/\* rt-rules:end \*/", re.S)


def rules(path: str) -> list[str]:
    found = BLOCK.findall((ROOT / path).read_text())
    assert len(found) == 1, f"{path}: one rt-rules block expected"
    return [line.strip() for line in found[0].splitlines()]


def test_widget_and_staff_pages_share_identical_rules() -> None:
    assert rules("web/widget/widget.js") == rules("web/static/rt-socket.js")

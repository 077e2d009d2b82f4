"""GET /widget.js: the texts table and the widget as one script inside one function; rebuilt when a part
changes on disk; 404 when a part is missing."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from contactcenter.channels.chat import widget


async def test_the_served_script_is_the_table_then_the_widget_in_one_function(client: httpx.AsyncClient) -> None:
    r = await client.get("/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    body = r.text
    assert body.startswith("(function () {\n/* The widget's texts") and body.rstrip().endswith("})();")
    assert body.index("const WIDGET_TEXTS") < body.index("const I18N = makeI18n(")
    assert "Démarrer la discussion" in body and "Chat starten" in body


def test_a_part_changed_on_disk_is_served_and_a_missing_part_is_none(tmp_path: Path) -> None:
    first = list(widget.FIRST)
    assert first[0] == "i18n.js" and first[1] == "parts.js"  # the texts, then registerPart, first
    for n, name in enumerate(first):
        (tmp_path / name).write_text(f"const P{n} = {n};")
    part = tmp_path / "elsewhere" / "mine.js"  # a capability's part may live anywhere
    part.parent.mkdir()
    part.write_text("registerPart(P1);")
    assert widget.script(tmp_path, parts=[part]) is None  # widget.js missing
    (tmp_path / "widget.js").write_text("use(P0);")

    def expected(p0: str) -> bytes:
        lines = [p0] + [f"const P{n} = {n};" for n in range(1, len(first))] + ["registerPart(P1);", "use(P0);"]
        return ("(function () {\n" + "\n".join(lines) + "\n})();\n").encode()

    assert widget.script(tmp_path, parts=[part]) == expected("const P0 = 0;")
    (tmp_path / "i18n.js").write_text("const P0 = 2;")
    later = (tmp_path / "widget.js").stat().st_mtime_ns + 1_000_000_000
    os.utime(tmp_path / "i18n.js", ns=(later, later))  # a newer stamp even on a coarse clock
    assert widget.script(tmp_path, parts=[part]) == expected("const P0 = 2;")
    part.unlink()
    assert widget.script(tmp_path, parts=[part]) is None  # a declared part missing: not half a widget

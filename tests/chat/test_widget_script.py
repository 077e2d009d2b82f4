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
    (tmp_path / "i18n.js").write_text("const A = 1;")
    (tmp_path / "cobrowse.js").write_text("const B = 0;")
    (tmp_path / "kb.js").write_text("const K = 0;")
    (tmp_path / "documents.js").write_text("const C = 3;")
    (tmp_path / "voice.js").write_text("const V = 4;")
    (tmp_path / "csat.js").write_text("const S = 5;")
    assert widget.script(tmp_path) is None  # widget.js missing
    (tmp_path / "widget.js").write_text("use(A);")
    expected = b"(function () {\nconst A = 1;\nconst B = 0;\nconst K = 0;\nconst C = 3;\nconst V = 4;\nconst S = 5;\n"
    expected += b"use(A);\n})();\n"
    assert widget.script(tmp_path) == expected
    (tmp_path / "i18n.js").write_text("const A = 2;")
    later = (tmp_path / "widget.js").stat().st_mtime_ns + 1_000_000_000
    os.utime(tmp_path / "i18n.js", ns=(later, later))  # a newer stamp even on a coarse clock
    expected = b"(function () {\nconst A = 2;\nconst B = 0;\nconst K = 0;\nconst C = 3;\nconst V = 4;\nconst S = 5;\n"
    expected += b"use(A);\n})();\n"
    assert widget.script(tmp_path) == expected

"""The widget's script as websites load it, in one function so one script tag brings every part and none
declares anything global on the site's page: web/widget/i18n.js (its texts), parts.js (`registerPart`, the
plug-in point), kb.js (help articles), then the parts capabilities declare (`widget_parts(settings)` on a
capability: co-browse, documents, voice, CSAT, invitations), then widget.js, which starts every registered
part (decision 58)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

FIRST = ("i18n.js", "parts.js", "kb.js")  # the widget's own, before any capability's part
LAST = "widget.js"
_cache: dict[tuple[Path, str, tuple[Path, ...]], tuple[tuple[int, ...], bytes]] = {}


def script(folder: Path, prelude: str = "", parts: Sequence[Path] = ()) -> bytes | None:
    """The served script, or None when a file is missing; rebuilt when one changes on disk. `parts`: the
    capabilities' files; `prelude` (the server's settings the widget reads, e.g. the consent policy's
    version) goes just before widget.js."""
    paths = [*(folder / name for name in FIRST), *parts, folder / LAST]
    try:
        stamp = tuple(p.stat().st_mtime_ns for p in paths)
    except FileNotFoundError:
        return None
    key = (folder, prelude, tuple(parts))
    hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    texts = [p.read_text(encoding="utf-8") for p in paths]
    if prelude:
        texts.insert(len(texts) - 1, prelude)
    body = "(function () {\n" + "\n".join(texts) + "\n})();\n"
    data = body.encode()
    _cache[key] = (stamp, data)
    return data

"""The widget's script as websites load it: web/widget/i18n.js (its texts), cobrowse.js (co-browse's part),
voice.js (browser calls) and widget.js (the widget) in one function, so one script tag brings them all and
none declares anything global on the site's page."""

from __future__ import annotations

from pathlib import Path

PARTS = ("i18n.js", "cobrowse.js", "voice.js", "widget.js")
_cache: dict[Path, tuple[tuple[int, ...], bytes]] = {}


def script(folder: Path) -> bytes | None:
    """The served script, or None when a part is missing; rebuilt when a part changes on disk."""
    paths = [folder / name for name in PARTS]
    try:
        stamp = tuple(p.stat().st_mtime_ns for p in paths)
    except FileNotFoundError:
        return None
    hit = _cache.get(folder)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    body = "(function () {\n" + "\n".join(p.read_text(encoding="utf-8") for p in paths) + "\n})();\n"
    data = body.encode()
    _cache[folder] = (stamp, data)
    return data

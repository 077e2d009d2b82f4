"""The widget's script as websites load it: web/widget/i18n.js (its texts), cobrowse.js (co-browse's part),
kb.js (help articles), documents.js (the pushed-document viewer), voice.js (browser calls), csat.js (the
rating card), invite.js (proactive invitations) and widget.js (the widget) in one function, so one script
tag brings them all and none declares anything global on the site's page."""

from __future__ import annotations

from pathlib import Path

PARTS = ("i18n.js", "cobrowse.js", "kb.js", "documents.js", "voice.js", "csat.js", "invite.js", "widget.js")
_cache: dict[tuple[Path, str], tuple[tuple[int, ...], bytes]] = {}


def script(folder: Path, prelude: str = "") -> bytes | None:
    """The served script, or None when a part is missing; rebuilt when a part changes on disk. `prelude`
    (the server's settings the widget reads, e.g. the consent policy's version) goes just before widget.js."""
    paths = [folder / name for name in PARTS]
    try:
        stamp = tuple(p.stat().st_mtime_ns for p in paths)
    except FileNotFoundError:
        return None
    hit = _cache.get((folder, prelude))
    if hit is not None and hit[0] == stamp:
        return hit[1]
    texts = [p.read_text(encoding="utf-8") for p in paths]
    if prelude:
        texts.insert(len(texts) - 1, prelude)
    body = "(function () {\n" + "\n".join(texts) + "\n})();\n"
    data = body.encode()
    _cache[(folder, prelude)] = (stamp, data)
    return data

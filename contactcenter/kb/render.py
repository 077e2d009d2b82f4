"""Markdown to safe HTML (markdown-it, then nh3: authors are staff, but an account can be stolen and a pasted
article can carry script), and the folded text the search indexes read."""

from __future__ import annotations

import re
import unicodedata
from html import unescape

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
# Letters NFKD does not split into a base letter and a mark.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "ß": "ss", "æ": "ae"})


def to_html(markdown: str) -> str:
    """Rendered and sanitised: no script, no event handlers, links only to http(s) and mailto."""
    html = _md.render(markdown)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def to_text(html: str) -> str:
    # Entities back to characters: a summary is shown as text ("&lt;" would be shown as is).
    return _SPACE.sub(" ", unescape(_TAG.sub(" ", html))).strip()


def fold(text: str) -> str:
    """Lower case without diacritics ("Café Đà Nẵng" -> "cafe da nang"), the same for documents and queries
    on both backends."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def summary(text: str, limit: int = 160) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"

"""The widget's translation table (web/widget/i18n.js) in Chromium's own Intl: how the language is chosen,
plural forms, English for what a language lacks, and that every text the widget asks for exists in English,
French and German with the same parameters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import ROOT

I18N = (ROOT / "web/widget/i18n.js").read_text()
WIDGET = "".join(
    (ROOT / "web/widget" / name).read_text() for name in ("widget.js", "cobrowse.js", "kb.js", "documents.js")
)
PARAM = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def js(browser: Browser) -> Iterator[Page]:
    """A blank page with i18n.js evaluated in a function of its own (as /widget.js serves it)."""
    context = browser.new_context()
    page = context.new_page()
    page.evaluate(
        "(src) => { window.__i18n = new Function(src + '; return { WIDGET_TEXTS, chooseLang, makeI18n };')(); }", I18N
    )
    yield page
    context.close()


def run(page: Page, body: str, arg: Any = None) -> Any:
    """Run `body` (a function body; `a` is the argument) with the table's names in scope."""
    prelude = "const { WIDGET_TEXTS, chooseLang, makeI18n } = window.__i18n;"
    return page.evaluate(f"(a) => {{ {prelude} {body} }}", arg)


def test_the_first_usable_source_wins_else_english(js: Page) -> None:
    cases = [
        (["fr", "de", "en-GB"], "fr"),  # data-lang before the page's lang and the browser's
        ([None, "de-at", "fr-FR"], "de-AT"),  # then the page's <html lang>, in canonical case
        ([None, "", "fr_CA"], "fr-CA"),  # then the browser's
        (["français", "<b>", "en-a", "x" * 40, "de"], "de"),  # what is not a language tag is skipped
        ([None, "", None], "en"),
    ]
    for sources, expected in cases:
        assert run(js, "return chooseLang(a);", sources) == expected, sources


def test_texts_come_from_the_closest_table_then_english_key_by_key(js: Page) -> None:
    got = run(
        js,
        """WIDGET_TEXTS.en["only.en"] = "English only"; // as if French and German had not caught up yet
        const r = {};
        for (const tag of ["fr-CA", "de-CH", "es-MX", "zh-Hans-CN", "pt-BR", "en-GB"]) {
          const i = makeI18n(tag);
          r[tag] = [i.ui, i.dir, i.t("prechat.start"), i.t("only.en"), i.t("no.such.key")];
        }
        r.he = [makeI18n("he").ui, makeI18n("he").dir];
        delete WIDGET_TEXTS.en["only.en"];
        return r;""",
    )
    assert got["fr-CA"] == ["fr", "ltr", "Démarrer la discussion", "English only", "no.such.key"]
    assert got["de-CH"] == ["de", "ltr", "Chat starten", "English only", "no.such.key"]
    assert got["es-MX"] == ["es", "ltr", "Iniciar el chat", "English only", "no.such.key"]
    assert got["zh-Hans-CN"] == ["zh", "ltr", "开始聊天", "English only", "no.such.key"]  # Simplified Chinese
    assert got["pt-BR"] == ["en", "ltr", "Start chat", "English only", "no.such.key"]  # no Portuguese: English
    assert got["en-GB"][:3] == ["en", "ltr", "Start chat"]
    assert got["he"] == ["en", "ltr"]  # the direction follows the texts shown, English here


def test_counts_use_each_languages_plural_rules(js: Page) -> None:
    got = run(
        js,
        """const r = {};
        for (const tag of ["en", "fr", "de"]) {
          const t = makeI18n(tag).t;
          r[tag] = [0, 1, 2].map((count) => t("transcript.sent", { email: "a@b.c", count }));
        }
        return r;""",
    )
    assert got["en"] == [
        "Transcript sent to a@b.c (0 messages).",
        "Transcript sent to a@b.c (1 message).",
        "Transcript sent to a@b.c (2 messages).",
    ]
    nb = "\u00a0"
    assert got["fr"] == [  # French counts 0 as singular
        f"Transcription envoyée à a@b.c (0{nb}message).",
        f"Transcription envoyée à a@b.c (1{nb}message).",
        f"Transcription envoyée à a@b.c (2{nb}messages).",
    ]
    assert got["de"][1:] == [
        "Chatverlauf an a@b.c gesendet (1 Nachricht).",
        "Chatverlauf an a@b.c gesendet (2 Nachrichten).",
    ]


def test_every_text_the_widget_uses_exists_in_every_language_with_the_same_parameters(js: Page) -> None:
    texts: dict[str, dict[str, Any]] = run(js, "return WIDGET_TEXTS;")
    used = set(re.findall(r"\bt\(\s*\"([\w.]*\w)\"", WIDGET)) | set(re.findall(r'"((?:launcher|msg)\.\w+)"', WIDGET))
    assert used and used <= set(texts["en"]), sorted(used - set(texts["en"]))

    def params(value: str | dict[str, str]) -> set[str]:
        forms = value.values() if isinstance(value, dict) else [value]
        return {p for form in forms for p in PARAM.findall(form)}

    assert {"fr", "de", "es", "zh", "vi"} <= set(texts)  # the languages shipped (docs/embedding.md)
    for lang, table in texts.items():
        assert set(texts["en"]) <= set(table), (lang, sorted(set(texts["en"]) - set(table)))
        for key, value in table.items():
            if key.startswith("error."):
                continue  # the server's own detail is their English
            assert key in texts["en"], (lang, key)
            assert params(value) == params(texts["en"][key]), (lang, key)

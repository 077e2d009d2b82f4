"""The demo bank's site on another origin (scripts/demo_site.py, as `make run` serves it) with an agent in the
real console page: both directions, the visitor offline and back; the French page (data-lang="fr") speaks
French and the console shows the customer's language; which language wins when several are given.

Screenshots for the issue go to test-artifacts/issue12/ (phone 390x844 and desktop)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import ARTIFACTS, ROOT, Watch
from tests.e2e.test_embedding import site
from tests.e2e.test_widget import Widget
from tests.e2e.widget_fixtures import (
    AGENT,
    AGENT_NAME,
    AGENT_PASSWORD,
    Customers,
    WidgetServer,
    customers,
    eventually,
    run_server,
)
from tests.services import free_port

__all__ = ["customers"]  # fixtures used below
SHOTS = ARTIFACTS / "issue12"
# The test pages' site: (file, <html> attributes, script tag attributes).
PAGES = [
    ("de.html", 'lang="de"', ""),
    ("de-fr.html", 'lang="de"', 'data-lang="fr"'),  # data-lang wins over the page's language
    ("none.html", "", ""),  # no lang anywhere: the browser's
    ("pt.html", 'lang="pt"', 'data-lang="pt"'),  # no Portuguese texts: English, but the agent sees Portuguese
    ("es.html", 'lang="es-MX"', ""),  # the languages the seeds were written for: Spanish, Chinese, Vietnamese
    ("zh.html", 'lang="zh-CN"', ""),
    ("vi.html", 'lang="vi"', ""),
    ("typo.html", 'lang="de-AT"', 'data-lang="français"'),  # not a tag: an error for the site owner, then <html lang>
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
# Every visible control of the widget keeps its text inside its box and the panel inside the screen.
OVERFLOWS = """() => {
  const root = document.querySelector("#cc-chat-widget").shadowRoot;
  const bad = [];
  for (const e of root.querySelectorAll("button, label, h2, h3, .title, .prechat p, .cbform p, .ended p, .sheet p")) {
    const r = e.getBoundingClientRect();
    if (!r.width) continue;  // hidden
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).textOverflow !== "ellipsis")
      bad.push(`${e.tagName} "${e.textContent.trim()}" is ${e.scrollWidth}px wide in ${e.clientWidth}px`);
    if (r.left < 0 || r.right > innerWidth + 0.5)
      bad.push(`${e.tagName} "${e.textContent.trim()}" leaves the screen (${r.left}..${r.right})`);
  }
  return bad;
}"""


@contextlib.contextmanager
def demo_site(contact_center: str, port: int) -> Iterator[str]:
    """scripts/demo_site.py in a process of its own, as `make run` starts it."""
    cmd = [sys.executable, "scripts/demo_site.py", "--port", str(port), "--contact-center", contact_center]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(base + "/", timeout=2).status_code == 200
        return False

    try:
        eventually(up, what="the demo site")
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WidgetServer, str, str]]:
    """The contact center allowing two sites' origins (known first): the demo bank's site (demo_site.py) and
    a site of test pages, each page with its own lang attributes."""
    tmp = tmp_path_factory.mktemp("embed-console")
    port = free_port()
    demo_url = f"http://127.0.0.1:{port}"
    with site(tmp / "pages", "") as pages:
        with run_server(tmp / "cc", CC_WIDGET_ORIGINS=f"{demo_url},{pages}") as cc:
            for name, html, script in PAGES:
                (tmp / "pages" / name).write_text(_page(cc.base_url, html, script))
            with demo_site(cc.base_url, port) as demo:
                yield cc, demo, pages


@pytest.fixture
def console(browser: Browser, stack: tuple[WidgetServer, str, str]) -> Iterator[Callable[[], Page]]:
    """The agent signed in at /login and on the console, online; fails on page errors or foreign requests."""
    cc = stack[0]
    contexts: list[BrowserContext] = []
    watch = Watch()

    def open_() -> Page:
        context = browser.new_context(
            viewport={"width": 1440, "height": 900}, base_url=cc.base_url, locale="en-GB", timezone_id="Europe/London"
        )
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda req: watch.requests.append(req.url))
        page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
        page.set_default_timeout(10_000)
        page.goto("/login?next=/staff/console")
        page.fill("#username", AGENT)
        page.fill("#password", AGENT_PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{cc.base_url}/staff/console")
        expect(page.locator("#presence")).to_have_attribute("data-state", "online")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not watch.errors, f"page errors: {watch.errors}"
    assert not watch.foreign(), f"requests to other hosts: {watch.foreign()}"


def pick_chat(agent: Page, name: str) -> None:
    item = agent.locator(".conv-item", has=agent.locator(".conv-name", has_text=name))
    item.click()
    expect(agent.locator("#thread-name")).to_have_text(name)


def reply(agent: Page, text: str) -> None:
    agent.locator("#composer-input").fill(text)
    agent.locator("#composer-input").press("Enter")


def from_customer(agent: Page) -> list[str]:
    return agent.locator("#msg-log .msg-customer .msg-body").all_inner_texts()


def no_overflow(page: Page, what: str) -> None:
    assert page.evaluate(OVERFLOWS) == [], what


def test_an_agent_in_the_console_answers_a_visitor_on_the_other_site_through_offline_and_back(
    customers: Customers, stack: tuple[WidgetServer, str, str], console: Callable[[], Page]
) -> None:
    cc, demo, _ = stack
    agent = console()
    visitor = customers.page(cc)
    visitor.goto(demo + "/")
    expect(visitor).to_have_url(demo + "/")  # the bank's own site, another origin than the contact center
    w = Widget(visitor)
    w.open()
    w.start("Olivia Offsite")
    pick_chat(agent, "Olivia Offsite")
    expect(w.status).to_have_text(f"Chatting with {AGENT_NAME}")
    expect(agent.locator("#thread-sub")).to_contain_text(f"on {demo}/")
    expect(agent.locator("#thread-lang")).to_have_text("English (en-GB)")  # the demo page's <html lang>

    w.say("Hello from the bank's website")
    expect(agent.locator("#msg-log .msg-customer .msg-body").last).to_have_text("Hello from the bank's website")
    reply(agent, "Hello Olivia, how can I help?")
    expect(w.bubbles().last).to_have_text("Hello Olivia, how can I help?")

    # The visitor's network goes: both sides keep writing; everything arrives once the visitor is back.
    visitor.context.set_offline(True)
    expect(w.banner).to_have_text("Reconnecting…")
    w.say("Typed while offline")
    expect(w.pending).to_contain_text("Sending…")
    reply(agent, "Are you still there?")
    expect(agent.locator("#msg-log .msg-agent .msg-body").last).to_have_text("Are you still there?")
    assert from_customer(agent) == ["Hello from the bank's website"]
    expect(w.bubbles().last).to_have_text("Hello Olivia, how can I help?")  # nothing reaches an offline page
    visitor.context.set_offline(False)
    expect(w.banner).to_be_hidden(timeout=30_000)
    # In the order the server stored them: the agent's reply came first, the visitor's resend after.
    w.expect_history(
        [
            "Hello from the bank's website",
            "Hello Olivia, how can I help?",
            "Are you still there?",
            "Typed while offline",
        ]
    )
    expect(agent.locator("#msg-log .msg-customer .msg-body").last).to_have_text("Typed while offline")
    assert from_customer(agent) == ["Hello from the bank's website", "Typed while offline"]  # each once
    expect(w.pending).to_have_count(0)
    reply(agent, "Yes, I see both messages.")
    expect(w.bubbles().last).to_have_text("Yes, I see both messages.")


def test_the_french_demo_page_speaks_french_and_the_console_shows_the_customers_language(
    customers: Customers, stack: tuple[WidgetServer, str, str], console: Callable[[], Page]
) -> None:
    cc, demo, _ = stack
    SHOTS.mkdir(parents=True, exist_ok=True)
    agent = console()
    visitor = customers.page(cc)
    visitor.goto(demo + "/fr.html")
    w = Widget(visitor)
    expect(w.launcher).to_have_attribute("aria-label", "Ouvrir la discussion")
    w.launcher.click()
    expect(visitor.locator(".root")).to_have_attribute("lang", "fr")
    expect(visitor.locator(".root")).to_have_attribute("dir", "ltr")
    expect(visitor.locator(".prechat h2")).to_have_text("Bonjour\u00a0! Comment pouvons-nous vous aider\u00a0?")
    expect(visitor.locator(".status")).to_have_text("Nous répondons en quelques minutes")
    expect(w.launcher).to_have_attribute("aria-label", "Fermer la discussion")
    visitor.get_by_label("Votre nom").fill("Léa Lefèvre")
    visitor.get_by_label("E-mail", exact=True).fill("lea@example.fr")
    no_overflow(visitor, "desktop pre-chat form")
    visitor.screenshot(path=SHOTS / "widget-fr-desktop-prechat.png", animations="disabled")
    visitor.get_by_role("button", name="Démarrer la discussion").click()
    input_ = visitor.get_by_role("textbox", name="Message")
    expect(input_).to_have_attribute("placeholder", "Écrivez un message…")

    pick_chat(agent, "Léa Lefèvre")
    expect(agent.locator("#thread-lang")).to_have_text("French (fr)")
    expect(agent.locator("#conv-facts")).to_contain_text("LanguageFrench (fr)")
    expect(visitor.locator(".status")).to_have_text(f"En ligne avec {AGENT_NAME}")
    input_.fill("Bonjour, je voudrais ouvrir un compte épargne.")
    input_.press("Enter")
    expect(agent.locator("#msg-log .msg-customer .msg-body").last).to_have_text(
        "Bonjour, je voudrais ouvrir un compte épargne."
    )
    agent.locator("#composer-input").fill("Bonjour Léa")  # typing, before sending
    expect(visitor.locator(".typing")).to_have_text(f"{AGENT_NAME} est en train d’écrire…")
    reply(agent, "Bonjour Léa, avec plaisir. Quel montant souhaitez-vous placer ?")
    expect(w.bubbles().last).to_have_text("Bonjour Léa, avec plaisir. Quel montant souhaitez-vous placer ?")
    expect(visitor.locator(".msg.customer .state").first).to_have_text("Lu")
    no_overflow(visitor, "desktop chat")
    visitor.screenshot(path=SHOTS / "widget-fr-desktop-chat.png", animations="disabled")
    agent.screenshot(path=SHOTS / "console-customer-language-fr.png", animations="disabled")

    visitor.get_by_role("button", name="Terminer la discussion").click()
    expect(visitor.locator(".sheet h3").filter(has_text="Terminer")).to_have_text("Terminer cette discussion\u00a0?")
    visitor.get_by_role("group", name="Terminer la discussion").get_by_role("button", name="Terminer").click()
    expect(visitor.locator(".ended strong")).to_have_text("Discussion terminée")
    expect(visitor.get_by_role("button", name="Démarrer une nouvelle discussion")).to_be_visible()
    no_overflow(visitor, "desktop end of chat")


@pytest.mark.parametrize("lang", ["fr", "de", "vi", "zh"])
def test_long_french_german_and_vietnamese_texts_and_chinese_fit_the_phone_screen(
    customers: Customers, stack: tuple[WidgetServer, str, str], console: Callable[[], Page], lang: str, tmp_path: Path
) -> None:
    cc, demo, pages = stack
    SHOTS.mkdir(parents=True, exist_ok=True)
    names = {"fr": "Noé Mobile", "de": "Jürgen Handy", "vi": "Nguyễn Thị Lan", "zh": "王小明"}
    texts = {
        "fr": (
            "Démarrer la discussion",
            "Terminer la discussion",
            "Terminer",
            "Discussion terminée",
            "Votre nom",
            "Bonjour Noé, je suis là si vous avez la moindre question sur nos prêts immobiliers.",
            "Recevoir la transcription par e-mail",
        ),
        "de": (
            "Chat starten",
            "Chat beenden",
            "Chat beenden",
            "Chat beendet",
            "Ihr Name",
            "Guten Tag, Herr Handy! Wie kann ich Ihnen bei Ihrer Baufinanzierung weiterhelfen?",
            "Chatverlauf per E-Mail senden",
        ),
        "vi": (
            "Bắt đầu trò chuyện",
            "Kết thúc trò chuyện",
            "Kết thúc",
            "Cuộc trò chuyện đã kết thúc",
            "Tên của bạn",
            "Chào chị Lan, em có thể giúp gì cho chị về khoản vay mua nhà ạ?",
            "Gửi nội dung trò chuyện qua email",
        ),
        "zh": (
            "开始聊天",
            "结束聊天",
            "结束聊天",
            "聊天已结束",
            "您的称呼",
            "王先生您好，关于房贷有什么可以帮您的吗？",
            "将聊天记录发到我的邮箱",
        ),
    }[lang]
    agent = console()
    visitor = customers.page(cc, **PHONE)
    # French: the demo bank's French page; the others: a page with <html lang="..."> and no data-lang.
    visitor.goto(demo + "/fr.html" if lang == "fr" else f"{pages}/{lang}.html")
    w = Widget(visitor)
    w.launcher.tap()
    assert w.panel.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 844}
    expect(visitor.locator(".root")).to_have_attribute("lang", lang)
    no_overflow(visitor, f"{lang} phone pre-chat")
    visitor.screenshot(path=SHOTS / f"widget-{lang}-phone-prechat.png", animations="disabled")
    visitor.get_by_label(texts[4]).fill(names[lang])
    visitor.get_by_role("button", name=texts[0]).tap()
    pick_chat(agent, names[lang])
    shown = {"fr": "French (fr)", "de": "German (de)", "vi": "Vietnamese (vi)", "zh": "Chinese (zh-CN)"}
    expect(agent.locator("#thread-lang")).to_have_text(shown[lang])
    reply(agent, texts[5])
    expect(w.bubbles().last).to_have_text(texts[5])
    no_overflow(visitor, f"{lang} phone chat")
    visitor.screenshot(path=SHOTS / f"widget-{lang}-phone-chat.png", animations="disabled")
    visitor.get_by_role("button", name=texts[6]).tap()
    no_overflow(visitor, f"{lang} phone transcript form")
    visitor.screenshot(path=SHOTS / f"widget-{lang}-phone-transcript.png", animations="disabled")
    visitor.locator(".sheet .secondary").first.tap()
    visitor.get_by_role("button", name=texts[1]).first.tap()
    no_overflow(visitor, f"{lang} phone end-chat question")
    visitor.screenshot(path=SHOTS / f"widget-{lang}-phone-confirm.png", animations="disabled")
    visitor.get_by_role("group", name=texts[1]).get_by_role("button", name=texts[2]).tap()
    expect(visitor.locator(".ended strong")).to_have_text(texts[3])
    no_overflow(visitor, f"{lang} phone end of chat")
    visitor.screenshot(path=SHOTS / f"widget-{lang}-phone-ended.png", animations="disabled")


def _page(base: str, html_attrs: str, script_attrs: str) -> str:
    return f"""<!doctype html><html {html_attrs}><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Bank</title>
<script src="{base}/widget.js" {script_attrs} defer></script></head><body><h1>Bank</h1></body></html>"""


def test_which_language_wins_and_nothing_leaks_into_the_sites_page(
    customers: Customers, stack: tuple[WidgetServer, str, str], console: Callable[[], Page]
) -> None:
    cc, _, pages = stack
    cases = [
        ("de-fr.html", "en-GB", "fr", "Ouvrir la discussion"),
        ("none.html", "fr-CA", "fr", "Ouvrir la discussion"),
    ]
    cases += [("de.html", "en-GB", "de", "Chat öffnen"), ("typo.html", "en-GB", "de", "Chat öffnen")]
    cases += [("es.html", "en-GB", "es", "Abrir el chat"), ("zh.html", "en-GB", "zh", "打开聊天")]
    cases += [("vi.html", "en-GB", "vi", "Mở trò chuyện")]
    for path, locale, ui, label in cases:
        visitor = customers.page(cc, locale=locale)
        logged: list[str] = []
        visitor.on("console", lambda m, logged=logged: logged.append(m.text) if m.type == "error" else None)
        visitor.goto(f"{pages}/{path}")
        w = Widget(visitor)
        expect(w.launcher).to_have_attribute("aria-label", label)
        expect(visitor.locator(".root")).to_have_attribute("lang", ui)
        # One script, one function: the table and its helpers are not globals of the site's page.
        assert visitor.evaluate("[typeof WIDGET_TEXTS, typeof makeI18n, typeof t]") == ["undefined"] * 3
        if path == "typo.html":
            eventually(lambda logged=logged: [x for x in logged if 'data-lang="français"' in x], what="the error")
        visitor.close()

    # A language the widget has no texts for: English on screen, and the agent sees what the page asked for.
    agent = console()
    visitor = customers.page(cc)
    visitor.goto(pages + "/pt.html")
    w = Widget(visitor)
    w.open()
    expect(visitor.locator(".root")).to_have_attribute("lang", "en")
    w.start("João Silva")
    pick_chat(agent, "João Silva")
    expect(agent.locator("#thread-lang")).to_have_text("Portuguese (pt)")
    expect(w.status).to_have_text(f"Chatting with {AGENT_NAME}")

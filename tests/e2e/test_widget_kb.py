"""The knowledge base in the widget, in Debian's Chromium against the real server: the customer searches as
they type, reads an article (sanitised twice: script in it never runs), says it helped (counted on the
server), and "Still need help?" leads to the chat form or the callback form; in Chinese on a phone."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.kb_fixtures import PLANNER, PLANNER_PASSWORD, article, kb_server, staff_client
from tests.e2e.widget_fixtures import Customers, WidgetServer, customers, eventually

__all__ = ["customers", "kb_server"]  # fixtures used below

ZH_PAGE = """<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>港湾银行</title></head>
<body><h1>港湾银行</h1><script src="/widget.js" defer></script></body></html>"""


def _open(page: Page) -> None:
    page.locator("#cc-chat-widget .launcher").click()
    expect(page.locator(".panel")).to_be_visible()


def _fits(page: Page) -> bool:
    """Nothing in the panel is wider than the panel (no sideways scrolling on a phone)."""
    return bool(
        page.evaluate("""() => {
      const root = document.querySelector('#cc-chat-widget').shadowRoot;
      const main = root.querySelector('.main');
      return main.scrollWidth <= main.clientWidth;
    }""")
    )


def test_a_customer_finds_an_article_reads_it_says_it_helped_then_asks_for_a_chat(
    customers: Customers, kb_server: WidgetServer, artifacts: Path
) -> None:
    page = customers.page(kb_server)
    page.goto("/demo/")
    _open(page)
    search = page.get_by_role("searchbox", name="Find an answer")
    hits = page.locator(".kb-hit")
    # A question the articles do not answer says so, in words.
    search.fill("zzqx")
    expect(page.locator(".kb-status")).to_have_text("No article matches yet. Try other words, or ask us below.")
    # As the customer types, key by key: the answer to the latest text is the one shown.
    search.fill("")
    search.press_sequentially("lost card")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("Block a lost or stolen card")
    expect(hits.first).to_contain_text("Open the app, go to Cards")
    expect(hits.first).to_contain_text("<script>")  # the summary is text: no entities shown as they are
    page.screenshot(path=artifacts / "widget-kb-search.png")

    hits.first.click()
    body = page.locator(".kb-body")
    expect(page.get_by_role("heading", name="Block a lost or stolen card")).to_be_visible()
    expect(body.locator("strong")).to_have_text("Cards")
    expect(page.get_by_role("searchbox", name="Find an answer")).to_be_hidden()
    # Script in the article is text; only the https link is a link, opened in a new tab.
    assert body.locator("script").count() == 0 and page.evaluate("window.__xss") is None
    assert "<script>window.__xss = 1</script>" in body.inner_text()
    links = body.locator("a[href]")
    expect(links).to_have_count(1)
    expect(links.first).to_have_attribute("href", "https://bank.example/cards")
    expect(links.first).to_have_attribute("target", "_blank")
    page.screenshot(path=artifacts / "widget-kb-article.png")

    page.get_by_role("button", name="Yes, thanks").click()
    expect(page.locator(".kb-vote p")).to_have_text("Thank you! Glad it helped.")
    expect(page.get_by_role("button", name="Yes, thanks")).to_be_hidden()
    with staff_client(kb_server, PLANNER, PLANNER_PASSWORD) as staff:
        counted = eventually(lambda: (a := article(staff, "block-lost-card"))["helped"] == 1 and a, what="the vote")
        assert counted["views"] >= 1 and counted["not_helped"] == 0

    page.get_by_role("button", name="Chat with an adviser").click()
    expect(page.get_by_label("Your name")).to_be_focused()
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    # Back at the form, the search is there again with the customer's words and answers.
    expect(search).to_have_value("lost card")
    expect(hits).to_have_count(1)


def test_on_a_chinese_page_on_a_phone_the_widget_searches_and_shows_articles_in_chinese(
    customers: Customers, kb_server: WidgetServer, artifacts: Path
) -> None:
    page = customers.page(kb_server, viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True)
    page.route("**/zh-page", lambda route: route.fulfill(body=ZH_PAGE, content_type="text/html; charset=utf-8"))
    page.goto("/zh-page")
    _open(page)
    search = page.get_by_role("searchbox", name="查找答案")
    search.fill("银行卡")
    hits = page.locator(".kb-hit")
    expect(hits.first).to_contain_text("冻结丢失或被盗的银行卡")
    assert _fits(page)
    page.screenshot(path=artifacts / "widget-kb-search-zh-phone.png")
    hits.first.click()
    expect(page.get_by_role("heading", name="冻结丢失或被盗的银行卡")).to_be_visible()
    expect(page.locator(".kb-article")).to_have_attribute("lang", "zh")
    expect(page.locator(".kb-more strong")).to_have_text("仍需帮助？")
    assert _fits(page)
    page.screenshot(path=artifacts / "widget-kb-article-zh-phone.png")
    page.get_by_role("button", name="没有").click()
    expect(page.locator(".kb-vote p")).to_have_text("谢谢。顾问可以进一步帮助您。")
    # No Chinese translation of the password article: it is found and shown in English.
    page.get_by_role("button", name="‹ 返回").click()
    search.fill("password")
    expect(hits.first).to_contain_text("Reset your online banking password")
    hits.first.click()
    expect(page.locator(".kb-article")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="请求回电").click()
    expect(page.locator(".cbform")).to_be_visible()
    with staff_client(kb_server, PLANNER, PLANNER_PASSWORD) as staff:
        assert article(staff, "block-lost-card")["not_helped"] == 1


def test_searching_opening_nothing_then_asking_for_a_chat_is_counted_as_a_failed_self_service(
    customers: Customers, kb_server: WidgetServer
) -> None:
    page = customers.page(kb_server)
    page.goto("/demo/contact.html")
    _open(page)
    page.get_by_role("searchbox", name="Find an answer").fill("change my address abroad")
    expect(page.locator(".kb-status, .kb-hit").first).to_be_visible()  # answered: hits or "no article"
    page.get_by_label("Your name").fill("Fay Failed")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    with staff_client(kb_server, PLANNER, PLANNER_PASSWORD) as staff:

        def reported() -> list[dict[str, str]]:
            recent: list[dict[str, str]] = staff.get("/api/kb/manage/failed-searches").json()["recent"]
            return [r for r in recent if r["query"] == "change my address abroad"]

        found = eventually(reported, what="the failed self-service")
        assert [(r["lang"], r["asked"]) for r in found] == [("en", "chat")]

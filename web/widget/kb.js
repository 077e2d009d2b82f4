/* The knowledge base in the widget (issue 17): the customer searches the help articles as they type, reads
 * one (the server's sanitised HTML, copied again through an allow-list here), says whether it helped, and
 * "Still need help?" leads on to a chat or a callback. Served between cobrowse.js and widget.js inside the
 * same function (contactcenter/channels/chat/widget.py), so nothing here is global. */
function makeKb(o) {
  // o: { origin, lang, t, h, vote(slug, helped) -> Promise<{helped, not_helped}>, chat(), callback(), shown(view) }
  const DEBOUNCE_MS = 250;
  const MIN_CHARS = 2;
  // What an article may contain (the server allows the same through nh3: contactcenter/kb/render.py).
  const TAGS = new Set([
    "P", "BR", "HR", "H1", "H2", "H3", "H4", "H5", "H6", "STRONG", "EM", "CODE", "PRE", "BLOCKQUOTE",
    "UL", "OL", "LI", "A", "TABLE", "THEAD", "TBODY", "TR", "TH", "TD",
  ]);
  const h = o.h;
  const t = o.t;
  let timer = 0;
  let asked = 0; // the number of the latest search: an older answer arriving late is dropped
  let current = null; // the slug shown
  let controller = null;
  let searched = ""; // the last text that was answered (with hits or none)
  let opened = false; // an article was opened on this page

  const ui = {};
  ui.input = h("input", { type: "search", id: "ccw-kbq", maxlength: 200, autocomplete: "off", placeholder: t("kb.placeholder"), oninput: onInput, onkeydown: (e) => e.key === "Enter" && (e.preventDefault(), run()) });
  ui.hits = h("ul", { class: "kb-hits", "aria-label": t("kb.results") });
  ui.status = h("p", { class: "kb-status", role: "status", hidden: true });
  ui.search = h(
    "section",
    { class: "kb", role: "search" },
    h("label", { for: "ccw-kbq", text: t("kb.label") }),
    ui.input,
    ui.status,
    ui.hits
  );
  ui.title = h("h2", { id: "ccw-kbtitle", tabindex: "-1" });
  ui.body = h("div", { class: "kb-body" });
  ui.voteText = h("p", { text: t("kb.vote.question") });
  ui.yes = h("button", { class: "secondary", type: "button", text: t("kb.vote.yes"), onclick: () => vote(true) });
  ui.no = h("button", { class: "secondary", type: "button", text: t("kb.vote.no"), onclick: () => vote(false) });
  ui.voteRow = h("div", { class: "row" }, ui.yes, ui.no);
  ui.article = h(
    "article",
    { class: "kb-article", hidden: true, "aria-labelledby": "ccw-kbtitle" },
    h("button", { class: "link kb-back", type: "button", text: t("kb.back"), onclick: back }),
    ui.title,
    ui.body,
    h("div", { class: "kb-vote" }, ui.voteText, ui.voteRow),
    h(
      "div",
      { class: "kb-more" },
      h("strong", { text: t("kb.more.heading") }),
      h("button", { class: "primary", type: "button", text: t("kb.more.chat"), onclick: () => o.chat() }),
      h("button", { class: "secondary wide", type: "button", text: t("kb.more.callback"), onclick: () => o.callback() })
    )
  );

  function say(text) {
    ui.status.textContent = text || "";
    ui.status.hidden = !text;
  }
  function onInput() {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  }
  async function run() {
    clearTimeout(timer);
    const q = ui.input.value.trim();
    const mine = ++asked;
    if (controller) controller.abort();
    if (q.length < MIN_CHARS) {
      ui.hits.replaceChildren();
      return say("");
    }
    controller = new AbortController();
    let r;
    try {
      const url = `${o.origin}/api/kb/search?q=${encodeURIComponent(q)}&lang=${encodeURIComponent(o.lang)}`;
      r = await fetch(url, { signal: controller.signal });
    } catch (e) {
      if (mine === asked) say(e.name === "AbortError" ? "" : t("kb.failed"));
      return;
    }
    if (mine !== asked) return;
    if (r.status === 429) return say(t("kb.busy"));
    const hits = r.ok ? await r.json().catch(() => null) : null;
    if (mine !== asked) return;
    if (!Array.isArray(hits)) return say(t("kb.failed"));
    searched = q;
    ui.hits.replaceChildren(...hits.map(hit));
    say(hits.length ? "" : t("kb.none"));
  }
  function hit(x) {
    return h(
      "li",
      null,
      h("button", { class: "kb-hit", type: "button", "data-slug": x.slug, onclick: () => open(x.slug) }, h("strong", { text: x.title }), h("span", { text: x.summary }))
    );
  }
  // A copy of the article's HTML made of allowed elements only: never innerHTML into the live page.
  function copy(node, into) {
    for (const c of node.childNodes) {
      if (c.nodeType === 3) into.append(c.data);
      else if (c.nodeType === 1 && TAGS.has(c.tagName)) {
        const out = document.createElement(c.tagName.toLowerCase());
        if (c.tagName === "A") {
          const href = c.getAttribute("href") || "";
          if (/^(https?:|mailto:)/i.test(href)) out.setAttribute("href", href);
          out.setAttribute("target", "_blank");
          out.setAttribute("rel", "noopener noreferrer nofollow");
        }
        copy(c, out);
        into.append(out);
      } else if (c.nodeType === 1) copy(c, into); // an unknown element: its text only
    }
  }
  async function open(slug) {
    let r;
    try {
      r = await fetch(`${o.origin}/api/kb/articles/${encodeURIComponent(slug)}?lang=${encodeURIComponent(o.lang)}`);
    } catch (e) {
      return say(t("kb.failed"));
    }
    const a = r.ok ? await r.json().catch(() => null) : null;
    if (!a) return say(t("kb.failed"));
    current = a.slug;
    opened = true;
    ui.title.textContent = a.title;
    ui.article.lang = a.lang;
    const parsed = new DOMParser().parseFromString(a.body_html, "text/html");
    ui.body.replaceChildren();
    copy(parsed.body, ui.body);
    ui.voteText.textContent = t("kb.vote.question");
    ui.voteRow.hidden = false;
    o.shown("article");
    ui.title.focus({ preventScroll: true });
  }
  async function vote(helped) {
    if (!current) return;
    ui.yes.disabled = ui.no.disabled = true;
    try {
      await o.vote(current, helped);
      ui.voteRow.hidden = true;
      ui.voteText.textContent = t(helped ? "kb.vote.thanks" : "kb.vote.sorry");
    } catch (err) {
      ui.voteText.textContent = t("kb.vote.failed", { error: err.message });
    } finally {
      ui.yes.disabled = ui.no.disabled = false;
    }
  }
  function back() {
    current = null;
    o.shown("prechat");
    ui.input.focus({ preventScroll: true });
  }
  // "Searched, opened nothing": the text searched, for a failed self-service report when help is asked.
  function unanswered() {
    return searched && !opened ? searched : null;
  }
  return { search: ui.search, article: ui.article, open, unanswered };
}

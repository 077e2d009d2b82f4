// Agent console, help articles (customer panel): articles for the selected conversation's topic in the
// customer's language (GET /api/kb/suggestions), a search of its own, and "Insert" to put an article's
// title, summary and link into the reply box (the agent still sends it).
"use strict";

(function (CC) {
  const { el, $ } = CC;
  const S = () => CC.state;
  const DEBOUNCE_MS = 250;
  let token = 0;
  let timer = 0;

  function link(hit) {
    return `${location.origin}/help/${encodeURIComponent(hit.slug)}?lang=${encodeURIComponent(hit.lang)}`;
  }

  function insert(hit) {
    const input = $("composer-input");
    const text = `${hit.title}: ${hit.summary}\n${link(hit)}`;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? start;
    const before = input.value.slice(0, start);
    const gap = before && !before.endsWith("\n") ? "\n" : "";
    input.value = before + gap + text + input.value.slice(end);
    const caret = (before + gap + text).length;
    input.setSelectionRange(caret, caret);
    input.focus();
    input.dispatchEvent(new Event("input")); // the composer keeps its draft and sizes itself
  }

  function card(hit) {
    return el("li", { class: "kb-card", "data-slug": hit.slug },
      el("strong", { class: "kb-title" }, hit.title),
      el("div", { class: "kb-summary" }, hit.summary),
      el("div", { class: "kb-meta muted small" }, `${hit.category} · ${CC.langName(hit.lang)}`),
      el("div", { class: "kb-actions" },
        el("button", { type: "button", class: "btn btn-small btn-primary", "aria-label": `Insert “${hit.title}” into the reply`, onclick: () => insert(hit) }, "Insert"),
        el("a", { class: "small", href: link(hit), target: "_blank", rel: "noopener" }, "Open")));
  }

  async function show(path, empty) {
    const t = ++token;
    const list = $("kb-list");
    list.setAttribute("aria-busy", "true");
    try {
      const hits = await CC.api(path);
      if (t !== token) return;
      $("kb-count").textContent = hits.length ? String(hits.length) : "";
      list.replaceChildren(...(hits.length ? hits.map(card) : [el("li", { class: "muted" }, empty)]));
    } catch (err) {
      if (t === token) list.replaceChildren(el("li", { class: "panel-error" }, `Could not load articles: ${err.message}`));
    } finally {
      if (t === token) list.setAttribute("aria-busy", "false");
    }
  }

  function suggested(id) {
    if (!id || !S().convs.get(id)) return;
    $("kb-q").value = "";
    show(`/api/kb/suggestions?conversation_id=${encodeURIComponent(id)}`, "No article for this chat's topic. Search above.");
  }

  function search() {
    clearTimeout(timer);
    const q = $("kb-q").value.trim();
    if (!q) return suggested(S().selected);
    const rec = S().convs.get(S().selected);
    const lang = rec && rec.info.lang ? `&lang=${encodeURIComponent(rec.info.lang)}` : "";
    show(`/api/kb/search?q=${encodeURIComponent(q)}${lang}&limit=8`, "No article matches.");
  }

  $("kb-q").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  $("kb-form").addEventListener("submit", (e) => (e.preventDefault(), search()));
  CC.on("selected", (rec) => suggested(rec.id));
})(window.CC);

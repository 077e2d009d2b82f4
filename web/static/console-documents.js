// Agent console, document push (docs/api.md "Documents"): search the library, add a document, push one into
// the selected conversation; the customer's receipts (opened, seconds per page, closed) show as they come.
"use strict";

(function (CC) {
  const { $, el } = CC;
  const S = () => CC.state;
  const pushes = new Map(); // conversation id -> Map(push id -> { title, push })
  const btn = $("docs-btn");
  const pane = $("docs-pane");
  const list = $("docs-list");
  const sent = $("docs-sent");
  const search = $("docs-search");
  const form = $("docs-upload");
  const status = $("docs-status");
  let timer = 0;

  function selected() {
    const rec = S().selected && S().convs.get(S().selected);
    return rec && CC.isOpen(rec) ? rec : null;
  }
  function kind(type) {
    if (type === "application/pdf") return "PDF";
    if (type.startsWith("image/")) return "Image";
    return "Sheet";
  }

  async function load() {
    const q = search.value.trim();
    try {
      const docs = await CC.api("/api/documents" + (q ? "?q=" + encodeURIComponent(q) : ""));
      list.replaceChildren(
        ...docs.map((d) =>
          el("li", { class: "doc-item", "data-id": d.id },
            el("span", { class: "doc-kind" }, kind(d.content_type)),
            el("span", { class: "doc-title" }, d.title, d.tags.length ? el("span", { class: "muted small" }, " · " + d.tags.join(", ")) : null),
            el("button", { type: "button", class: "btn btn-small", onclick: () => push(d) }, "Show to customer"))
        )
      );
      if (!docs.length) list.replaceChildren(el("li", { class: "muted small" }, q ? "No document matches." : "The library is empty."));
    } catch (e) {
      status.textContent = e.message;
    }
  }

  function push(d) {
    const rec = selected();
    if (!rec) return;
    CC.frame({ type: "document_push", conversation_id: rec.id, document_id: d.id });
    status.textContent = `Sending “${d.title}”…`;
  }

  function fmtSeconds(s) {
    return s < 10 ? `${s.toFixed(1)} s` : s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  }
  function receiptText(p) {
    if (!p.opened_at) return "Sent, not opened yet";
    const pages = Object.entries(p.page_seconds).sort((a, b) => +a[0] - +b[0]);
    const viewed = pages.map(([n, s]) => `p. ${n}: ${fmtSeconds(s)}`).join(" · ");
    const of = p.page_count ? ` (${pages.length} of ${p.page_count} pages viewed)` : "";
    return (p.closed_at ? "Opened, closed" : "Open now") + of + (viewed ? " — " + viewed : "");
  }
  // An open PDF of several pages: the agent turns it for both ("let's look at page 3 together").
  function turner(p) {
    if (!p.opened_at || p.closed_at || !p.page_count || p.page_count < 2) return null;
    const input = el("input", { type: "number", min: "1", max: String(p.page_count), value: "1", "aria-label": "Page to show" });
    const go = () => {
      const page = Math.round(Number(input.value));
      if (page >= 1 && page <= p.page_count) CC.frame({ type: "document_turn", push_id: p.id, page });
    };
    return el("span", { class: "doc-turn" }, "Turn the customer's view to page ", input,
      el("button", { type: "button", class: "btn btn-small", onclick: go }, "Show page"));
  }
  function renderSent() {
    const rec = selected();
    const mine = rec ? pushes.get(rec.id) : null;
    sent.replaceChildren(
      ...[...(mine ? mine.values() : [])].map(({ title, push }) =>
        el("li", { class: "doc-sent", "data-push": push.id, "data-opened": push.opened_at ? "1" : "0" },
          el("strong", null, title), el("span", { class: "doc-receipt" }, receiptText(push)), turner(push)))
    );
  }
  function render() {
    const rec = selected();
    btn.hidden = !rec;
    if (!rec) pane.hidden = true;
    btn.setAttribute("aria-expanded", String(!pane.hidden));
    renderSent();
  }

  function onFrame(f) {
    if (f.type !== "document_receipt") return;
    if (!pushes.has(f.conversation_id)) pushes.set(f.conversation_id, new Map());
    pushes.get(f.conversation_id).set(f.push.id, { title: f.title, push: f.push });
    if (f.conversation_id === S().selected) {
      if (f.event === "pushed") status.textContent = `“${f.title}” is on the customer's screen`;
      if (f.event === "opened") CC.announce(`The customer opened “${f.title}”`);
      renderSent();
    }
  }

  btn.addEventListener("click", () => {
    pane.hidden = !pane.hidden;
    if (!pane.hidden) load();
    render();
  });
  $("docs-close").addEventListener("click", () => ((pane.hidden = true), render()));
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(load, 200);
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    status.textContent = "Adding…";
    try {
      const d = await CC.api("/api/documents", { method: "POST", form: data });
      status.textContent = `“${d.title}” added to the library`;
      form.reset();
      load();
    } catch (err) {
      status.textContent = err.message;
    }
  });

  CC.on("frame", onFrame);
  CC.on("selected", async (rec) => {
    render();
    try {
      const done = await CC.api(`/api/documents/conversations/${encodeURIComponent(rec.id)}`);
      const docs = pushes.get(rec.id) || new Map();
      for (const p of done) if (!docs.has(p.id)) docs.set(p.id, { title: p.title, push: p });
      pushes.set(rec.id, docs);
    } catch (_) {
      /* receipts still arrive as frames */
    }
    render();
  });
  CC.on("conversations", render);
})(window.CC);

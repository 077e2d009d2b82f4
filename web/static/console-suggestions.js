// Agent console, sales suggestions (customer panel): what the business rules suggest for the selected chat,
// ranked, with the sales script rendered by the server (escaped there). Accept, dismiss with a reason, or
// record a sale. Refetched when the chat is selected and when the server sends a `suggestions` frame.
"use strict";

(function (CC) {
  const { el, $ } = CC;
  const S = () => CC.state;
  let token = 0;
  let shownFor = null;
  const STATUS = { shown: "New", accepted: "Accepted", dismissed: "Dismissed", converted: "Sale recorded" };

  function notice(card, text) {
    card.querySelector(".sg-error").textContent = text;
  }

  async function act(card, s, path, json) {
    notice(card, "");
    for (const b of card.querySelectorAll("button")) b.disabled = true;
    try {
      await CC.api(`/api/suggestions/${s.id}/${path}`, { method: "POST", json });
      await load(S().selected);
    } catch (err) {
      notice(card, `Could not save: ${err.message}`);
      for (const b of card.querySelectorAll("button")) b.disabled = false;
    }
  }

  function dismissForm(card, s) {
    const input = el("input", { type: "text", maxlength: "500", placeholder: "Why? e.g. not interested", "aria-label": "Reason" });
    const form = el("form", { class: "sg-form" }, input,
      el("button", { type: "submit", class: "btn btn-small" }, "Dismiss"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!input.value.trim()) return notice(card, "Say why, for the planners.");
      act(card, s, "dismiss", { reason: input.value.trim() });
    });
    card.querySelector(".sg-extra").replaceChildren(form);
    input.focus();
  }

  function saleForm(card, s) {
    const product = el("input", { type: "text", maxlength: "120", value: s.offer, "aria-label": "Product" });
    const amount = el("input", { type: "number", min: "0", step: "0.01", placeholder: "Amount", "aria-label": "Amount" });
    const form = el("form", { class: "sg-form" }, product, amount,
      el("button", { type: "submit", class: "btn btn-small btn-primary" }, "Record sale"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const n = Number(amount.value);
      if (!product.value.trim() || amount.value === "" || !Number.isFinite(n) || n < 0) {
        return notice(card, "Give the product and the amount.");
      }
      act(card, s, "convert", { product: product.value.trim(), amount: n });
    });
    card.querySelector(".sg-extra").replaceChildren(form);
    amount.focus();
  }

  function card(s) {
    const script = el("div", { class: "sg-script" });
    script.innerHTML = s.script_html; // rendered and escaped by the server (docs/api.md)
    const buttons = [];
    if (s.status === "shown" || s.status === "dismissed") {
      buttons.push(el("button", { type: "button", class: "btn btn-small btn-primary", "data-act": "accept" }, "Accept"));
    }
    if (s.status !== "converted") {
      buttons.push(el("button", { type: "button", class: "btn btn-small", "data-act": "sale" }, "Record sale"));
      if (s.status !== "dismissed") buttons.push(el("button", { type: "button", class: "btn btn-small btn-quiet", "data-act": "dismiss" }, "Dismiss"));
    }
    const c = el("li", { class: "sg-card", "data-status": s.status, "data-rule": s.rule_id, "data-id": String(s.id) },
      el("div", { class: "sg-head" },
        el("strong", { class: "sg-title" }, s.title),
        el("span", { class: "status-pill sg-status", "data-status": s.status }, STATUS[s.status] || s.status)),
      el("div", { class: "sg-reason" }, s.reason),
      s.ptc_reason ? el("div", { class: "sg-ptc small" }, el("span", { class: "sg-ptc-label" }, "Why this customer: "), s.ptc_reason) : null,
      el("div", { class: "sg-meta muted small" }, `${s.offer} · priority ${s.priority} · ` +
        (s.rule_id.startsWith("campaign:") ? `campaign ${s.rule_id.slice(9)}` : `rule ${s.rule_id} v${s.version}`)),
      el("details", { class: "sg-details", open: s.status === "shown" || s.status === "accepted" },
        el("summary", {}, "Sales script"), script),
      el("div", { class: "sg-actions" }, ...buttons),
      el("div", { class: "sg-extra" }),
      el("div", { class: "sg-error", role: "alert" }));
    c.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-act]");
      if (!b) return;
      if (b.dataset.act === "accept") act(c, s, "accept");
      else if (b.dataset.act === "dismiss") dismissForm(c, s);
      else saleForm(c, s);
    });
    return c;
  }

  async function load(id) {
    const rec = id && S().convs.get(id);
    if (!rec) return;
    const t = ++token;
    const list = $("sg-list");
    if (shownFor !== id) {
      list.replaceChildren(el("li", { class: "muted" }, "Loading…"));
      shownFor = id;
    }
    list.setAttribute("aria-busy", "true");
    try {
      const data = await CC.api(`/api/conversations/${encodeURIComponent(id)}/suggestions`);
      if (t !== token) return;
      const items = data.suggestions;
      $("sg-count").textContent = items.length ? String(items.length) : "";
      list.replaceChildren(...(items.length ? items.map(card)
        : [el("li", { class: "muted" }, "No suggestion for this customer right now.")]));
    } catch (err) {
      if (t === token) list.replaceChildren(el("li", { class: "panel-error" }, `Could not load suggestions: ${err.message}`));
    } finally {
      if (t === token) list.setAttribute("aria-busy", "false");
    }
  }

  CC.on("selected", (rec) => load(rec.id));
  CC.on("frame", (f) => {
    if (f.type === "suggestions" && f.conversation_id === S().selected) load(f.conversation_id);
  });
})(window.CC);

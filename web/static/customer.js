// Customer page: CCR timeline (filters, paging), orders panel, face-to-face notes.
// Plain JS; every piece of user-provided text goes in with textContent, never innerHTML.
"use strict";

(function () {
  const app = document.getElementById("customer-app");
  const customerId = app.dataset.customerId;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const PAGE = 50;
  const ICON = {
    web: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM3 12h18M12 3c2.5 2.7 3.8 5.7 3.8 9s-1.3 6.3-3.8 9c-2.5-2.7-3.8-5.7-3.8-9S9.5 5.7 12 3z",
    chat: "M21 12a8 8 0 0 1-11.6 7.1L4 20l1.1-4.6A8 8 0 1 1 21 12z",
    phone:
      "M21 16.5v3a2 2 0 0 1-2.2 2A19 19 0 0 1 2.5 5.2 2 2 0 0 1 4.5 3h3a2 2 0 0 1 2 1.7c.1 .9.4 1.8.7 2.6a2 2 0 0 1-.5 2.1L8.4 10.7a16 16 0 0 0 4.9 4.9l1.3-1.3a2 2 0 0 1 2.1-.5c.8.3 1.7.6 2.6.7a2 2 0 0 1 1.7 2z",
    email: "M3 5h18v14H3zM3 6l9 7 9-7",
    person: "M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
    system: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM12 2v3M12 19v3M4.9 4.9 7 7M17 17l2.1 2.1M2 12h3M19 12h3M4.9 19.1 7 17M17 7l2.1-2.1",
  };
  const CHANNELS = {
    chat: { label: "Chat", icon: ICON.chat },
    voice: { label: "Voice", icon: ICON.phone },
    callback: { label: "Callback", icon: ICON.phone + "M15 3h6v6M21 3l-6 6" },
    email: { label: "Email", icon: ICON.email },
    web: { label: "Web", icon: ICON.web },
    face_to_face: { label: "Face to face", icon: ICON.person },
    system: { label: "System", icon: ICON.system },
  };
  const DIRECTION = { in: "Inbound", out: "Outbound", internal: "Internal" };

  const list = document.getElementById("timeline");
  const emptyEl = document.getElementById("timeline-empty");
  const errorEl = document.getElementById("timeline-error");
  const statusEl = document.getElementById("timeline-status");
  const moreBtn = document.getElementById("load-more");
  const chipsEl = document.getElementById("channel-chips");
  const state = { channels: new Set(), cursor: null, loading: false, seq: 0, shown: new Set() };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function icon(d) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const attrs = { viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", "stroke-width": "2",
      "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true" };
    for (const [k, v] of Object.entries(attrs)) svg.setAttribute(k, v);
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    svg.append(path);
    return svg;
  }

  class ApiError extends Error {
    constructor(status, code, detail) {
      const text = Array.isArray(detail)
        ? detail.map((d) => `${(d.loc || []).slice(-1)[0] || "request"}: ${d.msg}`).join("; ")
        : detail ? String(detail) : `${code} (HTTP ${status})`;
      super(text);
      this.status = status;
      this.code = code;
      this.detail = detail;
    }
  }

  async function api(path, { method = "GET", json } = {}) {
    const headers = { Accept: "application/json" };
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["X-CSRF-Token"] = csrf;
    }
    let res;
    try {
      const body = json === undefined ? undefined : JSON.stringify(json);
      res = await fetch(path, { method, headers, body, credentials: "same-origin" });
    } catch (_) {
      throw new ApiError(0, "network", "Could not reach the server. Check the connection and try again.");
    }
    const data = await res.json().catch(() => null);
    if (res.status === 401) window.location.assign("/login?next=" + encodeURIComponent(location.pathname));
    if (!res.ok) throw new ApiError(res.status, (data && data.error) || "http_error", data && data.detail);
    return data;
  }

  const pad = (n) => String(n).padStart(2, "0");
  const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
  const yearFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
  const longFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });

  function when(iso) {
    const d = new Date(iso);
    const now = new Date();
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    let day;
    if (d.toDateString() === now.toDateString()) day = "Today";
    else if (d.toDateString() === yesterday.toDateString()) day = "Yesterday";
    else if (d.getFullYear() === now.getFullYear()) day = dayFmt.format(d);
    else day = yearFmt.format(d);
    return el("time", { class: "touch-time", datetime: iso, title: longFmt.format(d) }, `${day}, ${hm}`);
  }

  const humanize = (s) => (s ? s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, " ") : "");

  function touchItem(t, fresh) {
    const ch = CHANNELS[t.channel] || { label: humanize(t.channel), icon: ICON.system };
    const payload = t.payload || {};
    const meta = el(
      "div",
      { class: "touch-meta" },
      el("span", { class: "channel-badge" }, ch.label),
      el("span", { class: "sep touch-kind" }, humanize(t.kind)),
      el("span", { class: "sep touch-direction" }, DIRECTION[t.direction] || t.direction),
      t.agent_id != null && el("span", { class: "sep touch-agent" }, `Agent #${t.agent_id}`),
      typeof payload.author === "string" && el("span", { class: "sep" }, `by ${payload.author}`),
    );
    const body = typeof payload.body === "string" && payload.body.trim() ? payload.body : null;
    return el(
      "li",
      { class: fresh ? "touch fresh" : "touch", "data-channel": t.channel, "data-touch-id": String(t.id) },
      el("div", { class: "touch-icon", title: ch.label }, icon(ch.icon)),
      el("div", { class: "touch-summary" }, t.summary || "(no summary)"),
      when(t.occurred_at),
      meta,
      body && el("p", { class: "touch-body" }, body),
    );
  }

  function showStatus() {
    const n = list.children.length;
    emptyEl.hidden = n > 0;
    if (!n) {
      emptyEl.textContent = state.channels.size
        ? "No contacts on the selected channels."
        : "No contacts recorded for this customer yet.";
    }
    moreBtn.hidden = !state.cursor;
    statusEl.textContent = n ? `${n} shown${state.cursor ? "" : " · end of timeline"}` : "";
  }

  function setLoading(on) {
    state.loading = on;
    list.setAttribute("aria-busy", String(on));
    moreBtn.disabled = on;
    moreBtn.classList.toggle("loading", on);
    moreBtn.textContent = on ? "Loading…" : "Load more";
    if (on) statusEl.textContent = "Loading timeline…";
  }

  async function loadPage(reset) {
    if (!reset && (state.loading || !state.cursor)) return;
    const seq = reset ? ++state.seq : state.seq;
    const params = new URLSearchParams({ limit: String(PAGE) });
    for (const c of state.channels) params.append("channel", c);
    if (!reset) params.set("cursor", state.cursor);
    errorEl.hidden = true;
    setLoading(true);
    if (reset) {
      list.replaceChildren();
      state.shown.clear();
      emptyEl.hidden = true;
      moreBtn.hidden = true;
    }
    try {
      const page = await api(`/api/customers/${customerId}/timeline?${params}`);
      if (seq !== state.seq) return;
      const fresh = page.items.filter((t) => !state.shown.has(t.id));
      fresh.forEach((t) => state.shown.add(t.id));
      list.append(...fresh.map((t) => touchItem(t, false)));
      state.cursor = page.next_cursor;
    } catch (err) {
      if (seq !== state.seq) return;
      errorEl.textContent = `Could not load the timeline: ${err.message}`;
      errorEl.hidden = false;
    } finally {
      if (seq === state.seq) {
        setLoading(false);
        showStatus();
      }
    }
  }

  function renderChips() {
    const chip = (value, label) =>
      el("button", { type: "button", class: "chip", "data-channel": value || null, "data-value": value || "all" },
        value && el("span", { class: "dot", "aria-hidden": "true" }), label);
    chipsEl.append(chip("", "All channels"), ...Object.entries(CHANNELS).map(([k, c]) => chip(k, c.label)));
    syncChips();
    chipsEl.addEventListener("click", (ev) => {
      const btn = ev.target.closest(".chip");
      if (!btn) return;
      const value = btn.dataset.value;
      if (value === "all") state.channels.clear();
      else if (state.channels.has(value)) state.channels.delete(value);
      else state.channels.add(value);
      syncChips();
      loadPage(true);
    });
  }

  function syncChips() {
    for (const btn of chipsEl.querySelectorAll(".chip")) {
      const v = btn.dataset.value;
      btn.setAttribute("aria-pressed", String(v === "all" ? state.channels.size === 0 : state.channels.has(v)));
    }
  }

  async function loadOrders() {
    const ul = document.getElementById("orders");
    const count = document.getElementById("orders-count");
    try {
      const orders = await api(`/api/customers/${customerId}/orders`);
      count.textContent = orders.length ? String(orders.length) : "";
      if (!orders.length) {
        ul.replaceChildren(el("li", { class: "muted" }, "No orders on record."));
        return;
      }
      ul.replaceChildren(...orders.map((o) => {
        const amount = Number(o.amount);
        const shown = Number.isFinite(amount)
          ? amount.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
          : String(o.amount);
        const placed = yearFmt.format(new Date(o.placed_at));
        return el("li", { class: "order", "data-order-id": String(o.id) },
          el("span", { class: "order-name" }, o.product_name),
          el("span", { class: "order-amount" }, shown),
          el("span", { class: "order-meta" }, `${o.sku} · qty ${o.quantity} · ${placed}`),
          el("span", { class: "status-pill", "data-status": o.status }, o.status));
      }));
    } catch (err) {
      ul.replaceChildren();
      const box = document.getElementById("orders-error");
      box.textContent = `Could not load orders: ${err.message}`;
      box.hidden = false;
    }
  }

  function setupNotes() {
    const form = document.getElementById("note-form");
    const fields = { summary: document.getElementById("note-summary"), body: document.getElementById("note-body") };
    const submit = document.getElementById("note-submit");
    const status = document.getElementById("note-status");
    const formError = document.getElementById("note-error");

    function fieldError(name, message) {
      const box = document.getElementById(`note-${name}-error`);
      box.textContent = message;
      box.hidden = false;
      fields[name].setAttribute("aria-invalid", "true");
    }
    function clearErrors() {
      for (const name of Object.keys(fields)) {
        document.getElementById(`note-${name}-error`).hidden = true;
        fields[name].removeAttribute("aria-invalid");
      }
      formError.hidden = true;
      status.textContent = "";
      status.className = "status";
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors();
      const summary = fields.summary.value.trim();
      if (!summary) {
        fieldError("summary", "Enter a short summary of the conversation.");
        fields.summary.focus();
        return;
      }
      submit.disabled = true;
      submit.classList.add("loading");
      status.textContent = "Saving…";
      try {
        const touch = await api(`/api/customers/${customerId}/notes`, {
          method: "POST",
          json: { summary, body: fields.body.value },
        });
        form.reset();
        status.className = "status ok";
        if (!state.channels.size || state.channels.has(touch.channel)) {
          state.shown.add(touch.id);
          list.prepend(touchItem(touch, true));
          showStatus();
          status.textContent = "Note added to the timeline.";
        } else {
          status.textContent = "Note added (hidden by the channel filter).";
        }
      } catch (err) {
        status.textContent = "";
        let placed = false;
        if (err.status === 422 && Array.isArray(err.detail)) {
          for (const d of err.detail) {
            const name = (d.loc || []).slice(-1)[0];
            if (fields[name]) {
              fieldError(name, d.msg);
              placed = true;
            }
          }
        }
        if (!placed) {
          formError.textContent = `The note was not saved: ${err.message}`;
          formError.hidden = false;
        }
      } finally {
        submit.disabled = false;
        submit.classList.remove("loading");
      }
    });
  }

  moreBtn.addEventListener("click", () => loadPage(false));
  renderChips();
  setupNotes();
  loadOrders();
  loadPage(true);
})();

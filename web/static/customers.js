// Customer search page. Plain JS; every piece of customer data goes in with textContent.
"use strict";

(function () {
  const form = document.getElementById("search-form");
  const input = document.getElementById("q");
  const statusEl = document.getElementById("search-status");
  const errorEl = document.getElementById("search-error");
  const emptyEl = document.getElementById("search-empty");
  const table = document.getElementById("results");
  const tbody = table.querySelector("tbody");
  const HINT = "Type a name, an email address or a phone number.";
  let controller = null;
  let timer = null;
  let lastQuery = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function describeError(status, body) {
    if (!body) return `The server answered ${status}. Try again.`;
    const detail = body.detail;
    if (Array.isArray(detail)) {
      return detail.map((d) => `${(d.loc || []).slice(-1)[0] || "request"}: ${d.msg}`).join("; ");
    }
    return detail ? String(detail) : `${body.error || "error"} (${status})`;
  }

  async function api(path, signal) {
    let res;
    try {
      res = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin", signal });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new Error("Could not reach the server. Check the connection and try again.");
    }
    const body = await res.json().catch(() => null);
    if (res.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    }
    if (!res.ok) throw new Error(describeError(res.status, body));
    return body;
  }

  function identities(customer, kind) {
    const values = customer.identities.filter((i) => i.kind === kind).map((i) => i.value);
    if (!values.length) return el("span", { class: "muted" }, "—");
    return el("span", { class: "stack" }, ...values.map((v) => el("span", null, v)));
  }

  function row(c) {
    const href = `/staff/customers/${encodeURIComponent(c.id)}`;
    const name = el("td", { class: "name-cell" }, el("a", { href, class: "customer-link" }, c.display_name));
    if (c.merged_into_id) name.append(el("span", { class: "merged" }, `merged into #${c.merged_into_id}`));
    const segment = c.segment
      ? el("span", { class: "segment", "data-segment": c.segment.toLowerCase() }, c.segment)
      : el("span", { class: "muted" }, "—");
    const tr = el(
      "tr",
      { "data-customer-id": String(c.id) },
      name,
      el("td", null, segment),
      el("td", null, identities(c, "email")),
      el("td", null, identities(c, "phone")),
      el("td", { class: "num" }, `#${c.id}`),
    );
    tr.addEventListener("click", (ev) => {
      if (ev.target.closest("a") || window.getSelection().toString()) return;
      window.location.assign(href);
    });
    return tr;
  }

  function reset() {
    errorEl.hidden = true;
    emptyEl.hidden = true;
    table.hidden = true;
    tbody.replaceChildren();
  }

  async function search(q) {
    q = q.trim();
    const url = new URL(window.location.href);
    if (q) url.searchParams.set("q", q);
    else url.searchParams.delete("q");
    history.replaceState(null, "", url);
    if (q === lastQuery) return;
    lastQuery = q;
    if (controller) controller.abort();
    if (!q) {
      reset();
      statusEl.textContent = HINT;
      return;
    }
    controller = new AbortController();
    statusEl.textContent = "Searching…";
    form.setAttribute("aria-busy", "true");
    try {
      const results = await api(`/api/customers?q=${encodeURIComponent(q)}&limit=50`, controller.signal);
      reset();
      if (!results.length) {
        document.getElementById("search-empty-q").textContent = `“${q}”`;
        emptyEl.hidden = false;
        statusEl.textContent = "";
      } else {
        tbody.replaceChildren(...results.map(row));
        table.hidden = false;
        statusEl.textContent = results.length === 1 ? "1 customer" : `${results.length} customers`;
      }
    } catch (err) {
      if (err.name === "AbortError") return;
      reset();
      lastQuery = null;
      statusEl.textContent = "";
      errorEl.textContent = `Search failed: ${err.message}`;
      errorEl.hidden = false;
    } finally {
      form.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearTimeout(timer);
    lastQuery = null;
    search(input.value);
  });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => search(input.value), 300);
  });

  const initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    input.value = initial;
    search(initial);
  }
})();

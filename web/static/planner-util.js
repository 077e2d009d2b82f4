// Shared helpers of the planner pages: DOM building, the JSON API with CSRF, number formats, SVG bar charts.
// Plain JS; every piece of data goes in with textContent (never innerHTML).
"use strict";

window.Planner = (function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
    return node;
  }

  class ApiError extends Error {
    constructor(status, body, message) {
      super(message);
      this.status = status;
      this.body = body || {};
    }
  }

  // A sentence a planner can act on, from the server's {"error", "detail"} (never a stack trace).
  function describe(status, body) {
    if (status === 403) return "Your account may not do this. Planner pages need the planner role.";
    if (status === 404) return "Not found. It may have been removed.";
    if (!body) return `The server answered ${status}. Try again.`;
    const detail = body.detail;
    if (Array.isArray(detail)) {
      return detail.map((d) => `${(d.loc || []).slice(-1)[0] || "request"}: ${d.msg}`).join("; ");
    }
    if (detail && typeof detail === "object") return JSON.stringify(detail);
    if (status >= 500) return "Something went wrong on the server; it has been logged. Try again.";
    return detail ? String(detail) : `${body.error || "error"} (${status})`;
  }

  async function api(path, { method = "GET", json } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    let res;
    try {
      res = await fetch(path, { method, headers, body, credentials: "same-origin" });
    } catch (err) {
      throw new ApiError(0, null, "Could not reach the server. Check the connection and try again.");
    }
    const data = await res.json().catch(() => null);
    if (res.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    }
    if (!res.ok) throw new ApiError(res.status, data, describe(res.status, data));
    return data;
  }

  const intFmt = new Intl.NumberFormat("en-GB");
  const dateFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });
  const dateTimeFmt = new Intl.DateTimeFormat("en-GB", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  });

  const num = (v) => (typeof v === "number" && isFinite(v) ? intFmt.format(v) : "—");
  // Rates arrive as fractions (0.125 = 12.5 %).
  const pct = (v) => (typeof v === "number" && isFinite(v) ? `${(v * 100).toFixed(1)} %` : "—");
  function uplift(v) {
    if (typeof v !== "number" || !isFinite(v)) return "—";
    const pts = v * 100;
    return `${pts > 0 ? "+" : pts < 0 ? "−" : "±"}${Math.abs(pts).toFixed(1)} pts`;
  }
  function date(iso, withTime) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : (withTime ? dateTimeFmt : dateFmt).format(d);
  }

  const SERIES = [
    { key: "shown", label: "Shown", color: "#94a3b8" },
    { key: "accepted", label: "Accepted", color: "#2563eb" },
    { key: "dismissed", label: "Dismissed", color: "#f59e0b" },
    { key: "converted", label: "Converted", color: "#059669" },
  ];

  // Horizontal grouped bars: one group per item (a rule or a version), its label above, one bar per series.
  function barChart(groups, { title, series = SERIES } = {}) {
    const W = 640, valueW = 48, bar = 9, gap = 2, labelH = 18, groupGap = 12, top = 28;
    const plotW = W - valueW;
    const max = Math.max(1, ...groups.flatMap((g) => series.map((s) => Number(g.values[s.key]) || 0)));
    const groupH = labelH + series.length * (bar + gap) - gap;
    const H = top + groups.length * (groupH + groupGap);
    const root = svg("svg", {
      viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", class: "chart",
      "aria-label": title || "Bar chart", preserveAspectRatio: "xMinYMin meet",
    });
    if (title) root.append(svg("title", null, title));
    let x = 0;
    for (const s of series) {
      root.append(svg("rect", { x, y: 4, width: 10, height: 10, rx: 2, fill: s.color }));
      root.append(svg("text", { x: x + 14, y: 13, class: "chart-legend" }, s.label));
      x += 14 + s.label.length * 7 + 18;
    }
    groups.forEach((g, i) => {
      const y0 = top + i * (groupH + groupGap);
      const label = g.label.length > 90 ? g.label.slice(0, 89) + "…" : g.label;
      root.append(svg("text", { x: 0, y: y0 + 12, class: "chart-label" }, label));
      const empty = series.every((s) => !Number(g.values[s.key]));
      if (empty) root.append(svg("text", { x: 0, y: y0 + labelH + 12, class: "chart-empty" }, "Nothing recorded yet"));
      series.forEach((s, j) => {
        const v = Number(g.values[s.key]) || 0;
        const y = y0 + labelH + j * (bar + gap);
        const w = Math.max(v > 0 ? 2 : 0, (v / max) * plotW);
        const rect = svg("rect", { x: 0, y, width: w, height: bar, rx: 2, fill: s.color, "data-series": s.key });
        rect.append(svg("title", null, `${g.label} · ${s.label}: ${num(v)}`));
        root.append(rect);
        if (!empty) root.append(svg("text", { x: w + 4, y: y + bar - 1, class: "chart-value" }, num(v)));
      });
    });
    return root;
  }

  return { csrf, el, svg, api, ApiError, describe, num, pct, uplift, date, barChart, SERIES };
})();

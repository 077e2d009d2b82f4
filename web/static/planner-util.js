// Shared helpers of the planner pages: DOM building, the JSON API with CSRF, number formats, and the rules'
// figures as bars (drawn by charts.js).
// Plain JS; every piece of data goes in with textContent (never innerHTML).
"use strict";

window.Planner = (function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

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

  // Horizontal grouped bars into `host`: one group per item (a rule or a version), one bar per series.
  function barChart(host, groups, { title, series = SERIES } = {}) {
    return window.Charts.bar(host, {
      title: title || "Bar chart",
      labels: groups.map((g) => g.label),
      series: series.map((s) => ({ key: s.key, label: s.label, color: s.color, values: groups.map((g) => Number(g.values[s.key]) || 0) })),
      horizontal: true,
      valueLabels: true,
    });
  }

  return { csrf, el, api, ApiError, describe, num, pct, uplift, date, barChart, SERIES };
})();

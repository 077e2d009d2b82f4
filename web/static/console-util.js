// Agent console, shared helpers: DOM building (text only), HTTP with CSRF, time and size formatting,
// and a tiny event bus the other console scripts talk through. Loaded first.
"use strict";

window.CC = (function () {
  const root = document.getElementById("console-app");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const me = {
    id: Number(root.dataset.userId),
    name: root.dataset.name || "",
    role: root.dataset.role || "agent",
  };
  me.manages = me.role === "supervisor" || me.role === "admin";

  // Every piece of user-provided text goes in as a text node: never innerHTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }

  function icon(d, cls) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const attrs = { viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", "stroke-width": "2",
      "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", class: cls || "ico" };
    for (const [k, v] of Object.entries(attrs)) svg.setAttribute(k, v);
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    svg.append(path);
    return svg;
  }

  const ICONS = {
    chat: "M21 12a8 8 0 0 1-11.6 7.1L4 20l1.1-4.6A8 8 0 1 1 21 12z",
    note: "M4 4h12l4 4v12H4zM15 4v5h5M8 13h8M8 17h5",
    canned: "M13 2 3 14h9l-1 8 10-12h-9l1-8z",
    clip: "M21 11.5 12.5 20a5 5 0 0 1-7-7L14 4.5a3.3 3.3 0 0 1 4.7 4.7L10.2 17.7a1.7 1.7 0 0 1-2.4-2.4L15.5 7.6",
    file: "M14 3H6v18h12V7zM14 3v4h4M9 13h6M9 17h6",
    close: "M6 6l12 12M18 6 6 18",
    send: "M22 2 11 13M22 2l-7 20-4-9-9-4z",
    user: "M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
    ext: "M14 3h7v7M21 3l-9 9M19 14v6H4V5h6",
  };

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

  async function api(path, { method = "GET", json, form } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    let res;
    try {
      res = await fetch(path, { method, headers, body, credentials: "same-origin" });
    } catch (_) {
      throw new ApiError(0, "network", "Could not reach the server.");
    }
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, (data && data.error) || "http_error", data && data.detail);
    return data;
  }

  const pad = (n) => String(n).padStart(2, "0");
  const parse = (iso) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
  const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
  const yearFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
  const longFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });
  const hm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;

  function dayLabel(d) {
    const now = new Date();
    const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    if (d.toDateString() === now.toDateString()) return "Today";
    if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
    return d.getFullYear() === now.getFullYear() ? dayFmt.format(d) : yearFmt.format(d);
  }

  // "14:05" today, "Mon 3 Mar" otherwise (for lists); full date in the title.
  function shortTime(iso) {
    const d = parse(iso);
    const label = d.toDateString() === new Date().toDateString() ? hm(d) : dayLabel(d);
    return el("time", { datetime: iso, title: longFmt.format(d) }, label);
  }

  function since(iso) {
    const s = Math.max(0, (Date.now() - parse(iso).getTime()) / 1000);
    if (s < 60) return `${Math.floor(s)}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m`;
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  }

  function size(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1048576) return `${Math.round(n / 1024)} KB`;
    return `${(n / 1048576).toFixed(1)} MB`;
  }

  // The customer's language for the agent: "French (fr-CA)", or the bare tag when the browser cannot name it.
  const langNames = (() => {
    try {
      return new Intl.DisplayNames(["en"], { type: "language" });
    } catch (e) {
      return null;
    }
  })();
  function langName(tag) {
    if (!tag) return "";
    let name = null;
    try {
      name = langNames && langNames.of(tag.split("-")[0]);
    } catch (e) {
      /* not a tag the browser knows */
    }
    return name && name !== tag ? `${name} (${tag})` : tag;
  }

  const listeners = {};
  const on = (name, fn) => (listeners[name] = listeners[name] || []).push(fn);
  const emit = (name, ...args) => (listeners[name] || []).forEach((fn) => fn(...args));

  const announcer = document.getElementById("announcer");
  function announce(text) {
    announcer.textContent = "";
    setTimeout(() => (announcer.textContent = text), 30);
  }

  const $ = (id) => document.getElementById(id);

  return { root, csrf, me, el, icon, ICONS, api, ApiError, parse, hm, dayLabel, longFmt, yearFmt,
    shortTime, since, size, langName, on, emit, announce, $ };
})();

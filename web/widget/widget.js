/* Contact center chat widget: no dependencies, no build step. GET /widget.js serves it after i18n.js (its
 * texts: WIDGET_TEXTS, chooseLang, makeI18n), both inside one function, as one script.
 * Embed with <script src="/widget.js" defer data-title="…" data-color="#0b5cad" data-lang="fr"></script>.
 * Speaks websocket protocol v1 (docs/protocol.md). Every text is set with textContent, never innerHTML. */
(function () {
  "use strict";
  if (window.__ccChatWidget) return;
  window.__ccChatWidget = true;

  /* ---------- configuration ---------- */
  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const ds = (script && script.dataset) || {};
  const ORIGIN = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  const WS_URL = ORIGIN.replace(/^http/, "ws") + "/ws";
  // The language: data-lang, else the page's <html lang>, else the browser's; English for any text a
  // language lacks (docs/embedding.md).
  if (ds.lang && !canonicalLang(ds.lang)) console.error(`Contact Center widget: data-lang="${ds.lang}" is not a language tag`);
  const I18N = makeI18n(chooseLang([ds.lang, document.documentElement.lang, navigator.language]));
  const t = I18N.t;
  // Times in the browser's own variant of the widget's language (en-GB visitors keep 24-hour clocks).
  const TIME_LOCALE = (navigator.language || "").split("-")[0].toLowerCase() === I18N.ui.split("-")[0] ? navigator.language : I18N.tag;
  const TITLE = (ds.title || t("title")).slice(0, 60);
  const SUBTITLE = (ds.subtitle || t("subtitle")).slice(0, 80);
  const COLOR = /^#[0-9a-f]{3,8}$/i.test(ds.color || "") ? ds.color : "#0b5cad";
  // Which queue the site's chats go to and their default topic (docs/embedding.md): checked by the server,
  // so a queue that does not exist is an error the site owner sees in the console, never a silent fallback.
  const QUEUE = /^[a-z0-9][a-z0-9_-]{0,39}$/.test(ds.queue || "") ? ds.queue : null;
  const TOPIC = (ds.topic || "").trim().slice(0, 200) || null;
  if (ds.queue && !QUEUE) console.error(`Contact Center widget: data-queue="${ds.queue}" is not a queue id`);
  const MAX_BYTES = 5 * 1024 * 1024;
  const MAX_BODY = 4000;
  // Renew the visitor token when less than this is left of its life (and on the first 4401 after expiry).
  const RENEW_BEFORE_MS = 2 * 3600 * 1000;

  /* rt-rules:begin. The reconnect and pacing rules, kept identical in web/static/rt-socket.js (the staff
     pages) and web/widget/widget.js (its own copy: the widget must stay one self-contained file that other
     websites embed by one script tag). tests/e2e/test_rt_rules.py checks that the two copies match. */
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_CAP_MS = 10000;
  // Close codes after which reconnecting cannot help: the client stops and says why.
  const STOP_CODES = { 4401: "signed-out", 4403: "forbidden" };
  // Wait before reconnect attempt n (0 first): doubling from 500 ms up to 10 s, 50-100 % of it (jitter).
  function backoffDelay(attempt) {
    const base = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 10));
    return base / 2 + (Math.random() * base) / 2;
  }
  // The server allows a burst of 15 sends per socket, then 5 a second, and closes the socket (4429) well
  // past that. The pacer sends at most PACE_BURST messages at once, then PACE_RATE a second. It holds keys
  // (client_ids); transmit(key) answers true (sent), false (socket not ready: restart() resumes) or null
  // (nothing to send any more: skipped).
  const PACE_BURST = 10;
  const PACE_RATE = 4;
  const RATE_LIMITED_WAIT_MS = 1500;
  function makePacer(transmit) {
    let queue = [];
    let tokens = PACE_BURST;
    let at = Date.now();
    let timer = 0;
    function pump() {
      clearTimeout(timer);
      timer = 0;
      const now = Date.now();
      if (now > at) tokens = Math.min(PACE_BURST, tokens + ((now - at) / 1000) * PACE_RATE);
      at = Math.max(at, now);
      while (queue.length && tokens >= 1) {
        const sent = transmit(queue[0]);
        if (sent === false) return;
        queue.shift();
        if (sent) tokens -= 1;
      }
      if (queue.length) timer = setTimeout(pump, Math.max(10, at - now + ((1 - tokens) / PACE_RATE) * 1000));
    }
    return {
      add(key) {
        if (!queue.includes(key)) queue.push(key);
        pump();
      },
      // A new socket: its budget on the server is full again. Send `keys` (every unconfirmed message) in order.
      restart(keys) {
        queue = keys.slice();
        tokens = PACE_BURST;
        at = Date.now();
        pump();
      },
      // An error rate_limited about `key`: keep it, first in line, and send nothing for a while.
      limited(key) {
        queue = [key, ...queue.filter((k) => k !== key)];
        tokens = 0;
        at = Date.now() + RATE_LIMITED_WAIT_MS;
        pump();
      },
      delete(key) {
        queue = queue.filter((k) => k !== key);
      },
    };
  }
  /* rt-rules:end */

  /* ---------- storage ----------
     Consent first (decision 45): nothing is written to the browser until the visitor asks for something that
     needs a visitor id (a chat, a callback, a vote) or answers "Allow"; until then, and for good after
     "No thanks", what would be stored is kept in this page's memory only. Something already stored means
     an earlier page was allowed to. */
  const PREFIX = "ccw.";
  const mem = new Map();
  function storedKeys() {
    const keys = [];
    try {
      for (let i = 0; i < localStorage.length; i++) if (localStorage.key(i).startsWith(PREFIX)) keys.push(localStorage.key(i));
    } catch (e) {
      /* storage disabled */
    }
    return keys;
  }
  const gate = { allowed: storedKeys().length > 0, refused: false };
  const store = {
    get(k, d) {
      if (mem.has(k)) return mem.get(k);
      try {
        const v = localStorage.getItem(PREFIX + k);
        return v == null ? d : JSON.parse(v);
      } catch (e) {
        return d;
      }
    },
    set(k, v) {
      if (!gate.allowed) return void mem.set(k, v);
      try {
        localStorage.setItem(PREFIX + k, JSON.stringify(v));
      } catch (e) {
        /* storage full or disabled: the chat still works for this page */
      }
    },
    del(k) {
      mem.delete(k);
      try {
        localStorage.removeItem(PREFIX + k);
      } catch (e) {
        /* ignore */
      }
    },
  };
  // The visitor asked for something that needs remembering, or said "Allow": what waited in memory is written.
  function allowStorage() {
    if (gate.allowed || gate.refused) return;
    gate.allowed = true;
    const waiting = [...mem];
    mem.clear();
    for (const [k, v] of waiting) k === "draft" ? draft(v) : store.set(k, v);
  }
  // "No thanks": everything this widget stored goes back into memory and off the device.
  function forbidStorage() {
    gate.refused = true;
    try {
      for (const key of storedKeys()) {
        mem.set(key.slice(PREFIX.length), JSON.parse(localStorage.getItem(key)));
        localStorage.removeItem(key);
      }
      const d = sessionStorage.getItem(PREFIX + "draft");
      if (d) mem.set("draft", d);
      sessionStorage.removeItem(PREFIX + "draft");
    } catch (e) {
      /* storage disabled */
    }
    gate.allowed = false;
  }
  // The stored answer counts only for the policy version this server asks about now (CONSENT_POLICY).
  function consentAnswer() {
    const c = store.get("consent", null);
    return c && c.v === CONSENT_POLICY.version ? c : null;
  }

  /* ---------- state ---------- */
  const S = {
    token: store.get("token", null),
    tokenExp: store.get("tokenExp", 0), // when the token expires (ms); 0: unknown (renewed at boot)
    renewing: null, // the renewal under way (a promise of true/false)
    renewedAfter401: false, // a renewal answered the last 4401; another 4401 before a welcome: start over
    ws: null, // the current socket (null while disconnected)
    ready: false, // welcome received on the current socket
    everReady: false,
    hb: 5, // heartbeat seconds, from welcome
    attempt: 0,
    retryTimer: 0,
    tickTimer: 0,
    lastFrame: 0,
    lastPing: 0,
    lastTick: 0,
    conv: null, // the conversation shown, as the server last described it
    seqs: new Set(), // seqs rendered on this page
    lastSeq: 0,
    acked: 0,
    readSeq: 0,
    ackTimer: 0,
    agentName: null,
    typingOut: false,
    typingTimer: 0,
    typingInTimer: 0,
    outbox: store.get("outbox", []), // [{cid, conv, body, atts, at}] until "sent"
    failed: new Map(), // client_id -> item that got an error
    wantStart: null, // {name, email} while a start is on its way
    early: [], // messages typed before the conversation exists: [{cid, conv: null, body, atts, at}]
    freshToken: false, // the visitor token was replaced after a 4401 and no welcome came since
    stopped: false, // a close code said reconnecting cannot help: no retries until the customer starts again
    unread: 0,
    open: !!store.get("open", false),
    answered: !!consentAnswer(), // the visitor answered the current policy version (stored, or on this page)
    browsing: !!(consentAnswer() || {}).browsing, // pages visited may be sent (none are yet: decision 45)
  };

  /* ---------- small helpers ---------- */
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const k in props || {}) {
      const v = props[k];
      if (v == null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of kids.flat()) if (c != null && c !== false) el.append(c);
    return el;
  }
  const ICONS = {
    chat: "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.6 3.7A.9.9 0 0 1 4 19V5.5Z",
    down: "M6 9l6 6 6-6",
    close: "M6 6l12 12M18 6L6 18",
    send: "M4 12l16-8-6 16-2.5-6.5L4 12Z",
    clip: "M20 11.5l-7.8 7.8a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8",
    mail: "M3.5 6.5h17v11h-17zM3.5 7l8.5 6.5L20.5 7",
    end: "M8 8l8 8M16 8l-8 8M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Z",
    file: "M7 3h7l5 5v13H7zM14 3v5h5",
    retry: "M4 12a8 8 0 1 0 2.3-5.6M4 4v4h4",
  };
  function icon(name, cls) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "icon " + (cls || ""));
    const p = document.createElementNS(NS, "path");
    p.setAttribute("d", ICONS[name]);
    svg.append(p);
    return svg;
  }
  function newClientId() {
    const b = new Uint8Array(6);
    crypto.getRandomValues(b);
    return "w-" + Date.now().toString(36) + "-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }
  function parseTime(at) {
    if (!at) return new Date();
    return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(at) ? at : at + "Z");
  }
  function fmtTime(d) {
    try {
      return d.toLocaleTimeString(TIME_LOCALE, { hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }
  }
  function fmtNumber(n, digits) {
    try {
      return n.toLocaleString(I18N.ui, { maximumFractionDigits: digits });
    } catch (e) {
      return n.toFixed(digits);
    }
  }
  function fmtSize(n) {
    if (n < 1024) return t("size.b", { n });
    if (n < 1048576) return t("size.kb", { n: Math.round(n / 1024) });
    return t("size.mb", { n: fmtNumber(n / 1048576, 1) });
  }
  // A server error in the widget's language when its code has a text, else the server's own (English) detail.
  function errText(code, detail) {
    return code && I18N.has("error." + code) ? t("error." + code) : detail || t("error.generic");
  }
  function sentence(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  function saveOutbox() {
    if (S.outbox.length) store.set("outbox", S.outbox);
    else store.del("outbox");
  }
  function draft(value) {
    // The unsent text survives a page change (sessionStorage: this tab only), once storing is allowed.
    if (!gate.allowed) {
      if (value === undefined) return mem.get("draft") || null;
      if (value) mem.set("draft", value);
      else mem.delete("draft");
      return null;
    }
    try {
      if (value === undefined) return sessionStorage.getItem(PREFIX + "draft");
      if (value) sessionStorage.setItem(PREFIX + "draft", value);
      else sessionStorage.removeItem(PREFIX + "draft");
    } catch (e) {
      /* storage disabled */
    }
    return null;
  }
  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + S.token };
    if (body && !(body instanceof FormData)) headers["Content-Type"] = "application/json";
    let r;
    try {
      r = await fetch(ORIGIN + path, {
        method,
        headers,
        body: body instanceof FormData ? body : body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new Error(t("error.network"));
    }
    let data = null;
    try {
      data = await r.json();
    } catch (e) {
      /* not JSON */
    }
    if (!r.ok) {
      const err = new Error(errText(data && data.error, (data && data.detail) || t("error.status", { status: r.status })));
      err.code = data && data.error; // for callers that tell one refusal from another (csat.js: already_rated)
      throw err;
    }
    return data;
  }

  /* ---------- styles ---------- */
  const CSS = `
:host{all:initial}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.root{--a:${COLOR};--ink:#17202b;--muted:#5f6b7a;--line:#e3e7ee;--bg:#f4f6f9;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);-webkit-font-smoothing:antialiased}
button,input,textarea{font:inherit;color:inherit}
button{cursor:pointer}
.icon{width:22px;height:22px;fill:none;stroke:currentColor;stroke-width:1.8;stroke-linecap:round;stroke-linejoin:round}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border:0;border-radius:50%;background:var(--a);color:#fff;display:grid;place-items:center;box-shadow:0 6px 20px rgba(15,30,60,.28);transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.launcher:focus-visible,.panel button:focus-visible,.panel a:focus-visible{outline:3px solid #ffb020;outline-offset:2px}
.launcher .icon{width:28px;height:28px}
.launcher .chat{fill:currentColor;stroke:none}
.badge{position:absolute;top:-2px;right:-2px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#d93025;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid #fff}
.panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:380px;height:620px;max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 48px rgba(15,30,60,.3);animation:pop .18s ease-out}
@keyframes pop{from{opacity:0;transform:translateY(12px)}}
header{display:flex;align-items:center;gap:10px;padding:12px 8px 12px 14px;background:var(--a);color:#fff}
.actions{display:flex;flex:none}
.avatar{flex:none;width:38px;height:38px;border-radius:50%;background:rgba(255,255,255,.2);display:grid;place-items:center;font-weight:700;font-size:15px;letter-spacing:.5px}
.avatar .icon{fill:currentColor;stroke:none}
.titles{flex:1;min-width:0}
.title{font-weight:700;font-size:16px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.status{font-size:13px;opacity:.92;display:flex;align-items:center;gap:6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.status>span:last-child{min-width:0;overflow:hidden;text-overflow:ellipsis}
.dot{flex:none;width:8px;height:8px;border-radius:50%;background:#4ade80}
.dot.wait{background:#fbbf24}.dot.off{display:none}
.hbtn{flex:none;width:36px;height:40px;border:0;border-radius:10px;background:transparent;color:#fff;display:grid;place-items:center}
.hbtn:hover{background:rgba(255,255,255,.16)}
.banner{padding:8px 16px;background:#fff4d6;color:#6b4b00;font-size:13px;font-weight:600;display:flex;align-items:center;gap:8px;border-bottom:1px solid #f1dca0}
.spin{width:14px;height:14px;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:spin .8s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
.main{flex:1;min-height:0;overflow-y:auto;background:var(--bg);padding:16px 14px 8px;scroll-behavior:smooth}
.prechat,.cbform{background:#fff;border:1px solid var(--line);border-radius:14px;padding:18px;margin:4px 2px}
.prechat h2,.cbform h2{margin:0 0 4px;font-size:18px}
.prechat p,.cbform p{margin:0 0 14px;color:var(--muted);font-size:14px}
label{display:block;font-size:13px;font-weight:600;margin:0 0 4px;color:#334155}
.field{margin-bottom:12px}
input[type=text],input[type=email]{width:100%;height:44px;padding:0 12px;border:1px solid #cfd6e0;border-radius:10px;background:#fff;font-size:16px}
input:focus,textarea:focus{outline:none;border-color:var(--a);box-shadow:0 0 0 3px color-mix(in srgb,var(--a) 22%,transparent)}
.primary{width:100%;min-height:46px;padding:4px 12px;border:0;border-radius:10px;background:var(--a);color:#fff;font-weight:700;font-size:15px}
.primary:hover{filter:brightness(1.08)}
.secondary{min-height:44px;padding:0 16px;border:1px solid #cfd6e0;border-radius:10px;background:#fff;font-weight:600}
.fine{font-size:12px;color:var(--muted);margin:10px 0 0!important}
.wide{width:100%;margin-top:8px}
select,input[type=tel]{width:100%;height:44px;padding:0 12px;border:1px solid #cfd6e0;border-radius:10px;background:#fff;font-size:16px}
select:focus{outline:none;border-color:var(--a);box-shadow:0 0 0 3px color-mix(in srgb,var(--a) 22%,transparent)}
.choice{display:flex;gap:8px;margin-bottom:12px}
.choice label{flex:1;display:flex;align-items:center;gap:6px;margin:0;padding:10px;border:1px solid #cfd6e0;border-radius:10px;font-weight:600;cursor:pointer}
.choice label:has(input:checked){border-color:var(--a);background:color-mix(in srgb,var(--a) 8%,#fff)}
.cbdone{text-align:center}.cbdone strong{display:block;font-size:17px;margin-bottom:6px}.cbdone p{margin:0 0 8px!important}
.ref{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:700;color:var(--ink)!important}
.waiting{display:flex;align-items:center;gap:10px;margin:4px 2px 12px;padding:12px 14px;border-radius:12px;background:#fff;border:1px dashed #cbd3de;color:var(--muted);font-size:14px}
.log{display:flex;flex-direction:column;gap:2px}
.msg{display:flex;flex-direction:column;max-width:82%;margin-top:6px}
.msg.customer{align-self:flex-end;align-items:flex-end}
.msg.agent{align-self:flex-start;align-items:flex-start}
.msg.system{align-self:center;max-width:90%;text-align:center;color:var(--muted);font-size:13px}
.who{font-size:12px;font-weight:600;color:var(--muted);margin:6px 0 3px 4px}
.bubble{padding:9px 13px;border-radius:18px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}
.customer .bubble{background:var(--a);color:#fff;border-bottom-right-radius:5px}
.agent .bubble{background:#fff;border:1px solid var(--line);border-bottom-left-radius:5px}
.system .bubble{padding:2px 8px}
.bubble:empty{display:none}
.meta{font-size:11.5px;color:var(--muted);margin:3px 6px 0;display:flex;gap:6px;align-items:center}
.msg.sending .bubble{opacity:.7}
.msg.failed .bubble{background:#fde8e8;color:#8a1c1c;border:1px solid #f5b5b5}
.failed .meta{color:#b42318}
.link{border:0;background:none;padding:4px 2px;color:var(--a);font-weight:700;text-decoration:underline;font-size:12.5px;min-height:32px}
.atts{display:flex;flex-direction:column;gap:6px;margin-top:4px}
.thumb{display:block;max-width:220px;max-height:180px;min-width:60px;min-height:40px;border-radius:12px;border:1px solid var(--line);background:#e9edf3;object-fit:cover}
.file{display:flex;align-items:center;gap:10px;padding:10px 12px;border-radius:12px;background:#fff;border:1px solid var(--line);color:var(--ink);text-decoration:none;max-width:240px}
.file:hover{border-color:var(--a)}
.file .icon{color:var(--a);flex:none}
.fname{font-weight:600;font-size:13.5px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;display:block}
.fsize{font-size:12px;color:var(--muted)}
.typing{margin:8px 2px 2px;font-size:13px;color:var(--muted);display:flex;align-items:center;gap:8px}
.dots{display:inline-flex;gap:3px;padding:8px 10px;background:#fff;border:1px solid var(--line);border-radius:14px}
.dots i{width:6px;height:6px;border-radius:50%;background:#94a3b8;animation:blink 1.2s infinite}
.dots i:nth-child(2){animation-delay:.2s}.dots i:nth-child(3){animation-delay:.4s}
@keyframes blink{0%,60%,100%{opacity:.3}30%{opacity:1}}
.ended{margin:14px 2px 6px;padding:16px;border-radius:14px;background:#fff;border:1px solid var(--line);text-align:center}
.ended strong{display:block;font-size:16px;margin-bottom:2px}
.ended p{margin:0 0 12px;color:var(--muted);font-size:14px}
.row{display:flex;gap:8px;flex-wrap:wrap;justify-content:center}
.row>*{flex:1 1 140px}
.ended .row{flex-direction:column}.ended .row>*{flex:none;width:100%}
.notice{display:flex;align-items:flex-start;gap:8px;margin:0;padding:10px 8px 10px 14px;background:#fde8e8;color:#8a1c1c;font-size:13.5px;border-top:1px solid #f5b5b5}
.notice.ok{background:#e7f6ec;color:#14532d;border-color:#b7e1c4}
.notice span{flex:1;padding-top:2px}
.notice button{flex:none;border:0;background:none;color:inherit;width:32px;height:32px;display:grid;place-items:center;border-radius:8px}
.notice .icon{width:18px;height:18px}
.sheet{padding:14px 16px 16px;border-top:1px solid var(--line);background:#fff}
.sheet h3{margin:0 0 8px;font-size:15px}
.sheet p{margin:0 0 10px;color:var(--muted);font-size:13.5px}
.composer{display:flex;align-items:flex-end;gap:6px;padding:10px;border-top:1px solid var(--line);background:#fff}
textarea{flex:1;min-height:44px;max-height:132px;resize:none;padding:11px 12px;border:1px solid #cfd6e0;border-radius:12px;font-size:16px;line-height:1.35;background:#fff}
.cbtn{flex:none;width:44px;height:44px;border:0;border-radius:12px;display:grid;place-items:center;background:transparent;color:var(--muted)}
.cbtn:hover{background:var(--bg);color:var(--ink)}
.cbtn.send{background:var(--a);color:#fff}
.cbtn.send:hover{filter:brightness(1.08);background:var(--a);color:#fff}
.cbtn:disabled{opacity:.45;cursor:default}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.cb-ask{position:fixed;right:20px;bottom:92px;z-index:2147483002;width:340px;max-width:calc(100vw - 40px);padding:16px;background:#fff;border-radius:14px;box-shadow:0 12px 48px rgba(15,30,60,.3);border-top:4px solid var(--a)}
.cb-ask p{margin:0 0 12px;font-size:14.5px}
.cb-bar{position:fixed;left:0;right:0;top:0;z-index:2147483003;display:flex;align-items:center;justify-content:center;gap:14px;padding:8px 12px;background:#b42318;color:#fff;font-size:14px;font-weight:600;box-shadow:0 2px 8px rgba(0,0,0,.25)}
.cb-bar button{min-height:32px;padding:0 14px;border:2px solid #fff;border-radius:8px;background:transparent;color:#fff;font-weight:700}
.cb-bar button:hover{background:rgba(255,255,255,.16)}
.kb{margin:4px 2px 12px;padding:14px;background:#fff;border:1px solid var(--line);border-radius:14px}
.kb input[type=search]{width:100%;height:44px;padding:0 12px;border:1px solid #cfd6e0;border-radius:10px;background:#fff;font-size:16px}
.kb-status{margin:8px 0 0;color:var(--muted);font-size:13.5px}
.kb-hits{list-style:none;margin:8px 0 0;padding:0;display:flex;flex-direction:column;gap:6px}
.kb-hits:empty{display:none}
.kb-hit{width:100%;text-align:left;padding:10px 12px;border:1px solid var(--line);border-radius:10px;background:var(--bg);display:flex;flex-direction:column;gap:2px}
.kb-hit:hover{border-color:var(--a)}
.kb-hit strong{font-size:14.5px;color:var(--a)}
.kb-hit span{font-size:13px;color:var(--muted);overflow-wrap:anywhere}
.kb-article{background:#fff;border:1px solid var(--line);border-radius:14px;padding:12px 18px 18px;margin:4px 2px}
.kb-article h2{margin:4px 0 8px;font-size:18px;outline:none}
.kb-body{overflow-wrap:anywhere;font-size:14.5px}
.kb-body a{color:var(--a)}
.kb-body pre{white-space:pre-wrap}
.kb-body table{border-collapse:collapse;display:block;overflow-x:auto}.kb-body td,.kb-body th{border:1px solid var(--line);padding:4px 6px}
.kb-vote{margin:14px 0;padding:12px 0;border-top:1px solid var(--line);border-bottom:1px solid var(--line)}
.kb-vote p{margin:0 0 8px;font-weight:600}
.kb-more strong{display:block;margin-bottom:8px}
.consent{margin:4px 2px 12px;padding:14px;background:#fff;border:1px solid var(--line);border-left:4px solid var(--a);border-radius:14px}
.consent strong{display:block;font-size:15px;margin-bottom:4px}
.consent p{margin:0 0 8px;font-size:13.5px;color:var(--muted)}
.consent a.fine{display:block;margin:0 0 10px!important;color:var(--a)}
.consent .fine{margin:0 0 10px!important}
.cb-pointer,.cb-mark{position:fixed;z-index:2147483001;pointer-events:none}
.cb-mark{z-index:2147483000}
.cb-pointer{width:18px;height:18px;margin:-9px 0 0 -9px;border:3px solid #fff;border-radius:50%;background:#f59e0b;box-shadow:0 0 0 2px #b45309,0 2px 8px rgba(0,0,0,.35);transition:left .09s linear,top .09s linear}
.cb-pointer span{position:absolute;left:18px;top:14px;padding:2px 7px;border-radius:6px;background:#b45309;color:#fff;font-size:12px;font-weight:700;white-space:nowrap}
.cb-mark{border:3px solid #f59e0b;border-radius:6px;background:rgba(245,158,11,.14);box-shadow:0 0 0 4px rgba(245,158,11,.25)}
.cb-pointer[hidden],.cb-mark[hidden]{display:none}
.brand{padding:5px;text-align:center;font-size:11px;color:#8a94a3;background:#fff}
@media (max-width:479px){
 .panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0;animation:none}
 .root.is-open .launcher{display:none}
 .msg{max-width:88%}
}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}
`;

  /* ---------- DOM ---------- */
  const host = h("div", { id: "cc-chat-widget" });
  const shadow = host.attachShadow({ mode: "open" });
  const el = {};
  el.badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
  el.launcher = h(
    "button",
    { class: "launcher", type: "button", "aria-label": t("launcher.open"), "aria-expanded": "false", "aria-controls": "ccw-panel", onclick: () => toggle() },
    icon("chat", "chat"),
    el.badge
  );
  el.avatar = h("div", { class: "avatar", "aria-hidden": "true" }, icon("chat"));
  el.dot = h("span", { class: "dot off" });
  el.statusText = h("span", { text: SUBTITLE });
  el.transcriptBtn = h(
    "button",
    { class: "hbtn", type: "button", title: t("header.transcript"), "aria-label": t("header.transcript"), hidden: true, onclick: () => showSheet("transcript") },
    icon("mail")
  );
  el.endBtn = h(
    "button",
    { class: "hbtn", type: "button", title: t("header.end"), "aria-label": t("header.end"), hidden: true, onclick: () => showSheet("confirm") },
    icon("end")
  );
  const header = h(
    "header",
    null,
    el.avatar,
    h("div", { class: "titles" }, h("div", { class: "title", id: "ccw-title", text: TITLE }), h("div", { class: "status", role: "status" }, el.dot, el.statusText)),
    h(
      "div",
      { class: "actions" },
      el.transcriptBtn,
      el.endBtn,
      h("button", { class: "hbtn", type: "button", title: t("header.minimise"), "aria-label": t("header.minimiseLabel"), onclick: () => toggle(false) }, icon("down"))
    )
  );
  el.banner = h("div", { class: "banner", role: "status", hidden: true }, h("span", { class: "spin", "aria-hidden": "true" }), h("span", { class: "banner-text", text: t("status.reconnecting") }));

  el.name = h("input", { type: "text", id: "ccw-name", name: "name", autocomplete: "name", maxlength: 120 });
  el.email = h("input", { type: "email", id: "ccw-email", name: "email", autocomplete: "email", maxlength: 320 });
  el.prechat = h(
    "form",
    { class: "prechat", novalidate: true, onsubmit: onStart },
    h("h2", { text: t("prechat.heading") }),
    h("p", { text: t("prechat.intro") }),
    h("div", { class: "field" }, h("label", { for: "ccw-name", text: t("prechat.name") }), el.name),
    h("div", { class: "field" }, h("label", { for: "ccw-email", text: t("prechat.email") }), el.email),
    h("button", { class: "primary", type: "submit", text: t("prechat.start") }),
    h("button", { class: "secondary wide", type: "button", text: t("prechat.callback"), onclick: openCallback }),
    (el.fine = h("p", { class: "fine", text: t("prechat.fine") }))
  );
  // Web callback (docs/api.md, "Web callback"): the request is stored before the confirmation is shown.
  el.cbName = h("input", { type: "text", id: "ccw-cbname", autocomplete: "name", maxlength: 120 });
  el.cbPhone = h("input", { type: "tel", id: "ccw-cbphone", autocomplete: "tel", maxlength: 40 });
  el.cbTopic = h("input", { type: "text", id: "ccw-cbtopic", maxlength: 200 });
  el.cbWhen = h("select", { id: "ccw-cbwhen" }, h("option", { value: "", text: t("callback.asap") }));
  const modeRadio = (value, key) =>
    h("label", null, h("input", { type: "radio", name: "ccw-cbmode", value, checked: value === "phone", onchange: syncMode }), t(key));
  el.cbPhoneField = h("div", { class: "field" }, h("label", { for: "ccw-cbphone", text: t("callback.phone") }), el.cbPhone);
  el.cbSubmit = h("button", { class: "primary", type: "submit", text: t("callback.submit") });
  el.callback = h(
    "form",
    { class: "cbform", novalidate: true, hidden: true, onsubmit: onCallback },
    h("h2", { text: t("callback.heading") }),
    h("p", { text: t("callback.intro") }),
    h("div", { class: "field" }, h("label", { for: "ccw-cbname", text: t("callback.name") }), el.cbName),
    h("label", { text: t("callback.how") }),
    h("div", { class: "choice", role: "radiogroup" }, modeRadio("phone", "callback.byPhone"), modeRadio("browser", "callback.inBrowser")),
    el.cbPhoneField,
    h("div", { class: "field" }, h("label", { for: "ccw-cbtopic", text: t("callback.topic") }), el.cbTopic),
    h("div", { class: "field" }, h("label", { for: "ccw-cbwhen", text: t("callback.when") }), el.cbWhen),
    el.cbSubmit,
    h("button", { class: "secondary wide", type: "button", text: t("callback.back"), onclick: () => view("prechat") }),
    h("p", { class: "fine", text: t("callback.fine") })
  );
  el.cbWhenText = h("p");
  el.cbQueueText = h("p", { hidden: true });
  el.cbRef = h("p", { class: "ref" });
  el.cbCancel = h("button", { class: "secondary wide", type: "button", text: t("callback.cancel"), onclick: cancelCallback });
  el.cbDone = h(
    "div",
    { class: "prechat cbdone", hidden: true, role: "status" },
    h("strong", { text: t("callback.done.heading") }),
    el.cbWhenText,
    el.cbQueueText,
    el.cbRef,
    el.cbCancel,
    h("button", { class: "secondary wide", type: "button", text: t("callback.back"), onclick: () => view("prechat") })
  );
  el.waiting = h("div", { class: "waiting", hidden: true }, h("span", { class: "spin", "aria-hidden": "true" }), h("span", { text: t("status.waiting") }));
  el.history = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t("log.label") });
  el.pending = h("div", { class: "log", "aria-live": "polite" });
  el.typingText = h("span");
  el.typing = h("div", { class: "typing", hidden: true, "aria-live": "polite" }, h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), el.typingText);
  el.ended = h(
    "div",
    { class: "ended", hidden: true },
    h("strong", { text: t("ended.heading") }),
    h("p", { text: t("ended.text") }),
    h(
      "div",
      { class: "row" },
      h("button", { class: "primary", type: "button", text: t("ended.new"), onclick: newChat }),
      h("button", { class: "secondary", type: "button", text: t("ended.transcript"), onclick: () => showSheet("transcript") })
    )
  );
  // Consent (decision 45): asked at the top of the panel until answered for the current policy version.
  el.consent = h(
    "section",
    { class: "consent", hidden: true, "aria-labelledby": "ccw-consent-h" },
    h("strong", { id: "ccw-consent-h", text: t("consent.heading") }),
    h("p", { text: t("consent.text") }),
    CONSENT_POLICY.url
      ? h("a", { class: "fine", href: CONSENT_POLICY.url, target: "_blank", rel: "noopener", text: t("consent.policy", { version: CONSENT_POLICY.version }) })
      : h("p", { class: "fine", text: t("consent.version", { version: CONSENT_POLICY.version }) }),
    h(
      "div",
      { class: "row" },
      h("button", { class: "primary", type: "button", text: t("consent.allow"), onclick: () => answerConsent(true) }),
      h("button", { class: "secondary", type: "button", text: t("consent.decline"), onclick: () => answerConsent(false) })
    )
  );
  // The knowledge base (web/widget/kb.js): its search sits above the chat form, an article replaces both.
  const kb = makeKb({
    origin: ORIGIN,
    lang: I18N.tag,
    t,
    h,
    vote: async (slug, helped) => (await ensureToken(), api("POST", `/api/kb/articles/${encodeURIComponent(slug)}/votes`, { helped })),
    chat: () => (view("prechat"), el.name.focus()),
    callback: openCallback,
    shown: (name) => view(name),
  });
  el.main = h("div", { class: "main" }, el.consent, kb.search, kb.article, el.prechat, el.callback, el.cbDone, el.waiting, el.history, el.pending, el.typing, el.ended);

  el.noticeText = h("span");
  el.notice = h(
    "div",
    { class: "notice", role: "alert", hidden: true },
    el.noticeText,
    h("button", { type: "button", "aria-label": t("notice.dismiss"), onclick: () => (el.notice.hidden = true) }, icon("close"))
  );

  el.tEmail = h("input", { type: "email", id: "ccw-temail", autocomplete: "email", required: true, maxlength: 320 });
  el.tResult = h("p", { class: "t-result", role: "status", hidden: true });
  el.transcript = h(
    "form",
    { class: "sheet", hidden: true, novalidate: true, onsubmit: onTranscript, "aria-label": t("transcript.heading") },
    h("h3", { text: t("transcript.heading") }),
    h("div", { class: "field" }, h("label", { for: "ccw-temail", text: t("transcript.to") }), el.tEmail),
    el.tResult,
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit", text: t("transcript.send") }), h("button", { class: "secondary", type: "button", text: t("transcript.close"), onclick: () => showSheet(null) }))
  );
  el.confirm = h(
    "div",
    { class: "sheet", hidden: true, role: "group", "aria-label": t("header.end") },
    h("h3", { text: t("confirm.heading") }),
    h("p", { text: t("confirm.text") }),
    h("div", { class: "row" }, h("button", { class: "primary", type: "button", text: t("confirm.end"), onclick: endChat }), h("button", { class: "secondary", type: "button", text: t("confirm.keep"), onclick: () => showSheet(null) }))
  );

  el.file = h("input", { type: "file", class: "sr", tabindex: "-1", "aria-hidden": "true", accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf,.png,.jpg,.jpeg,.gif,.webp,.pdf", onchange: () => {
    const f = el.file.files && el.file.files[0];
    el.file.value = "";
    if (f) attach(f);
  } });
  el.input = h("textarea", { id: "ccw-input", rows: 1, maxlength: MAX_BODY, placeholder: t("composer.placeholder"), "aria-label": t("composer.label"), oninput: onInput, onkeydown: onKey, onpaste: onPaste });
  el.clip = h("button", { class: "cbtn", type: "button", title: t("composer.attach"), "aria-label": t("composer.attach"), onclick: () => el.file.click() }, icon("clip"));
  el.sendBtn = h("button", { class: "cbtn send", type: "submit", title: t("composer.send"), "aria-label": t("composer.sendLabel") }, icon("send"));
  el.composer = h("form", { class: "composer", hidden: true, onsubmit: (e) => (e.preventDefault(), submit()) }, el.file, el.clip, el.input, el.sendBtn);

  el.panel = h(
    "section",
    { class: "panel", id: "ccw-panel", role: "dialog", "aria-labelledby": "ccw-title", hidden: true, onkeydown: (e) => e.key === "Escape" && toggle(false) },
    header,
    el.banner,
    el.main,
    el.notice,
    el.transcript,
    el.confirm,
    el.composer,
    h("div", { class: "brand", text: t("brand") })
  );
  el.root = h("div", { class: "root", lang: I18N.ui, dir: I18N.dir }, el.panel, el.launcher);
  shadow.append(h("style", { text: CSS + WIDGET_PARTS.map((p) => p.css).join("\n") }), el.root);
  // The registered parts (web/widget/parts.js): one context for all; their frames, errors, ready and reset.
  const places = {
    overlay: (n) => el.root.append(n),
    top: (n) => el.main.prepend(n),
    chat: (n) => el.main.insertBefore(n, el.typing),
    ended: (n) => el.main.insertBefore(n, el.ended),
  };
  const partCtx = {
    origin: ORIGIN,
    lang: I18N.tag,
    t,
    h,
    token: () => S.token,
    send: (frame) => send(frame),
    api: (method, path, body) => api(method, path, body),
    notice: (text) => notice(text),
    mount: (node, where) => (places[where] || places.overlay)(node),
    agentName: () => (S.conv && S.conv.agent_name) || S.agentName,
    mayStore: () => !gate.refused, // "No thanks" to storage (decision 45): keep nothing past the page
    hideNotice: () => (el.notice.hidden = true),
    isReady: () => S.ready,
    connect: async () => {
      await ensureToken();
      connect();
    },
    busy: (on) => (el.prechat.hidden = on || !!S.conv),
    action: (label, className, onclick) => el.prechat.insertBefore(h("button", { class: className, type: "button", text: label, onclick }), el.fine),
    name: () => el.name.value.trim() || null,
    browsing: () => !!(S.browsing && S.token),
    chatting: () => !!(S.conv || S.wantStart),
    pageSeconds: () => (pvClock(), PV.seconds + (PV.since ? (Date.now() - PV.since) / 1000 : 0)),
    sendViews: () => sendViews(),
    openChat: (topic) => ((S.askedTopic = topic), toggle(true), onStart({ preventDefault() {} })),
    openCallback: (slot) => (toggle(true), openCallback(slot)),
    openArticle: (slug) => (toggle(true), kb.open(slug)),
    slotText: (at) => fmtSlot(at),
  };
  const hook = (name, ...args) => parts.forEach((x) => x.on[name] && x.on[name](...args));
  const parts = WIDGET_PARTS.map((p) => ({ p, on: p.make(partCtx) || {} }));
  const partFor = new Map(parts.flatMap((x) => x.p.frames.map((type) => [type, x.on])));
  const partChannels = new Set(parts.flatMap((x) => x.p.channels)); // their conversations are not the chat's
  /* ---------- views ---------- */
  function view(name) {
    // name: "prechat" | "article" | "callback" | "cbdone" | "chat" | "ended"
    const chat = name === "chat";
    el.prechat.hidden = kb.search.hidden = name !== "prechat";
    el.consent.hidden = S.answered || name !== "prechat";
    kb.article.hidden = name !== "article";
    el.callback.hidden = name !== "callback";
    el.cbDone.hidden = name !== "cbdone";
    el.ended.hidden = name !== "ended";
    el.composer.hidden = !chat;
    el.endBtn.hidden = !chat;
    el.transcriptBtn.hidden = !(chat || name === "ended");
    el.waiting.hidden = !(chat && S.conv && S.conv.status === "queued");
    if (!chat) setTyping(false);
    if (!chat && name !== "ended") showSheet(null);
    updateStatus();
  }
  function updateStatus() {
    const c = S.conv;
    let text = SUBTITLE;
    let dot = "off";
    if (!S.ready && S.everReady) [text, dot] = [t("status.reconnecting"), "wait"];
    else if (c && c.status === "queued") [text, dot] = [t("status.waiting"), "wait"];
    else if (c && c.status === "assigned") {
      const name = c.agent_name || S.agentName;
      [text, dot] = [name ? t("status.chatting", { name }) : t("status.joined"), ""];
    } else if (c && c.status === "closed") text = t("status.ended");
    el.statusText.textContent = text;
    el.dot.className = "dot " + dot;
    const name = c && c.status !== "closed" && (c.agent_name || S.agentName);
    el.avatar.replaceChildren(name ? initials(name) : icon("chat"));
  }
  function initials(name) {
    return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("") || "?";
  }
  function toggle(open, restoring) {
    S.open = open === undefined ? !S.open : !!open;
    store.set("open", S.open);
    el.panel.hidden = !S.open;
    el.root.classList.toggle("is-open", S.open);
    el.launcher.setAttribute("aria-expanded", String(S.open));
    el.launcher.setAttribute("aria-label", t(S.open ? "launcher.close" : "launcher.open"));
    el.launcher.replaceChildren(icon(S.open ? "down" : "chat", S.open ? "" : "chat"), el.badge);
    if (S.open) {
      S.unread = 0;
      renderBadge();
      if (el.prechat.hidden && kb.article.hidden) scrollDown(true); // the search and form read from the top
      scheduleAck();
      if (S.token && !S.ws) connect();
      if (!restoring) (el.prechat.hidden ? el.input : el.name).focus({ preventScroll: true });
    } else if (open === false) el.launcher.focus({ preventScroll: true });
  }
  function renderBadge() {
    el.badge.hidden = !S.unread;
    el.badge.textContent = S.unread > 9 ? "9+" : String(S.unread);
    const label = t(S.open ? "launcher.close" : "launcher.open");
    el.launcher.setAttribute("aria-label", S.unread ? t("launcher.unread", { label, count: S.unread }) : label);
  }
  function notice(text, ok) {
    el.noticeText.textContent = text;
    el.notice.classList.toggle("ok", !!ok);
    el.notice.hidden = false;
  }
  function showSheet(which) {
    el.transcript.hidden = which !== "transcript";
    el.confirm.hidden = which !== "confirm";
    if (which === "transcript") {
      el.tResult.hidden = true;
      el.tEmail.value = el.tEmail.value || store.get("email", "");
      el.tEmail.focus();
    }
  }
  function setBanner() {
    el.banner.hidden = S.ready || !S.everReady;
    updateStatus();
  }
  function nearBottom() {
    return el.main.scrollHeight - el.main.scrollTop - el.main.clientHeight < 80;
  }
  function scrollDown(force) {
    if (force || nearBottom()) requestAnimationFrame(() => (el.main.scrollTop = el.main.scrollHeight));
  }

  /* ---------- messages ---------- */
  function renderMessage(m, state) {
    const at = parseTime(m.at);
    const node = h("div", { class: "msg " + m.sender + (state ? " " + state : ""), "data-sender": m.sender, "data-name": m.sender_name || "" });
    if (m.seq) node.dataset.seq = m.seq;
    if (m.client_id) node.dataset.cid = m.client_id;
    if (m.sender === "agent") node.append(h("div", { class: "who", text: m.sender_name || t("agent.default") }));
    const bubble = h("div", { class: "bubble", text: m.body || "" });
    node.append(bubble);
    if (m.attachments && m.attachments.length) node.append(h("div", { class: "atts" }, m.attachments.map(renderAttachment)));
    if (m.sender !== "system") node.append(h("div", { class: "meta" }, h("time", { datetime: at.toISOString(), text: fmtTime(at) }), h("span", { class: "state" })));
    return node;
  }
  function setState(node, text, retryItem) {
    const s = node.querySelector(".state");
    if (!s) return;
    s.replaceChildren(text);
    if (retryItem) s.append(h("button", { class: "link", type: "button", text: t("msg.retry"), "aria-label": t("msg.retryLabel"), onclick: () => retry(retryItem) }));
  }
  function onMessage(m) {
    if (!S.conv || m.conversation_id !== S.conv.id || S.seqs.has(m.seq)) return;
    S.seqs.add(m.seq);
    S.lastSeq = Math.max(S.lastSeq, m.seq);
    if (m.sender === "customer") {
      const mine = el.pending.querySelector(`[data-cid="${CSS_escape(m.client_id)}"]`);
      if (mine) mine.remove();
      dropFromOutbox(m.client_id);
      S.failed.delete(m.client_id);
    }
    if (m.sender === "agent") {
      if (!S.agentName) S.agentName = m.sender_name;
      setTyping(false);
      const seen = Math.max(S.acked, S.conv.customer_read_seq || 0);
      if ((!S.open || document.hidden) && m.seq > seen) {
        S.unread++;
        renderBadge();
      }
    }
    const node = renderMessage(m);
    // Keep seq order: walk back from the end (messages nearly always arrive in order).
    const items = el.history.children;
    let before = null;
    for (let i = items.length - 1; i >= 0 && +items[i].dataset.seq > m.seq; i--) before = items[i];
    const prev = before ? before.previousElementSibling : el.history.lastElementChild;
    if (m.sender === "agent" && prev && prev.dataset.sender === "agent" && prev.dataset.name === m.sender_name) node.querySelector(".who").remove();
    el.history.insertBefore(node, before);
    markRead();
    updateStatus();
    scrollDown(m.sender === "customer");
    scheduleAck();
  }
  function CSS_escape(s) {
    return String(s).replace(/[^A-Za-z0-9_.:-]/g, "");
  }
  function markRead() {
    for (const n of el.history.querySelectorAll(".seen")) n.classList.remove("seen"), setState(n, "");
    const mine = [...el.history.querySelectorAll(".msg.customer")].filter((n) => +n.dataset.seq <= S.readSeq);
    const last = mine[mine.length - 1];
    if (last) last.classList.add("seen"), setState(last, t("msg.seen"));
  }
  function scheduleAck() {
    if (S.ackTimer || !S.open || document.hidden || S.lastSeq <= S.acked) return;
    S.ackTimer = setTimeout(() => {
      S.ackTimer = 0;
      if (S.conv && S.ready && S.lastSeq > S.acked && send({ type: "ack", conversation_id: S.conv.id, seq: S.lastSeq })) S.acked = S.lastSeq;
    }, 500);
  }
  function resetConversation() {
    S.conv = null;
    S.seqs.clear();
    S.lastSeq = S.acked = S.readSeq = 0;
    S.agentName = null;
    el.history.replaceChildren();
    el.pending.replaceChildren();
    S.failed.clear();
    for (const x of parts) if (x.on.reset) x.on.reset();
  }
  function onConversation(c) {
    if (S.conv && S.conv.id !== c.id) {
      if (c.status === "closed") return; // some older chat
      resetConversation();
    }
    let early = [];
    if (!S.conv) {
      if (c.status === "closed") return;
      resetConversation();
      [early, S.early] = [S.early, []];
      for (const item of early) (item.conv = c.id), S.outbox.push(item);
      if (early.length) saveOutbox();
      for (const item of S.outbox) if (item.conv === c.id) showPending(item, "sending");
    }
    S.conv = c;
    S.wantStart = null;
    for (const item of early) pacer.add(item.cid);
    if (c.status === "closed") {
      store.del("conv");
      for (const x of parts) if (x.on.closed) x.on.closed();
      failOutbox(c.id, t("msg.chatEnded"));
      view("ended");
      stopTyping();
    } else {
      store.set("conv", c.id);
      view("chat");
    }
  }

  /* ---------- outgoing ---------- */
  function showPending(item, state) {
    const node = renderMessage({ sender: "customer", body: item.body, attachments: item.atts, client_id: item.cid, at: item.at }, state);
    el.pending.append(node);
    setState(node, t(state === "uploading" ? "msg.uploading" : "msg.sending"));
    scrollDown(true);
    return node;
  }
  function pendingNode(cid) {
    return el.pending.querySelector(`[data-cid="${CSS_escape(cid)}"]`);
  }
  function dropFromOutbox(cid) {
    const n = S.outbox.length;
    S.outbox = S.outbox.filter((i) => i.cid !== cid);
    if (S.outbox.length !== n) saveOutbox();
  }
  function sendItem(item) {
    return send({ type: "send", conversation_id: item.conv, client_id: item.cid, body: item.body, attachments: item.atts.map((a) => a.id) });
  }
  // Every message goes out through the pacer: at most 10 at once, then 4 a second (the server's limit).
  const pacer = makePacer((cid) => {
    const item = S.outbox.find((i) => i.cid === cid);
    return item ? sendItem(item) : null;
  });
  function queue(item) {
    S.outbox.push(item);
    saveOutbox();
    pacer.add(item.cid);
  }
  function submit() {
    const body = el.input.value.replace(/^\s*\n|\s+$/g, "");
    if (!body.trim() || (S.conv && S.conv.status === "closed") || (!S.conv && !S.wantStart)) return;
    const item = { cid: newClientId(), conv: S.conv ? S.conv.id : null, body, atts: [], at: new Date().toISOString() };
    showPending(item, "sending");
    // Typed before the server has answered the start: kept (shown as "Sending…") and sent, in order, as
    // soon as the conversation exists.
    if (S.conv) queue(item);
    else S.early.push(item);
    el.input.value = "";
    draft(null);
    autosize();
    stopTyping();
  }
  function giveBackEarly() {
    // The chat could not be opened: messages typed meanwhile go back into the box, nothing is lost.
    const texts = S.early.map((i) => i.body);
    for (const item of S.early) pendingNode(item.cid)?.remove();
    S.early = [];
    if (!texts.length) return;
    el.input.value = [...texts, el.input.value].filter(Boolean).join("\n");
    draft(el.input.value);
    autosize();
  }
  function retry(item) {
    S.failed.delete(item.cid);
    const node = pendingNode(item.cid);
    if (node) node.className = "msg customer sending", setState(node, t("msg.sending"));
    queue(item);
  }
  function fail(cid, detail) {
    const item = S.outbox.find((i) => i.cid === cid) || S.failed.get(cid);
    const node = pendingNode(cid);
    if (!item || !node) return false;
    dropFromOutbox(cid);
    pacer.delete(cid);
    S.failed.set(cid, item);
    node.className = "msg customer failed";
    setState(node, t("msg.notSent", { error: detail }) + " ", item);
    return true;
  }
  function failOutbox(convId, detail) {
    for (const item of S.outbox.slice()) if (item.conv === convId) fail(item.cid, detail) || dropFromOutbox(item.cid);
  }
  function onSent(f) {
    dropFromOutbox(f.client_id);
    const node = pendingNode(f.client_id);
    if (node) node.className = "msg customer", setState(node, t("msg.sent"));
  }

  /* ---------- typing ---------- */
  function onInput() {
    autosize();
    draft(el.input.value);
    if (!S.conv || S.conv.status === "closed" || !el.input.value.trim()) return stopTyping();
    if (!S.typingOut && send({ type: "typing", conversation_id: S.conv.id, state: true })) S.typingOut = true;
    clearTimeout(S.typingTimer);
    S.typingTimer = setTimeout(stopTyping, 3000);
  }
  function stopTyping() {
    clearTimeout(S.typingTimer);
    if (S.typingOut && S.conv) send({ type: "typing", conversation_id: S.conv.id, state: false });
    S.typingOut = false;
  }
  function onKey(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  }
  function autosize() {
    el.input.style.height = "auto";
    el.input.style.height = Math.min(el.input.scrollHeight + 2, 132) + "px";
  }
  function setTyping(on, name) {
    clearTimeout(S.typingInTimer);
    el.typing.hidden = !on;
    if (on) {
      el.typingText.textContent = t("typing", { name: name || t("agent.default") });
      S.typingInTimer = setTimeout(() => setTyping(false), 8000);
      scrollDown();
    }
  }

  /* ---------- attachments ---------- */
  const MAGIC = [
    [[0x89, 0x50, 0x4e, 0x47], "image/png"],
    [[0xff, 0xd8, 0xff], "image/jpeg"],
    [[0x47, 0x49, 0x46, 0x38], "image/gif"],
    [[0x25, 0x50, 0x44, 0x46, 0x2d], "application/pdf"],
  ];
  async function sniff(file) {
    const b = new Uint8Array(await file.slice(0, 12).arrayBuffer());
    for (const [sig, type] of MAGIC) if (sig.every((x, i) => b[i] === x)) return type;
    const s = String.fromCharCode(...b);
    return s.startsWith("RIFF") && s.slice(8, 12) === "WEBP" ? "image/webp" : null;
  }
  function onPaste(e) {
    const f = [...((e.clipboardData && e.clipboardData.files) || [])][0];
    if (f) e.preventDefault(), attach(f);
  }
  async function attach(file) {
    if (!S.conv && S.wantStart) return notice(t("att.opening"));
    if (!S.conv || S.conv.status === "closed") return;
    el.notice.hidden = true;
    const name = file.name;
    if (file.size > MAX_BYTES) return notice(t("att.tooLarge", { name, size: fmtSize(file.size), max: fmtSize(MAX_BYTES) }));
    if (!file.size) return notice(t("att.empty", { name }));
    const type = await sniff(file).catch(() => null);
    if (!type) return notice(t("att.type", { name, allowed: t("att.allowed") }));
    const item = { cid: newClientId(), conv: S.conv.id, body: "", atts: [{ name: file.name, type, size: file.size }], at: new Date().toISOString() };
    const node = showPending(item, "uploading");
    const form = new FormData();
    form.append("conversation_id", item.conv);
    form.append("file", file, file.name);
    try {
      item.atts = [await api("POST", "/api/chat/attachments", form)];
    } catch (err) {
      node.remove();
      return notice(t("att.failed", { name, error: err.message }));
    }
    const fresh = renderMessage({ sender: "customer", body: "", attachments: item.atts, client_id: item.cid, at: item.at }, "sending");
    node.replaceWith(fresh);
    setState(fresh, t("msg.sending"));
    queue(item);
  }
  const blobs = new Map();
  function blobUrl(id) {
    if (!blobs.has(id)) {
      const p = fetch(ORIGIN + "/api/chat/attachments/" + encodeURIComponent(id), { headers: { Authorization: "Bearer " + S.token } }).then((r) => {
        if (!r.ok) throw new Error("download failed");
        return r.blob();
      }).then((b) => URL.createObjectURL(b));
      p.catch(() => blobs.delete(id));
      blobs.set(id, p);
    }
    return blobs.get(id);
  }
  function renderAttachment(a) {
    if (!a.id) return h("div", { class: "file" }, icon("file"), h("span", null, h("span", { class: "fname", text: a.name }), h("span", { class: "fsize", text: fmtSize(a.size) })));
    if (a.type.startsWith("image/")) {
      const img = h("img", { class: "thumb", alt: a.name });
      const link = h("a", { class: "att-image", href: "#", target: "_blank", rel: "noopener", title: a.name }, img);
      link.addEventListener("click", (e) => link.getAttribute("href") === "#" && e.preventDefault());
      blobUrl(a.id).then((u) => {
        img.src = u;
        link.href = u;
        img.onload = () => scrollDown();
      }, () => (img.alt = t("att.unloaded", { name: a.name })));
      return link;
    }
    const link = h(
      "a",
      { class: "file att-file", href: "#", download: a.name, title: t("att.download", { name: a.name }) },
      icon("file"),
      h("span", null, h("span", { class: "fname", text: a.name }), h("span", { class: "fsize", text: t("att.pdf", { size: fmtSize(a.size) }) }))
    );
    link.addEventListener("click", (e) => {
      if (link.dataset.ready) return;
      e.preventDefault();
      blobUrl(a.id).then((u) => {
        link.href = u;
        link.dataset.ready = "1";
        link.click();
      }, () => notice(t("att.downloadFailed", { name: a.name })));
    });
    return link;
  }

  /* ---------- start, end, transcript ---------- */
  async function ensureToken() {
    if (S.token) return S.token;
    let r;
    try {
      r = await fetch(ORIGIN + "/api/visitors", { method: "POST" });
    } catch (e) {
      throw new Error(t("error.network")); // offline, or a site the contact center does not answer (CORS)
    }
    const data = await r.json().catch(() => ({}));
    if (r.status === 429) throw busyError(t("busy.now"));
    if (!r.ok) throw new Error(errText(data.error, data.detail || t("error.status", { status: r.status })));
    allowStorage(); // a visitor id is needed for what the visitor asked (unless they said "No thanks")
    keepToken(data);
    return S.token;
  }
  /* ---------- visitor token life: renewed for the same customer (POST /api/visitors/renew) ---------- */
  function busyError(text) {
    const err = new Error(text);
    err.busy = true;
    return err;
  }
  function keepToken(data) {
    S.token = data.token;
    S.tokenExp = Date.now() + (data.expires_in || 0) * 1000;
    store.set("token", S.token);
    store.set("tokenExp", S.tokenExp);
  }
  function renewToken() {
    // One renewal at a time; resolves true when the token was replaced (same visitor, same customer).
    if (S.renewing) return S.renewing;
    if (!S.token) return Promise.resolve(false);
    S.renewing = fetch(ORIGIN + "/api/visitors/renew", { method: "POST", headers: { Authorization: "Bearer " + S.token } })
      .then((r) => (r.ok ? r.json().then((d) => (keepToken(d), true)) : false))
      .catch(() => false)
      .finally(() => (S.renewing = null));
    return S.renewing;
  }
  function renewIfDue() {
    if (S.token && Date.now() > S.tokenExp - RENEW_BEFORE_MS) renewToken();
  }
  async function onStart(e) {
    e.preventDefault();
    const name = el.name.value.trim();
    const email = el.email.value.trim();
    store.set("name", name);
    if (email) store.set("email", email);
    S.wantStart = { name: name || null, email: email || null };
    S.early = [];
    S.stopped = false;
    el.notice.hidden = true;
    try {
      await ensureToken();
    } catch (err) {
      S.wantStart = null;
      return notice(err.busy ? err.message : t("start.failed", { error: err.message }));
    }
    reportUnanswered("chat");
    hook("chatStarting");
    resetConversation();
    el.prechat.hidden = kb.search.hidden = true;
    el.waiting.hidden = false;
    el.composer.hidden = false;
    if (S.ready) sendStart();
    else connect();
    el.input.focus();
  }
  function sendStart() {
    const w = S.wantStart;
    // The full page address without its query and fragment, so an agent serving several sites tells them apart.
    const page = (location.origin + location.pathname).slice(0, 500);
    // The customer's language (the tag the page asked for, even one the widget has no texts for) for the agent.
    const start = { type: "start", name: w.name, email: w.email, page_url: page, lang: I18N.tag };
    if (QUEUE) start.queue = QUEUE;
    if (TOPIC || S.askedTopic) start.topic = TOPIC || S.askedTopic; // the topic a part opened the chat with (an invitation)
    send(start);
  }
  // The visitor searched the help articles, opened none, and asked for help: a failed self-service (once).
  function reportUnanswered(asked) {
    const query = kb.unanswered();
    if (!query || S.reported === query) return;
    S.reported = query;
    api("POST", "/api/kb/failed-searches", { query, lang: I18N.tag, asked }).catch(() => {
      /* a figure for the writers, never in the customer's way */
    });
  }
  /* ---------- consent ---------- */
  async function answerConsent(yes) {
    S.answered = true;
    S.browsing = yes;
    el.consent.hidden = true;
    if (yes) allowStorage();
    else forbidStorage();
    if (yes) store.set("consent", { v: CONSENT_POLICY.version, storage: true, browsing: true, at: new Date().toISOString() });
    S.consentPending = true; // until the server has it, a beacon would be refused: sendViews keeps the view
    try {
      await ensureToken(); // after "No thanks", a visitor id in memory only: the refusal is recorded too
      await api("POST", "/api/consent", { version: CONSENT_POLICY.version, storage: yes, browsing: yes });
      if (yes) hook("consented");
    } catch (err) {
      notice(t("consent.failed", { error: err.message }));
    } finally {
      S.consentPending = false;
    }
  }
  /* ---------- page views: with "browsing" consent only, one beacon as the visitor leaves a page ----------
     The page's address without its query and fragment, its title and the seconds it was visible; a beacon
     that could not be queued waits in storage and goes with the next one (POST /api/consent/pageviews). */
  const PV = { at: new Date().toISOString(), since: document.hidden ? 0 : Date.now(), seconds: 0, sent: false };
  function pvClock() {
    if (document.hidden && PV.since) (PV.seconds += (Date.now() - PV.since) / 1000), (PV.since = 0);
    else if (!document.hidden && !PV.since) PV.since = Date.now();
  }
  function sendViews() {
    pvClock();
    if (!S.browsing || !S.token || PV.sent || !navigator.sendBeacon) return;
    if (PV.since) (PV.seconds += (Date.now() - PV.since) / 1000), (PV.since = Date.now());
    const view = { url: (location.origin + location.pathname).slice(0, 2000), title: document.title.slice(0, 200), at: PV.at, seconds: Math.min(86400, Math.round(PV.seconds)) };
    const views = [...store.get("views", []), view].slice(-20);
    // Left while the consent is still on its way: kept, it goes with the next page's beacon.
    if (S.consentPending) return (PV.sent = true), store.set("views", views);
    // A string goes as text/plain: a cross-site beacon may not send application/json.
    if (navigator.sendBeacon(ORIGIN + "/api/consent/pageviews", JSON.stringify({ token: S.token, views }))) {
      PV.sent = true;
      store.del("views");
    } else store.set("views", views);
  }
  /* ---------- web callback ---------- */
  function fmtSlot(at) {
    const opts = { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
    try {
      return parseTime(at).toLocaleString(TIME_LOCALE, opts);
    } catch (e) {
      return parseTime(at).toLocaleString([], opts);
    }
  }
  function cbMode() {
    const on = el.callback.querySelector("input[name=ccw-cbmode]:checked");
    return on ? on.value : "phone";
  }
  function syncMode() {
    el.cbPhoneField.hidden = cbMode() !== "phone";
  }
  // `offered`: the slot an invitation offered (ISO time), chosen in the list when it is still free.
  async function openCallback(offered) {
    el.notice.hidden = true;
    el.cbName.value = el.cbName.value || el.name.value;
    view("callback");
    el.cbName.focus();
    try {
      await ensureToken();
      const q = QUEUE ? "?queue=" + encodeURIComponent(QUEUE) : "";
      const free = await api("GET", "/api/callback/slots" + q);
      el.cbWhen.replaceChildren(h("option", { value: "", text: t("callback.asap") }), ...free.slice(0, 60).map((s) => h("option", { value: s.start, text: fmtSlot(s.start) })));
      const want = typeof offered === "string" ? Date.parse(offered) : NaN;
      const match = free.slice(0, 60).find((s) => Date.parse(s.start) === want);
      if (match) el.cbWhen.value = match.start;
    } catch (err) {
      /* no slots shown: "as soon as possible" still works */
    }
  }
  async function onCallback(e) {
    e.preventDefault();
    const name = el.cbName.value.trim();
    const phone = el.cbPhone.value.trim();
    const mode = cbMode();
    if (!name) return notice(t("callback.needName"));
    if (mode === "phone" && !phone) return notice(t("callback.needPhone"));
    // One key per request, kept until it succeeds: a retry after a lost answer finds the same callback.
    S.cbKey = S.cbKey || newClientId();
    const body = { idempotency_key: S.cbKey, name, mode, page_url: (location.origin + location.pathname).slice(0, 500), lang: I18N.tag };
    if (mode === "phone") body.phone = phone;
    if (el.cbTopic.value.trim() || TOPIC) body.topic = el.cbTopic.value.trim() || TOPIC;
    if (el.cbWhen.value) body.slot_start = el.cbWhen.value;
    if (QUEUE) body.queue = QUEUE;
    el.notice.hidden = true;
    el.cbSubmit.disabled = true;
    try {
      await ensureToken();
      const done = await api("POST", "/api/callback/requests", body);
      S.cbKey = null;
      reportUnanswered("callback");
      showCallback(done);
    } catch (err) {
      notice(t("callback.failed", { error: err.message }));
    } finally {
      el.cbSubmit.disabled = false;
    }
  }
  function showCallback(done) {
    S.cbToken = done.link_token;
    el.cbWhenText.textContent = done.slot_start ? t("callback.done.slot", { time: fmtSlot(done.slot_start) }) : t("callback.done.asap");
    const est = done.estimate && done.estimate.expected_s != null ? " " + t("callback.done.wait", { minutes: Math.max(1, Math.round(done.estimate.expected_s / 60)) }) : "";
    el.cbQueueText.hidden = done.position == null;
    el.cbQueueText.textContent = done.position == null ? "" : t("callback.done.position", { position: done.position + 1 }) + est;
    el.cbRef.textContent = t("callback.done.reference", { reference: done.reference });
    el.cbCancel.hidden = false;
    view("cbdone");
  }
  async function cancelCallback() {
    if (!S.cbToken) return;
    try {
      await api("POST", "/api/callback/links/" + encodeURIComponent(S.cbToken) + "/cancel");
      el.cbWhenText.textContent = t("callback.cancelled");
      el.cbQueueText.hidden = true;
      el.cbCancel.hidden = true;
      S.cbToken = null;
    } catch (err) {
      notice(err.message);
    }
  }
  function newChat() {
    S.early = [];
    resetConversation();
    store.del("conv");
    view("prechat");
    el.name.focus();
  }
  function endChat() {
    showSheet(null);
    if (!S.conv || !send({ type: "close", conversation_id: S.conv.id })) notice(t("end.offline"));
  }
  async function onTranscript(e) {
    e.preventDefault();
    const email = el.tEmail.value.trim();
    el.tResult.hidden = false;
    el.tResult.style.color = "";
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      el.tResult.textContent = t("transcript.invalid");
      el.tResult.style.color = "#b42318";
      return;
    }
    if (!S.conv) return;
    el.tResult.textContent = t("transcript.sending");
    try {
      const r = await api("POST", "/api/chat/conversations/" + encodeURIComponent(S.conv.id) + "/transcript", { email });
      store.set("email", email);
      el.tResult.textContent = t("transcript.sent", { email, count: r.messages });
      el.tResult.style.color = "#14532d";
    } catch (err) {
      el.tResult.textContent = t("transcript.failed", { error: err.message });
      el.tResult.style.color = "#b42318";
    }
  }

  /* ---------- connection ---------- */
  function send(frame) {
    if (!S.ws || S.ws.readyState !== 1 || (!S.ready && frame.type !== "hello")) return false;
    S.ws.send(JSON.stringify(frame));
    return true;
  }
  function connect() {
    clearTimeout(S.retryTimer);
    S.retryTimer = 0;
    if (S.ws || !S.token || S.stopped) return;
    if (!navigator.onLine) return schedule(); // the "online" event reconnects at once
    const ws = new WebSocket(WS_URL);
    S.ws = ws;
    S.ready = false;
    S.lastFrame = Date.now();
    const resume = {};
    if (S.conv && S.conv.status !== "closed" && S.lastSeq) resume[S.conv.id] = S.lastSeq;
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", v: 1, token: S.token, resume }));
    ws.onmessage = (e) => {
      if (S.ws !== ws) return;
      let f;
      try {
        f = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      S.lastFrame = Date.now();
      onFrame(f);
    };
    ws.onclose = (e) => S.ws === ws && drop(e.code);
    clearInterval(S.tickTimer);
    S.lastTick = Date.now();
    S.tickTimer = setInterval(tick, 250);
  }
  function tick() {
    const now = Date.now();
    // A late tick means this page was frozen (busy main thread, background tab): frames may still be
    // queued behind us, so allow one more heartbeat before calling the socket dead.
    if (now - S.lastTick > 1500) S.lastFrame = Math.max(S.lastFrame, now - S.hb * 1000);
    S.lastTick = now;
    if (!S.ws) return;
    if (S.ready && now - S.lastPing >= S.hb * 1000) {
      S.lastPing = now;
      send({ type: "ping", t: now / 1000 });
    }
    if (now - S.lastFrame > 2 * S.hb * 1000) drop(0); // no pong: the socket is dead
  }
  function drop(code) {
    const ws = S.ws;
    S.ws = null;
    S.ready = false;
    clearInterval(S.tickTimer);
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null;
      try {
        ws.close();
      } catch (e) {
        /* ignore */
      }
    }
    stopTyping();
    setTyping(false);
    setBanner();
    if (STOP_CODES[code] && (code !== 4401 || S.freshToken)) {
      // Reconnecting cannot help (no access, or even a brand-new visitor token was refused): stop and say so.
      S.stopped = true;
      S.freshToken = false;
      giveBackEarly();
      if (!S.conv) view("prechat");
      return notice(t("unavailable"));
    }
    if (code === 4401 && !S.renewedAfter401) {
      // Maybe only expired: a renewal keeps the same customer (and its chat); else start over below.
      S.renewedAfter401 = true;
      renewToken().then((ok) => (ok ? connect() : drop(4401)));
      return;
    }
    if (code === 4401) {
      // The visitor token is no longer valid (e.g. the server's key changed): start over as a new visitor.
      const again = S.wantStart;
      const early = S.early;
      S.token = null;
      store.del("token");
      store.del("conv");
      resetConversation();
      view("prechat");
      if (again) {
        ensureToken().then(() => {
          S.wantStart = again;
          S.freshToken = true;
          S.early = early;
          el.prechat.hidden = kb.search.hidden = true;
          el.waiting.hidden = el.composer.hidden = false;
          for (const item of early) showPending(item, "sending");
          connect();
        }, () => (giveBackEarly(), notice(t("start.retry"))));
      }
      return;
    }
    schedule();
  }
  function schedule() {
    if (S.retryTimer || S.stopped) return;
    S.retryTimer = setTimeout(connect, backoffDelay(S.attempt++));
  }
  function reconnectNow() {
    S.attempt = 0;
    if (S.ws && S.ready) return send({ type: "ping", t: Date.now() / 1000 });
    if (S.ws) drop(0);
    clearTimeout(S.retryTimer);
    S.retryTimer = 0;
    connect();
  }

  /* ---------- frames ---------- */
  function onFrame(f) {
    switch (f.type) {
      case "welcome":
        return onWelcome(f);
      case "conversation":
        if (partChannels.has(f.conversation.channel)) return; // a part's (a call): it follows it itself
        return onConversation(f.conversation);
      case "message":
        return onMessage(f.message);
      case "sent":
        return onSent(f);
      case "typing":
        if (S.conv && f.conversation_id === S.conv.id && f.sender === "agent") {
          if (!S.agentName && f.name) (S.agentName = f.name), updateStatus();
          setTyping(f.state, f.name);
        }
        return;
      case "read":
        if (S.conv && f.conversation_id === S.conv.id && f.reader === "agent") (S.readSeq = Math.max(S.readSeq, f.seq)), markRead();
        return;
      case "error":
        return onError(f);
      default: {
        const on = partFor.get(f.type);
        if (on && on.frame) on.frame(f);
      }
    }
  }
  function onWelcome(f) {
    S.hb = f.heartbeat_s > 0 ? f.heartbeat_s : 5;
    S.ready = S.everReady = true;
    S.attempt = 0;
    S.lastPing = Date.now();
    setBanner();
    const chats = f.conversations.filter((c) => !partChannels.has(c.channel)); // a call is the call box's
    const open = new Set(chats.map((c) => c.id));
    const stored = store.get("conv", null);
    if (S.conv && S.conv.status !== "closed" && !open.has(S.conv.id)) closedWhileAway(S.conv);
    else if (!S.conv && stored && !open.has(stored) && !S.wantStart) closedWhileAway({ id: stored });
    if (!chats.length && S.wantStart) sendStart();
    S.freshToken = false;
    S.renewedAfter401 = false;
    // Unconfirmed messages go again with the same client_id (the server stores each one once), paced.
    const resend = [];
    for (const item of S.outbox.slice()) {
      if (open.has(item.conv)) resend.push(item.cid);
      else if (!S.conv || item.conv !== S.conv.id) dropFromOutbox(item.cid);
    }
    pacer.restart(resend);
    scheduleAck();
    for (const x of parts) if (x.on.ready) x.on.ready([...open]);
  }
  async function closedWhileAway(c) {
    // The chat was closed while this page was away: show what was missed, then "Chat ended".
    store.del("conv");
    if (!S.conv) {
      resetConversation();
      S.conv = Object.assign({ status: "assigned", customer_read_seq: 0 }, c);
    }
    try {
      const missed = await api("GET", `/api/chat/conversations/${encodeURIComponent(c.id)}/messages?after=${S.lastSeq}`);
      for (const m of missed) onMessage(m);
    } catch (e) {
      /* history is a nicety here */
    }
    if (S.conv && S.conv.id === c.id) onConversation(Object.assign({}, S.conv, { status: "closed" }));
    for (const x of parts) if (x.on.closedAway) x.on.closedAway(c.id); // its frames went while the page was away
  }
  function onError(f) {
    // Too many sends at once: the message stays queued and goes again later, more slowly.
    // Refused for now, not for good: kept and sent again later (the client id makes a resend safe).
    if (parts.some((x) => x.on.error && x.on.error(f))) return;
    const retry = f.code === "rate_limited" || f.code === "internal";
    if (retry && f.ref && S.outbox.some((i) => i.cid === f.ref)) return pacer.limited(f.ref);
    if (f.ref && fail(f.ref, errText(f.code, f.detail))) return;
    if (f.ref === "start" && (f.code === "busy" || f.code === "too_many_chats")) return refusedStart(f);
    if (f.ref === "start") {
      if (f.code === "queue_not_found") console.error(`Contact Center widget: ${f.detail} (check data-queue)`);
      S.wantStart = null;
      giveBackEarly();
      view("prechat");
      return notice(t("start.failed", { error: errText(f.code, f.detail) }));
    }
    if (["heartbeat_timeout", "not_authenticated", "bad_ack", "rate_limited"].includes(f.code)) return;
    if (f.code === "conversation_closed" && S.conv) return onConversation(Object.assign({}, S.conv, { status: "closed" }));
    notice(sentence(errText(f.code, f.detail)));
  }

  function refusedStart(f) {
    // A limit said no (docs/security.md): say so plainly; the visitor may try again after f.retry_after.
    S.wantStart = null;
    giveBackEarly();
    view("prechat");
    notice(f.code === "busy" ? t("busy.now") : t("busy.too_many_chats"));
  }

  /* ---------- boot ---------- */
  function boot() {
    document.body.append(host);
    el.name.value = store.get("name", "") || "";
    el.email.value = store.get("email", "") || "";
    el.input.value = draft() || "";
    view("prechat");
    renewIfDue();
    setInterval(renewIfDue, 10 * 60 * 1000);
    if (S.token && (store.get("conv", null) || S.outbox.length)) {
      // A chat is going on: show it while it is replayed from the server.
      el.prechat.hidden = kb.search.hidden = true;
      connect();
    }
    if (S.open) toggle(true, true);
    if (S.browsing) hook("consented");
    addEventListener("online", reconnectNow);
    addEventListener("offline", () => S.ws && drop(0));
    addEventListener("pagehide", sendViews);
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) return sendViews(); // phones may never fire pagehide
      pvClock();
      scheduleAck();
      if (S.ws && S.ready) send({ type: "ping", t: Date.now() / 1000 });
      else if (S.token && S.retryTimer) reconnectNow();
    });
  }
  if (document.body) boot();
  else document.addEventListener("DOMContentLoaded", boot);
})();

// Supervisor wallboard: GET /api/routing/wallboard, re-read whenever a routing event arrives on the
// websocket (and every 5 s as a safety net). The socket is rt-socket.js's: reconnect with backoff and
// jitter, and a full stop (with a message) once the session has ended or the role has no access.
// Plain JS; every name goes in with textContent.
"use strict";

(function () {
  const root = document.getElementById("wallboard");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const STATES = ["available", "busy", "wrap_up", "away", "offline"];
  const LABEL = { available: "Available", busy: "Busy", wrap_up: "Wrap-up", away: "Away", offline: "Offline" };
  const COLOR = { available: "#12b76a", busy: "#2563eb", wrap_up: "#7a5af8", away: "#f79009", offline: "#98a2b3" };
  const history = []; // [time ms, total waiting]
  let timer = null;
  let pending = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) node.append(typeof c === "string" ? document.createTextNode(c) : c);
    return node;
  }
  const set = (id, text) => { document.getElementById(id).textContent = text; };

  function dur(s) {
    if (!s) return "0:00";
    s = Math.round(s);
    const m = Math.floor(s / 60), r = String(s % 60).padStart(2, "0");
    return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${r}` : `${m}:${r}`;
  }

  function slClass(pct) { return pct === null ? "" : pct >= 80 ? "" : pct >= 60 ? "warn" : "bad"; }

  function render(wb) {
    let waiting = 0, longest = 0, answered = 0, inTarget = 0, abandoned = 0;
    const tbody = document.querySelector("#queues tbody");
    tbody.replaceChildren();
    for (const q of wb.queues) {
      waiting += q.waiting; answered += q.answered; inTarget += q.answered_in_target; abandoned += q.abandoned;
      longest = Math.max(longest, q.longest_wait_s);
      const pct = q.service_level_pct;
      const fill = el("div", { class: `sl-fill ${slClass(pct)}`, style: `width:${pct === null ? 0 : pct}%` });
      tbody.append(el("tr", { class: q.longest_wait_s > q.target_s ? "hot" : null, "data-queue": q.queue },
        el("td", {}, el("strong", {}, q.name), el("div", { class: "muted small" }, `target ${q.target_s} s`)),
        el("td", { class: "num q-waiting" }, String(q.waiting)),
        el("td", { class: "num" }, dur(q.longest_wait_s)),
        el("td", {}, el("div", { class: "sl" }, el("div", { class: "sl-bar" }, fill),
          el("span", { class: "sl-text" }, pct === null ? "–" : `${pct}%`))),
        el("td", { class: "num" }, String(q.answered)),
        el("td", { class: "num" }, String(q.abandoned))));
    }
    set("k-waiting", String(waiting));
    set("k-longest", dur(longest));
    const sl = answered ? Math.round((1000 * inTarget) / answered) / 10 : null;
    set("k-sl", sl === null ? "–" : `${sl}%`);
    set("k-sl-sub", answered ? `${inTarget} of ${answered} in target` : "nothing answered yet");
    document.getElementById("k-sl").parentElement.className = `kpi ${slClass(sl)}`;
    set("k-answered", String(answered));
    set("k-abandoned", String(abandoned));
    const by = wb.agents_by_state;
    set("k-onduty", String((by.available || 0) + (by.busy || 0) + (by.wrap_up || 0)));
    renderStates(by);
    renderAgents(wb.agents);
    history.push([Date.now(), waiting]);
    while (history.length && history[0][0] < Date.now() - 600000) history.shift();
    renderChart();
    set("wb-updated", `updated ${new Date().toLocaleTimeString()}`);
  }

  // Agents by state as horizontal bars (charts.js), one per state in its colour, with the figures table;
  // drawn again only when a count changes (the board refreshes every 5 s).
  let statesKey = null;
  function renderStates(by) {
    const values = STATES.map((s) => by[s] || 0);
    const key = values.join(",");
    if (key === statesKey) return;
    statesKey = key;
    Charts.bar(document.getElementById("state-chart"), {
      title: "Agents by state",
      labels: STATES.map((s) => LABEL[s]),
      series: [{ key: "agents", label: "Agents", color: STATES.map((s) => COLOR[s]), values }],
      horizontal: true,
      valueLabels: true,
      table: { head: ["State", "Agents"], rows: STATES.map((s, i) => [LABEL[s], String(values[i])]) },
    });
  }

  function renderAgents(agents) {
    const tbody = document.querySelector("#agents tbody");
    document.getElementById("agents-empty").hidden = agents.length > 0;
    tbody.replaceChildren(...agents.map((a) => {
      const select = el("select", { class: "move", "aria-label": `Move ${a.name || a.agent_id} to`, "data-agent": String(a.agent_id) },
        el("option", { value: "" }, "—"),
        ...["available", "away", "wrap_up", "offline"].map((s) => el("option", { value: s }, LABEL[s])));
      select.addEventListener("change", () => move(a.agent_id, select.value));
      const offered = a.held.filter((h) => h.status === "offered").length;
      return el("tr", { "data-agent": String(a.agent_id) },
        el("td", {}, a.name || `Agent ${a.agent_id}`),
        el("td", {}, el("span", { class: `st st-${a.state}` }, LABEL[a.state] || a.state)),
        el("td", { class: "muted" }, a.reason || ""),
        el("td", { class: "num" }, `${Math.round((100 * a.load) / a.capacity)}%`),
        el("td", { class: "num" }, `${a.held.length - offered}${offered ? ` (+${offered} offered)` : ""}`),
        el("td", {}, select));
    }));
  }

  // Contacts waiting over the last minutes (charts.js): x in seconds before now, the axis growing from one
  // minute up to ten; the figures as a sentence for screen readers and tests.
  let chart = null;
  function renderChart() {
    const now = Date.now();
    const span = Math.min(600, Math.max(60, history.length ? Math.ceil((now - history[0][0]) / 1000) : 0));
    const points = history.map(([t, v]) => ({ x: -(now - t) / 1000, y: v }));
    if (history.length) points.push({ x: 0, y: history[history.length - 1][1] });
    const values = history.map((h) => h[1]);
    const last = values.length ? values[values.length - 1] : 0;
    const most = values.length ? Math.max(...values) : 0;
    const spec = {
      title: "Contacts waiting over time",
      series: [{ key: "waiting", label: "Waiting", points, stepped: "after" }],
      x: { min: -span, max: 0, step: span <= 60 ? 15 : span <= 180 ? 30 : 60,
        format: (v) => (v === 0 ? "now" : -v < 60 ? `${-v} s` : `${Math.round(-v / 6) / 10} min`) },
      y: { suggestedMax: 4 },
      summary: `${last} waiting now; at most ${most} in the last ${Math.round(span / 60)} min.`,
    };
    if (chart) chart.update(spec);
    else chart = Charts.line(document.getElementById("chart"), spec);
  }

  async function move(agentId, state) {
    if (!state) return;
    const err = document.getElementById("agent-error");
    const body = { state, reason: state === "away" ? "moved by supervisor" : "" };
    const res = await fetch(`/api/routing/agents/${agentId}/state`, {
      method: "PUT", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body),
    });
    err.hidden = res.ok;
    if (!res.ok) err.textContent = `Could not move the agent: ${(await res.json().catch(() => ({}))).detail || res.status}`;
    refresh();
  }

  async function refresh() {
    try {
      const res = await fetch("/api/routing/wallboard", { headers: { Accept: "application/json" } });
      if (res.status === 401) return sock.stop("signed-out", 401);
      if (res.status === 403) return sock.stop("forbidden", 403);
      if (res.ok) render(await res.json());
      document.dispatchEvent(new CustomEvent("wb:refresh")); // the other panels (wallboard-outcomes.js)
    } catch (e) { /* the next event or tick tries again */ }
  }

  function soon() { if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 250); }

  function live(state, text) {
    const badge = document.getElementById("wb-live");
    badge.dataset.state = state;
    set("wb-live-text", text);
  }

  // What the board says about its connection; signed-out and forbidden are final (nothing retries).
  function onState(state) {
    const alert = document.getElementById("wb-alert");
    alert.hidden = state !== "signed-out" && state !== "forbidden";
    if (state === "online") live("live", "Live");
    else if (state === "reconnecting") live("down", "Reconnecting…");
    else if (state === "connecting") live("connecting", "Connecting…");
    else {
      clearInterval(timer);
      clearTimeout(pending);
      live("stopped", state === "signed-out" ? "Signed out" : "No access");
      if (state === "signed-out") {
        alert.replaceChildren(el("strong", {}, "Your session has ended: the wallboard is no longer updating. "),
          el("a", { href: `/login?next=${encodeURIComponent("/staff/wallboard")}` }, "Sign in again"));
      } else {
        alert.replaceChildren(el("strong", {}, "Your role has no access to the wallboard: it is no longer updating."));
      }
    }
  }

  const sock = RtSocket.open({
    hello: () => ({ type: "hello", v: 1, resume: {} }),
    onFrame: (f) => {
      if (f.type === "welcome") refresh();
      else if (f.type === "routing" || f.type === "conversation") soon();
      document.dispatchEvent(new CustomEvent("wb:frame", { detail: f })); // the live-conversations panel
    },
    onState,
  });

  window.WB = { send: (frame) => sock.send(frame), online: () => sock.online() };
  root.dataset.ready = "1";
  refresh();
  timer = setInterval(() => { refresh(); }, 5000);
  window.addEventListener("beforeunload", () => clearInterval(timer));
})();

// Agent console, co-browse (docs/cobrowse.md): ask the customer, then replay their page live with rrweb's
// Replayer in live mode (not rrwebPlayer: rrweb #1060), inside the sandboxed iframe rrweb makes (no
// scripts run in it). The server has scanned every event before it gets here. With the customer's second
// consent (remote control) the agent's clicks and wheel over the replay go to the customer's page.
"use strict";

(function (CC) {
  const { $, el } = CC;
  const S = () => CC.state;
  const sessions = new Map(); // conversation id -> { sid, state, control }
  let replayer = null;
  let shownFor = null; // conversation id the replayer shows
  let size = { width: 1024, height: 768 };

  const btn = $("cobrowse-btn");
  const pane = $("cobrowse-pane");
  const view = $("cobrowse-view");
  const status = $("cobrowse-status");
  const warning = $("cobrowse-warning");
  // Over the replay: catches the agent's mouse when pointing or highlighting (the replay's iframe gets none).
  const overlay = el("div", { class: "cb-overlay", id: "cobrowse-overlay" });
  let mode = null; // null | "pointer" | "highlight" | "drive" (remote control, once the customer allows it)
  let drag = null;
  let lastMove = 0;
  let moveTimer = 0;
  let pending = null;
  function flushMove() {
    moveTimer = 0;
    if (mode !== "pointer" || !pending) return;
    lastMove = Date.now();
    sendPointer("pointer", pending);
    pending = null;
  }

  function selected() {
    const rec = S().selected && S().convs.get(S().selected);
    return rec && CC.isOpen(rec) ? rec : null;
  }

  function render() {
    const rec = selected();
    const s = rec && sessions.get(rec.id);
    btn.hidden = !rec;
    btn.disabled = !!(s && s.state !== "ended");
    pane.hidden = !s || s.state === "ended";
    if (!s) return;
    status.textContent = s.state === "requested" ? "Waiting for the customer to accept…" : "Customer's page (live)";
    if (s.state === "on" && shownFor !== rec.id) reset(rec.id);
    const control = s.state === "on" ? s.control || "off" : "off";
    const ask = $("cobrowse-control");
    ask.hidden = s.state !== "on";
    ask.disabled = control === "asked";
    ask.textContent = control === "on" ? "Release control" : control === "asked" ? "Asked to control…" : "Ask to control";
    $("cobrowse-drive").hidden = control !== "on";
    if (control === "on") {
      status.textContent = "Customer's page (live) · you have control";
      status.classList.add("cb-control-on");
    } else {
      status.classList.remove("cb-control-on");
      if (mode === "drive") setMode(null);
    }
  }

  function reset(cid) {
    if (replayer) replayer.destroy && replayer.destroy();
    replayer = null;
    shownFor = cid;
    mode = null;
    overlay.dataset.mode = "";
    for (const id of ["cobrowse-point", "cobrowse-mark", "cobrowse-drive"]) $(id).setAttribute("aria-pressed", "false");
    view.replaceChildren(el("div", { class: "cb-empty" }, "Waiting for the customer's page…"), overlay);
    warning.hidden = true;
    $("cobrowse-page").textContent = "";
  }

  function fit() {
    if (!replayer) return;
    const scale = Math.min(1, view.clientWidth / size.width, view.clientHeight / size.height);
    replayer.wrapper.style.transform = `scale(${scale})`;
  }

  function play(events) {
    for (const e of events) {
      if (e.type === 4 && e.data) {
        size = { width: e.data.width || size.width, height: e.data.height || size.height };
        $("cobrowse-page").textContent = e.data.href || "";
      }
      if (!replayer) {
        if (e.type !== 4 && e.type !== 2) continue; // nothing to apply them to before a snapshot
        view.replaceChildren();
        replayer = new window.rrweb.Replayer([], { root: view, liveMode: true, mouseTail: false, showWarning: false });
        replayer.startLive(e.timestamp - 100); // the customer's clock, whatever the agent's says
        view.append(overlay);
      }
      replayer.addEvent(e);
    }
    fit();
  }

  function onFrame(f) {
    if (f.type === "cobrowse_state") {
      const was = sessions.get(f.conversation_id);
      const control = f.control || "off";
      sessions.set(f.conversation_id, { sid: f.session_id, state: f.state, control });
      if (f.state !== "on" && shownFor === f.conversation_id) reset(null);
      if (f.state === "ended") CC.announce(f.by === "customer" ? "The customer stopped sharing their page" : "Co-browse ended");
      const before = was && was.sid === f.session_id ? was.control : "off";
      if (f.state === "on" && before !== control && f.conversation_id === S().selected) {
        if (control === "on") CC.announce("The customer gave you control: click and scroll on their page");
        else if (before === "on") CC.announce("Control ended: you can no longer click or scroll on the customer's page");
        else if (before === "asked") CC.announce("The customer said no to control");
      }
      render();
      if (control === "on" && before !== "on" && f.conversation_id === shownFor && mode !== "drive") setMode("drive");
    } else if (f.type === "cobrowse_events" && f.conversation_id === shownFor) {
      play(f.events);
    } else if (f.type === "cobrowse_warning" && (f.conversation_id === shownFor || f.conversation_id === S().selected)) {
      warning.textContent = f.detail;
      warning.hidden = false;
      if (f.code === "control_refused") {
        CC.announce(f.detail);
        const shown = f.detail;
        setTimeout(() => { if (warning.textContent === shown) warning.hidden = true; }, 8000); // a moment's news
      }
    }
  }

  // The agent's mouse over the replay, as a point of the customer's page (CSS pixels from its top left).
  function pagePoint(e) {
    const frame = replayer && replayer.iframe;
    if (!frame) return null;
    const r = frame.getBoundingClientRect();
    const scale = r.width / (frame.offsetWidth || r.width) || 1;
    const x = (e.clientX - r.left) / scale;
    const y = (e.clientY - r.top) / scale;
    if (x < 0 || y < 0 || x > frame.offsetWidth || y > frame.offsetHeight) return null;
    const win = frame.contentWindow;
    return { x: Math.round(x + (win ? win.scrollX : 0)), y: Math.round(y + (win ? win.scrollY : 0)), vx: e.clientX, vy: e.clientY };
  }
  function sendPointer(kind, box) {
    if (shownFor) CC.frame(Object.assign({ type: "cobrowse_pointer", conversation_id: shownFor, kind }, box || {}));
  }
  function setMode(next) {
    if (mode === "pointer" && next !== "pointer") sendPointer("clear");
    mode = mode === next ? null : next;
    overlay.dataset.mode = mode || "";
    $("cobrowse-point").setAttribute("aria-pressed", String(mode === "pointer"));
    $("cobrowse-mark").setAttribute("aria-pressed", String(mode === "highlight"));
    $("cobrowse-drive").setAttribute("aria-pressed", String(mode === "drive"));
  }

  // Remote control: a click on the replay is a click at the same point of the customer's page; the wheel
  // scrolls the element under it that scrolls (rrweb's node id), else the page, to an absolute position.
  function sendControl(kind, args) {
    if (shownFor) CC.frame(Object.assign({ type: "cobrowse_control", conversation_id: shownFor, kind }, args));
  }
  let goal = null; // { key, x, y, at }: where the last wheel asked to go (the replay follows a little later)
  let scrollTimer = 0;
  let lastScroll = 0;
  let pendingScroll = null;
  function flushScroll() {
    scrollTimer = 0;
    if (!pendingScroll) return;
    lastScroll = Date.now();
    sendControl("scroll", pendingScroll);
    pendingScroll = null;
  }
  function scrollable(win, n) {
    const cs = win.getComputedStyle(n);
    const y = /(auto|scroll)/.test(cs.overflowY) && n.scrollHeight > n.clientHeight;
    const x = /(auto|scroll)/.test(cs.overflowX) && n.scrollWidth > n.clientWidth;
    return x || y;
  }
  function wheel(e) {
    const frame = replayer && replayer.iframe;
    const doc = frame && frame.contentDocument;
    const win = frame && frame.contentWindow;
    if (!doc || !win) return;
    const r = frame.getBoundingClientRect();
    const scale = r.width / (frame.offsetWidth || r.width) || 1;
    let target = null;
    for (let n = doc.elementFromPoint((e.clientX - r.left) / scale, (e.clientY - r.top) / scale); n; n = n.parentElement) {
      if (n === doc.body || n === doc.documentElement) break;
      if (scrollable(win, n)) {
        target = n;
        break;
      }
    }
    const id = target ? replayer.getMirror().getId(target) : -1;
    const node = id > 0 ? id : null;
    const key = node || "page";
    const page = doc.scrollingElement || doc.documentElement;
    const box = node ? target : page;
    const now = Date.now();
    const from = goal && goal.key === key && now - goal.at < 1000 ? goal : { x: box.scrollLeft, y: box.scrollTop };
    const unit = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? box.clientHeight : 1;
    const clamp = (v, max) => Math.round(Math.max(0, Math.min(max, v)));
    const x = clamp(from.x + e.deltaX * unit, box.scrollWidth - box.clientWidth);
    const y = clamp(from.y + e.deltaY * unit, box.scrollHeight - box.clientHeight);
    goal = { key, x, y, at: now };
    pendingScroll = node ? { x, y, node } : { x, y };
    // At most 10 a second (the server allows 10 control frames a second per socket), always the last.
    if (!scrollTimer) scrollTimer = setTimeout(flushScroll, Math.max(0, 100 - (now - lastScroll)));
  }
  overlay.addEventListener("click", (e) => {
    if (mode !== "drive") return;
    const p = pagePoint(e);
    if (p) sendControl("click", { x: p.x, y: p.y });
  });
  overlay.addEventListener(
    "wheel",
    (e) => {
      if (mode !== "drive") return;
      e.preventDefault();
      wheel(e);
    },
    { passive: false }
  );
  overlay.addEventListener("mousemove", (e) => {
    const p = pagePoint(e);
    if (mode === "pointer" && p) {
      // At most 10 a second (the socket allows 20 frames a second), and always the last position.
      pending = { x: p.x, y: p.y };
      if (!moveTimer) moveTimer = setTimeout(flushMove, Math.max(0, 100 - (Date.now() - lastMove)));
    } else if (mode === "highlight" && drag && p) {
      const r = overlay.getBoundingClientRect();
      Object.assign(drag.box.style, {
        left: Math.min(drag.vx, e.clientX) - r.left + "px", top: Math.min(drag.vy, e.clientY) - r.top + "px",
        width: Math.abs(e.clientX - drag.vx) + "px", height: Math.abs(e.clientY - drag.vy) + "px",
      });
      drag.end = p;
    }
  });
  overlay.addEventListener("mouseleave", () => {
    if (mode !== "pointer") return;
    clearTimeout(moveTimer);
    moveTimer = 0;
    pending = null;
    sendPointer("clear");
  });
  overlay.addEventListener("mousedown", (e) => {
    const p = mode === "highlight" && pagePoint(e);
    if (!p) return;
    e.preventDefault();
    drag = { start: p, end: p, vx: e.clientX, vy: e.clientY, box: el("div", { class: "cb-drag" }) };
    overlay.append(drag.box);
  });
  addEventListener("mouseup", () => {
    if (!drag) return;
    const { start, end, box } = drag;
    drag = null;
    box.remove();
    const w = Math.abs(end.x - start.x);
    const h = Math.abs(end.y - start.y);
    if (w < 4 || h < 4) return;
    sendPointer("highlight", { x: Math.min(start.x, end.x), y: Math.min(start.y, end.y), w, h });
    status.textContent = "Highlight shown to the customer";
  });
  $("cobrowse-point").addEventListener("click", () => setMode("pointer"));
  $("cobrowse-mark").addEventListener("click", () => setMode("highlight"));
  $("cobrowse-clear").addEventListener("click", () => sendPointer("clear"));
  $("cobrowse-drive").addEventListener("click", () => setMode("drive"));
  $("cobrowse-control").addEventListener("click", () => {
    const rec = selected();
    const s = rec && sessions.get(rec.id);
    if (!s || s.state !== "on") return;
    const type = s.control === "on" ? "cobrowse_control_revoke" : "cobrowse_control_request";
    CC.frame({ type, conversation_id: rec.id });
  });

  btn.addEventListener("click", () => {
    const rec = selected();
    if (rec) CC.frame({ type: "cobrowse_request", conversation_id: rec.id });
  });
  $("cobrowse-stop").addEventListener("click", () => {
    const rec = selected();
    if (rec) CC.frame({ type: "cobrowse_stop", conversation_id: rec.id });
  });
  addEventListener("resize", fit);

  CC.on("frame", onFrame);
  CC.on("selected", async (rec) => {
    render();
    try {
      const s = await CC.api(`/api/cobrowse/conversations/${encodeURIComponent(rec.id)}`);
      if (s) sessions.set(rec.id, { sid: s.id, state: s.state, control: s.control || "off" });
      // On already (a reload, a late join): ask again, and the customer's page sends a fresh snapshot.
      if (s && s.state === "on") CC.frame({ type: "cobrowse_request", conversation_id: rec.id });
    } catch (_) {
      /* the button still works */
    }
    render();
  });
  CC.on("conversations", render);
  CC.on("connection", (state) => {
    // Back after a drop: the events sent meanwhile are gone; a fresh snapshot replaces them.
    const rec = selected();
    const s = rec && sessions.get(rec.id);
    if (state === "online" && s && s.state === "on") reset(rec.id), CC.frame({ type: "cobrowse_request", conversation_id: rec.id });
  });
})(window.CC);

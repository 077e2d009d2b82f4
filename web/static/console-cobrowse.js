// Agent console, co-browse (docs/cobrowse.md): ask the customer, then replay their page live with rrweb's
// Replayer in live mode (not rrwebPlayer: rrweb #1060), inside the sandboxed iframe rrweb makes (no
// scripts run in it). The server has scanned every event before it gets here.
"use strict";

(function (CC) {
  const { $, el } = CC;
  const S = () => CC.state;
  const sessions = new Map(); // conversation id -> { sid, state }
  let replayer = null;
  let shownFor = null; // conversation id the replayer shows
  let size = { width: 1024, height: 768 };

  const btn = $("cobrowse-btn");
  const pane = $("cobrowse-pane");
  const view = $("cobrowse-view");
  const status = $("cobrowse-status");
  const warning = $("cobrowse-warning");

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
  }

  function reset(cid) {
    if (replayer) replayer.destroy && replayer.destroy();
    replayer = null;
    shownFor = cid;
    view.replaceChildren(el("div", { class: "cb-empty" }, "Waiting for the customer's page…"));
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
      }
      replayer.addEvent(e);
    }
    fit();
  }

  function onFrame(f) {
    if (f.type === "cobrowse_state") {
      sessions.set(f.conversation_id, { sid: f.session_id, state: f.state });
      if (f.state !== "on" && shownFor === f.conversation_id) reset(null);
      if (f.state === "ended") CC.announce(f.by === "customer" ? "The customer stopped sharing their page" : "Co-browse ended");
      render();
    } else if (f.type === "cobrowse_events" && f.conversation_id === shownFor) {
      play(f.events);
    } else if (f.type === "cobrowse_warning" && (f.conversation_id === shownFor || f.conversation_id === S().selected)) {
      warning.textContent = f.detail;
      warning.hidden = false;
    }
  }

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
      if (s) sessions.set(rec.id, { sid: s.id, state: s.state });
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

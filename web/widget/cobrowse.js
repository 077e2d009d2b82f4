/* Co-browse in the widget (docs/cobrowse.md): asks the customer, records the page with rrweb (loaded from
 * the app only once the customer agrees), shows a banner with Stop while it is on, and sends the events
 * over the widget's socket (batches too big for a frame over HTTP). Served between i18n.js and widget.js
 * inside the same function (contactcenter/channels/chat/widget.py), so nothing here is global. */
function makeCobrowse(o) {
  // o: { origin, t, send(frame) -> bool, post(path, body) -> Promise, mount(node), agentName(), mayStore() }
  const KEY = "cc_chat_cobrowse"; // sessionStorage: the session this tab shares, across the site's pages
  const FRAME_MAX = 15000; // bytes of a cobrowse_events frame (the server's limit is 16 KiB)
  const FLUSH_MS = 150;
  // Never sent at all (rrweb leaves hidden inputs, checkboxes and a select's default value alone: #1609,
  // #746): blocked, so the agent sees an empty box of the same size.
  const BLOCK = [
    "[data-cc-block]", "#cc-chat-widget", "input[type=password]", "input[type=hidden]", "input[type=checkbox]",
    "input[type=radio]", "select", "[autocomplete^=cc-]", "input[name*=card i]", "input[name*=cvv i]",
    "input[name*=cvc i]", "input[name*=pin i]", "input[name*=iban i]",
  ].join(",");
  // Card numbers shown as page text are text, not inputs: rrweb records them in clear. Every text node goes
  // through maskText (the server scans again, for IBANs and what this misses: docs/cobrowse.md).
  const RUN = /\d(?:[ .\u00a0-]?\d){12,18}/g;
  function luhn(d) {
    let sum = 0;
    for (let i = 0; i < d.length; i++) {
      let n = +d[d.length - 1 - i];
      if (i % 2) n = n > 4 ? n * 2 - 9 : n * 2;
      sum += n;
    }
    return sum % 10 === 0;
  }
  function maskText(text, element) {
    if (element && element.closest && element.closest("[data-cc-mask]")) return text.replace(/\S/g, "*");
    return text.replace(RUN, (m) => (luhn(m.replace(/\D/g, "")) ? m.replace(/\d/g, "*") : m));
  }
  let cur = null; // { cid, sid, on }
  let stopRec = null;
  let rr = null;
  let queue = [];
  let timer = 0;
  let posting = false;
  const ui = {};

  function saved() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) || "null");
    } catch (e) {
      return null;
    }
  }
  function save(v) {
    // After "No thanks" to storage (decision 45) the session lasts as long as the page.
    if (v && o.mayStore && !o.mayStore()) return;
    try {
      if (v) sessionStorage.setItem(KEY, JSON.stringify(v));
      else sessionStorage.removeItem(KEY);
    } catch (e) {
      /* private mode: co-browse then ends with the page */
    }
  }
  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text) n.textContent = text;
    return n;
  }
  function build() {
    if (ui.ask) return;
    ui.ask = el("div", "cb-ask");
    ui.ask.setAttribute("role", "alertdialog");
    ui.askText = el("p");
    const row = el("div", "row");
    ui.allow = el("button", "primary", o.t("cobrowse.allow"));
    ui.decline = el("button", "secondary", o.t("cobrowse.decline"));
    ui.allow.type = ui.decline.type = "button";
    ui.allow.onclick = () => accept();
    ui.decline.onclick = () => stop(true);
    row.append(ui.allow, ui.decline);
    ui.ask.append(ui.askText, row);
    ui.bar = el("div", "cb-bar");
    ui.bar.setAttribute("role", "status");
    ui.barText = el("span");
    ui.stop = el("button", "", o.t("cobrowse.stop"));
    ui.stop.type = "button";
    ui.stop.onclick = () => stop(true);
    ui.bar.append(ui.barText, ui.stop);
    ui.ask.hidden = ui.bar.hidden = true;
    // The agent's pointer and highlight: drawn over the page, inside the widget (never recorded), never
    // in the way of the customer's clicks.
    ui.pointer = el("div", "cb-pointer");
    ui.pointerName = el("span");
    ui.pointer.append(ui.pointerName);
    ui.mark = el("div", "cb-mark");
    ui.pointer.hidden = ui.mark.hidden = true;
    o.mount(ui.ask);
    o.mount(ui.bar);
    o.mount(ui.pointer);
    o.mount(ui.mark);
    addEventListener("scroll", place, { passive: true });
  }
  let marks = { pointer: null, highlight: null }; // page coordinates from the agent
  function place() {
    if (!ui.pointer) return;
    const p = marks.pointer;
    const b = marks.highlight;
    ui.pointer.hidden = !p;
    ui.mark.hidden = !b;
    if (p) Object.assign(ui.pointer.style, { left: p.x - scrollX + "px", top: p.y - scrollY + "px" });
    if (b) Object.assign(ui.mark.style, { left: b.x - scrollX + "px", top: b.y - scrollY + "px", width: b.w + "px", height: b.h + "px" });
  }
  function pointed(f) {
    if (!cur || !cur.on || cur.sid !== f.session_id) return;
    build();
    ui.pointerName.textContent = o.agentName() || o.t("agent.default");
    if (f.kind === "clear") marks = { pointer: null, highlight: null };
    else marks[f.kind] = { x: f.x, y: f.y, w: f.w, h: f.h };
    place();
  }
  function render() {
    build();
    const name = o.agentName() || o.t("agent.default");
    ui.ask.hidden = !cur || cur.on;
    ui.bar.hidden = !cur || !cur.on;
    ui.askText.textContent = o.t("cobrowse.ask", { name });
    ui.barText.textContent = o.t("cobrowse.banner", { name });
    if (cur && !cur.on) ui.allow.focus();
  }
  function loadRrweb() {
    if (rr) return Promise.resolve(rr);
    return new Promise((resolve, reject) => {
      const before = window.rrweb; // the site may use rrweb itself: give its own back
      const s = document.createElement("script");
      s.src = o.origin + "/cobrowse/rrweb.js";
      s.onload = () => {
        rr = window.rrweb;
        if (before === undefined) delete window.rrweb;
        else window.rrweb = before;
        s.remove();
        rr ? resolve(rr) : reject(new Error("rrweb"));
      };
      s.onerror = () => reject(new Error("rrweb"));
      document.head.append(s);
    });
  }
  async function record() {
    if (stopRec || !cur || !cur.on) return;
    const lib = await loadRrweb();
    if (stopRec || !cur || !cur.on) return;
    stopRec = lib.record({
      emit(e) {
        queue.push(e);
        // A page's snapshot (meta + full snapshot come together) goes at once and alone.
        if (e.type === 2) flush();
        else if (!timer) timer = setTimeout(flush, FLUSH_MS);
      },
      maskAllInputs: true,
      maskInputFn: (text) => "*".repeat(Math.min(text.length, 32)),
      maskTextSelector: "*", // every text node through maskText
      maskTextFn: maskText,
      blockSelector: BLOCK,
      recordCanvas: false,
      collectFonts: false,
      inlineImages: false,
      sampling: { mousemove: 100, scroll: 150 },
    });
  }
  function flush() {
    clearTimeout(timer);
    timer = 0;
    if (!cur || !cur.on || posting || !queue.length) return;
    const events = queue;
    queue = [];
    const frame = { type: "cobrowse_events", conversation_id: cur.cid, events };
    const text = JSON.stringify(frame);
    if (new TextEncoder().encode(text).length <= FRAME_MAX && events.length <= 500) {
      if (!o.send(frame)) queue = events.concat(queue); // offline: kept for the next flush
      return;
    }
    // Too big for a frame: over HTTP, and nothing else goes until it is through (the order matters).
    posting = true;
    o.post("/api/cobrowse/events", { conversation_id: cur.cid, events: events.slice(0, 500) })
      .catch(() => {
        /* the agent is told when a page is too large; the session goes on */
      })
      .finally(() => {
        posting = false;
        if (events.length > 500) queue = events.slice(500).concat(queue);
        if (queue.length) flush();
      });
  }
  function halt() {
    if (stopRec) stopRec();
    stopRec = null;
    queue = [];
    clearTimeout(timer);
    timer = 0;
  }
  function accept() {
    if (!cur) return;
    o.send({ type: "cobrowse_accept", conversation_id: cur.cid, session_id: cur.sid });
  }
  function stop(tell) {
    if (cur && tell) o.send({ type: "cobrowse_stop", conversation_id: cur.cid });
    halt();
    cur = null;
    save(null);
    marks = { pointer: null, highlight: null };
    place();
    render();
  }
  return {
    // The socket is ready with these conversations open: resume a session this tab was sharing.
    ready(openIds) {
      const s = saved();
      if (!s || !openIds.includes(s.cid)) return s && stop(false);
      cur = { cid: s.cid, sid: s.sid, on: false };
      accept(); // on again for this page: the server answers cobrowse_state on, recording follows
    },
    frame(f) {
      if (f.type === "cobrowse_state") {
        if (f.state === "ended") return cur && cur.sid === f.session_id && stop(false);
        cur = { cid: f.conversation_id, sid: f.session_id, on: f.state === "on" };
        if (cur.on) save({ cid: cur.cid, sid: cur.sid }), record();
        render();
      } else if (f.type === "cobrowse_pointer") {
        pointed(f);
      } else if (f.type === "cobrowse_snapshot_needed" && cur && cur.on && stopRec && rr) {
        rr.record.takeFullSnapshot(true);
      }
    },
    error(f) {
      // cobrowse_off: the session ended while this page was away.
      if (f.code === "cobrowse_off" || f.code === "cobrowse_not_found") stop(false);
    },
    closed() {
      stop(false);
    },
  };
}

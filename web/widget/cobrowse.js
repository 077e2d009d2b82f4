/* Co-browse in the widget (docs/cobrowse.md): asks the customer, records the page with rrweb (loaded from
 * the app only once the customer agrees), shows a banner with Stop while it is on, and sends the events
 * over the widget's socket (batches too big for a frame over HTTP). Remote control is a second question of
 * its own: only once the customer allows it are the agent's clicks (on safe targets only, never into a
 * field) and scrolls carried out, and one click on the banner takes it back. A widget part (parts.js):
 * registered and served inside the widget's function, so nothing here is global. */
// Its stylesheet joins the widget's: the control question (placed as the sharing one, with the banner's
// red: it asks for more), the take-back button, the click ring.
const COBROWSE_CSS = `
.cb-ctl{position:fixed;right:20px;bottom:92px;z-index:2147483002;width:340px;max-width:calc(100vw - 40px);padding:16px;background:#fff;border-radius:14px;box-shadow:0 12px 48px rgba(15,30,60,.3);border-top:4px solid #b42318}
.cb-ctl p{margin:0 0 12px;font-size:14.5px}
.cb-bar .cb-take{border-color:#fde68a;color:#fde68a}
.cb-ring{position:fixed;z-index:2147483001;width:34px;height:34px;margin:-17px 0 0 -17px;border:3px solid #f59e0b;border-radius:50%;pointer-events:none;box-shadow:0 0 0 2px rgba(180,83,9,.5);animation:cb-ring .8s ease-out forwards}
.cb-ring[data-outcome="refused"]{border-style:dashed;border-color:#6b7280;box-shadow:none}
@keyframes cb-ring{from{transform:scale(.4);opacity:1}to{transform:scale(1.3);opacity:0}}
@media (prefers-reduced-motion:reduce){.cb-ring{animation:none;opacity:.8}}
`;
function makeCobrowse(o) {
  // o: the parts' context (parts.js); everything it mounts is an overlay over the page.
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
  // The agent's click never lands on or inside these (nor on the widget): no field, nothing masked or
  // blocked, no label (a label's click focuses or ticks its field), nothing editable, no embedded frame.
  const NO_CLICK = [
    BLOCK, "input", "textarea", "select", "option", "label", "[contenteditable]:not([contenteditable=false])",
    "[data-cc-mask]", "iframe", "object", "embed",
  ].join(",");
  let cur = null; // { cid, sid, on, control: "off" | "asked" | "on" }
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
    // Remote control: a separate question, asked only once the page is shared and the agent asks for it.
    ui.ctl = el("div", "cb-ctl");
    ui.ctl.setAttribute("role", "alertdialog");
    ui.ctl.setAttribute("aria-labelledby", "cb-ctl-text");
    ui.ctl.tabIndex = -1;
    ui.ctlText = el("p");
    ui.ctlText.id = "cb-ctl-text";
    const crow = el("div", "row");
    ui.ctlAllow = el("button", "primary", o.t("cobrowse.control_allow"));
    ui.ctlNo = el("button", "secondary", o.t("cobrowse.control_decline"));
    ui.ctlAllow.type = ui.ctlNo.type = "button";
    ui.ctlAllow.onclick = () => grant();
    ui.ctlNo.onclick = () => revoke();
    crow.append(ui.ctlAllow, ui.ctlNo);
    ui.ctl.append(ui.ctlText, crow);
    ui.ctl.hidden = true;
    ui.bar = el("div", "cb-bar");
    ui.bar.setAttribute("role", "status");
    ui.barText = el("span");
    ui.stop = el("button", "", o.t("cobrowse.stop"));
    ui.stop.type = "button";
    ui.stop.onclick = () => stop(true);
    ui.take = el("button", "cb-take", o.t("cobrowse.control_take_back"));
    ui.take.type = "button";
    ui.take.onclick = () => revoke();
    ui.take.hidden = true;
    ui.bar.append(ui.barText, ui.take, ui.stop);
    ui.ask.hidden = ui.bar.hidden = true;
    // The agent's pointer and highlight: drawn over the page, inside the widget (never recorded), never
    // in the way of the customer's clicks.
    ui.pointer = el("div", "cb-pointer");
    ui.pointerName = el("span");
    ui.pointer.append(ui.pointerName);
    ui.mark = el("div", "cb-mark");
    ui.pointer.hidden = ui.mark.hidden = true;
    // Where the agent's last click went (dashed when it was refused), briefly.
    ui.ring = el("div", "cb-ring");
    ui.ring.hidden = true;
    ui.ring.dataset.n = "0";
    o.mount(ui.ask, "overlay");
    o.mount(ui.ctl, "overlay");
    o.mount(ui.ring, "overlay");
    o.mount(ui.bar, "overlay");
    o.mount(ui.pointer, "overlay");
    o.mount(ui.mark, "overlay");
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
    if (ringAt) Object.assign(ui.ring.style, { left: ringAt.x - scrollX + "px", top: ringAt.y - scrollY + "px" });
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
    const control = cur && cur.on ? cur.control : "off";
    const asked = control === "asked" && ui.ctl.hidden;
    ui.ctl.hidden = control !== "asked";
    ui.take.hidden = control !== "on";
    ui.askText.textContent = o.t("cobrowse.ask", { name });
    ui.ctlText.textContent = o.t("cobrowse.control_ask", { name });
    ui.barText.textContent = o.t(control === "on" ? "cobrowse.control_banner" : "cobrowse.banner", { name });
    if (cur && !cur.on) ui.allow.focus();
    // The question itself takes the focus, not Allow: a key the customer was typing must not say yes.
    else if (asked) ui.ctl.focus();
  }
  function grant() {
    if (cur && cur.on && cur.control === "asked") {
      o.send({ type: "cobrowse_control_grant", conversation_id: cur.cid, session_id: cur.sid });
    }
  }
  function revoke() {
    // Off here at once, whatever the server answers: no click or scroll is carried out after this.
    if (!cur) return;
    cur.control = "off";
    o.send({ type: "cobrowse_control_revoke", conversation_id: cur.cid });
    render();
  }
  function host() {
    const root = ui.bar && ui.bar.getRootNode();
    return root && root.host;
  }
  function safeTarget(t) {
    if (!t || t.nodeType !== 1) return null;
    const h = host();
    if (h && (t === h || h.contains(t))) return null;
    if (t.isContentEditable || t.closest(NO_CLICK)) return null;
    const a = t.closest("a[href]");
    if (a && /^\s*javascript:/i.test(a.getAttribute("href"))) return null;
    return t;
  }
  let ringTimer = 0;
  let ringAt = null; // page coordinates of the agent's last click: the ring stays there if the page scrolls
  function ring(vx, vy, outcome) {
    ui.ring.dataset.outcome = outcome;
    ui.ring.dataset.n = String(+ui.ring.dataset.n + 1);
    ui.ring.hidden = true;
    void ui.ring.offsetWidth; // restart the animation
    ringAt = { x: vx + scrollX, y: vy + scrollY };
    place();
    ui.ring.hidden = false;
    clearTimeout(ringTimer);
    ringTimer = setTimeout(() => ((ui.ring.hidden = true), (ringAt = null)), 900);
  }
  // The agent's click or scroll (docs/cobrowse.md): only while control is on; a click only on a safe target,
  // as a synthetic click (it never focuses anything, and there is no way to type).
  function controlled(f) {
    if (!cur || !cur.on || cur.control !== "on" || cur.sid !== f.session_id) return;
    build();
    if (f.kind === "scroll") {
      const node = f.node && rr && rr.record.mirror ? rr.record.mirror.getNode(f.node) : null;
      const h = host();
      if (node && node.nodeType === 1 && node.scrollTo && !(h && h.contains(node))) node.scrollTo(f.x, f.y);
      else if (!f.node) window.scrollTo(f.x, f.y);
      return;
    }
    const vx = f.x - scrollX;
    const vy = f.y - scrollY;
    const inView = vx >= 0 && vy >= 0 && vx < innerWidth && vy < innerHeight;
    const target = inView ? safeTarget(document.elementFromPoint(vx, vy)) : null;
    ring(vx, vy, target ? "clicked" : "refused");
    if (!target) {
      // The agent hears why (their console shows it): otherwise a refused click looks like a lost one.
      o.send({ type: "cobrowse_control_refused", conversation_id: cur.cid, session_id: cur.sid, reason: inView ? "unsafe" : "outside" });
      return;
    }
    const init = { bubbles: true, cancelable: true, composed: true, view: window, clientX: vx, clientY: vy, button: 0, detail: 1 };
    target.dispatchEvent(new MouseEvent("click", init));
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
    o.api("POST", "/api/cobrowse/events", { conversation_id: cur.cid, events: events.slice(0, 500) })
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
      cur = { cid: s.cid, sid: s.sid, on: false, control: "off" };
      accept(); // on again for this page: the server answers cobrowse_state on, recording follows
    },
    frame(f) {
      if (f.type === "cobrowse_state") {
        if (f.state === "ended") return cur && cur.sid === f.session_id && stop(false);
        cur = { cid: f.conversation_id, sid: f.session_id, on: f.state === "on", control: f.control || "off" };
        if (cur.on) save({ cid: cur.cid, sid: cur.sid }), record();
        render();
      } else if (f.type === "cobrowse_pointer") {
        pointed(f);
      } else if (f.type === "cobrowse_control") {
        controlled(f);
      } else if (f.type === "cobrowse_snapshot_needed" && cur && cur.on && stopRec && rr) {
        rr.record.takeFullSnapshot(true);
      }
    },
    error(f) {
      if (!/^cobrowse_/.test(f.code || "")) return false;
      // cobrowse_off: the session ended while this page was away.
      if (f.code === "cobrowse_off" || f.code === "cobrowse_not_found") stop(false);
      return true;
    },
    closed() {
      stop(false);
    },
  };
}
registerPart({
  name: "cobrowse",
  frames: ["cobrowse_state", "cobrowse_snapshot_needed", "cobrowse_pointer", "cobrowse_control"],
  css: COBROWSE_CSS,
  make: makeCobrowse,
});

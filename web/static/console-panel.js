// Agent console, customer panel (right): profile, this conversation, recent CCR touches, orders.
"use strict";

(function (CC) {
  const { el, icon, ICONS, $ } = CC;
  const S = () => CC.state;
  const CHANNELS = {
    chat: ["Chat", ICONS.chat],
    voice: ["Voice", "M21 16.5v3a2 2 0 0 1-2.2 2A19 19 0 0 1 2.5 5.2 2 2 0 0 1 4.5 3h3a2 2 0 0 1 2 1.7c.1.9.4 1.8.7 2.6a2 2 0 0 1-.5 2.1L8.4 10.7a16 16 0 0 0 4.9 4.9l1.3-1.3a2 2 0 0 1 2.1-.5c.8.3 1.7.6 2.6.7a2 2 0 0 1 1.7 2z"],
    callback: ["Callback", "M15 3h6v6M21 3l-6 6M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2"],
    email: ["Email", "M3 5h18v14H3zM3 6l9 7 9-7"],
    web: ["Web", "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM3 12h18M12 3c2.5 2.7 3.8 5.7 3.8 9s-1.3 6.3-3.8 9c-2.5-2.7-3.8-5.7-3.8-9S9.5 5.7 12 3z"],
    face_to_face: ["Face to face", ICONS.user],
    system: ["System", "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM12 2v3M12 19v3M2 12h3M19 12h3"],
  };
  let current = null;
  let token = 0;
  let timer = null;

  function facts(rec) {
    const info = rec.info;
    const started = CC.parse(info.created_at);
    const rows = [
      ["Topic", info.topic || "—"],
      ["Page", info.page_url || "—"],
      ["Language", info.lang ? CC.langName(info.lang) : "—"],
      ["Started", `${CC.dayLabel(started)} ${CC.hm(started)}`],
      ["Queue", `${info.queue} · ${info.channel}`],
    ];
    // A message count only where the channel keeps a message log (an email thread, a call keep none here).
    if (info.channel === "chat" || info.last_seq > 0) rows.push(["Messages", String(Math.max(info.last_seq, rec.lastSeq))]);
    $("conv-facts").replaceChildren(...rows.map(([k, v]) => el("div", {}, el("dt", {}, k), el("dd", {}, v))));
  }

  function profile(rec, c) {
    const name = rec.info.customer_name;
    $("cp-avatar").textContent = (name || "?").trim().charAt(0).toUpperCase() || "?";
    $("cp-name").textContent = name;
    const seg = $("cp-segment");
    seg.hidden = !(c && c.segment);
    if (c && c.segment) {
      seg.textContent = c.segment;
      seg.dataset.segment = c.segment.toLowerCase();
    }
    const sub = [`Customer #${rec.info.customer_id}`];
    if (c && c.display_name && c.display_name !== name && c.display_name !== "Website visitor") {
      sub.push(`on file as ${c.display_name}`);
    }
    $("cp-sub").textContent = sub.join(" · ");
    $("cp-link").href = `/staff/customers/${rec.info.customer_id}`;
    const ids = ((c && c.identities) || []).filter((i) => i.kind !== "visitor");
    const visits = ((c && c.identities) || []).length - ids.length;
    const items = ids.map((i) => el("li", { class: "ident", "data-kind": i.kind },
      el("span", { class: "ident-kind" }, i.kind), el("span", { class: "ident-value" }, i.value)));
    // Typed by the visitor in the chat form: shown, but not as an identity (nobody confirmed it is theirs).
    if (c && c.contact_email) items.push(el("li", { class: "ident", "data-kind": "contact_email", title: "Typed by the visitor; not confirmed" },
      el("span", { class: "ident-kind" }, "email (unverified)"), el("span", { class: "ident-value" }, c.contact_email)));
    if (!items.length) items.push(el("li", { class: "muted" }, c ? "No email or phone on record" : "Loading…"));
    if (visits) items.push(el("li", { class: "ident muted" }, el("span", { class: "ident-kind" }, "web"), `${visits} website visitor id${visits > 1 ? "s" : ""}`));
    $("cp-idents").replaceChildren(...items);
  }

  function touch(t) {
    const [label, path] = CHANNELS[t.channel] || [t.channel, CHANNELS.system[1]];
    return el("li", { class: "mini-touch", "data-channel": t.channel, "data-touch-id": t.id },
      el("span", { class: "mini-icon", title: label }, icon(path)),
      el("span", { class: "mini-summary" }, t.summary || "(no summary)"),
      el("span", { class: "mini-meta" }, el("span", { class: "channel-badge" }, label), " ", CC.shortTime(t.occurred_at)));
  }

  function order(o) {
    const amount = Number(o.amount);
    const shown = Number.isFinite(amount)
      ? amount.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : String(o.amount);
    return el("li", { class: "order", "data-order-id": o.id },
      el("span", { class: "order-name" }, o.product_name),
      el("span", { class: "order-amount" }, shown),
      el("span", { class: "order-meta" }, `${o.external_ref || o.sku} · ${CC.yearFmt.format(CC.parse(o.placed_at))}`),
      el("span", { class: "status-pill", "data-status": o.status }, o.status));
  }

  function failed(id, what, err) {
    $(id).replaceChildren(el("li", { class: "panel-error" }, `Could not load ${what}: ${err.message}`));
  }

  async function loadTimeline(cid, t) {
    try {
      const page = await CC.api(`/api/customers/${cid}/timeline?limit=20`);
      if (t !== token) return;
      $("cp-timeline").replaceChildren(...(page.items.length ? page.items.map(touch)
        : [el("li", { class: "muted" }, "No contacts recorded yet.")]));
      $("cp-timeline").setAttribute("aria-busy", "false");
    } catch (err) {
      if (t === token) failed("cp-timeline", "the timeline", err);
    }
  }

  async function show(rec) {
    $("panel-empty").hidden = true;
    $("panel-body").hidden = false;
    facts(rec);
    const cid = rec.info.customer_id;
    if (cid === current) {
      profile(rec, current && $("customer-panel").customer);
      return loadTimeline(cid, token);
    }
    current = cid;
    const t = ++token;
    $("customer-panel").customer = null;
    profile(rec, null);
    $("cp-timeline").setAttribute("aria-busy", "true");
    $("cp-timeline").replaceChildren(el("li", { class: "muted" }, "Loading…"));
    $("cp-orders").replaceChildren(el("li", { class: "muted" }, "Loading…"));
    const timeline = loadTimeline(cid, t);
    try {
      const c = await CC.api(`/api/customers/${cid}`);
      if (t !== token) return;
      $("customer-panel").customer = c;
      profile(rec, c);
    } catch (err) {
      if (t === token) $("cp-sub").textContent = `Could not load the profile: ${err.message}`;
    }
    try {
      const orders = await CC.api(`/api/customers/${cid}/orders`);
      if (t !== token) return;
      $("cp-orders-count").textContent = orders.length ? String(orders.length) : "";
      $("cp-orders").replaceChildren(...(orders.length ? orders.map(order) : [el("li", { class: "muted" }, "No orders on record.")]));
    } catch (err) {
      if (t === token) failed("cp-orders", "orders", err);
    }
    await timeline;
  }

  // New touches are logged with every message: refresh the timeline shortly after activity.
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const rec = S().selected && S().convs.get(S().selected);
      if (rec && rec.info.customer_id === current) loadTimeline(current, token);
    }, 1500);
  }

  CC.on("selected", show);
  CC.on("message", (rec) => rec.id === S().selected && (facts(rec), soon()));
  CC.on("thread", (rec) => rec.id === S().selected && (facts(rec), soon()));
  CC.on("closed-by-me", soon);
  // Other channels log touches too (a call ending, a document opened, a co-browse session, pages viewed:
  // the `suggestions` hint follows a page view): their frames for the chat on screen refresh it the same way.
  const TOUCHING = new Set(["voice_state", "document_receipt", "cobrowse_state", "suggestions"]);
  CC.on("frame", (f) => TOUCHING.has(f.type) && f.conversation_id === S().selected && soon());
  $("timeline-refresh").addEventListener("click", () => current && loadTimeline(current, token));
  // Narrow screens: the panel is a drawer over the conversation.
  function drawer(on) {
    CC.root.classList.toggle("panel-open", on);
    $("panel-toggle").setAttribute("aria-expanded", String(on));
    (on ? $("panel-close") : $("panel-toggle")).focus();
  }
  $("panel-toggle").addEventListener("click", () => drawer(!CC.root.classList.contains("panel-open")));
  $("panel-close").addEventListener("click", () => drawer(false));
  $("customer-panel").addEventListener("keydown", (ev) => ev.key === "Escape" && drawer(false));
})(window.CC);

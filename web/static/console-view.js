// Agent console, views: the conversation list (left) and the selected conversation (centre).
// Messages are rendered incrementally, keyed by seq (and client_id while they are being sent).
"use strict";

(function (CC) {
  const { el, icon, ICONS, $, me } = CC;
  const S = () => CC.state;
  const lists = { active: $("active-list"), closed: $("closed-list") };
  const log = $("msg-log");
  const sortSel = $("active-sort");
  sortSel.value = localStorage.getItem("cc.sort") === "due" ? "due" : "oldest";
  sortSel.addEventListener("change", () => {
    localStorage.setItem("cc.sort", sortSel.value);
    CC.emit("conversations");
  });
  const T = { id: null, nodes: new Map(), pend: new Map(), lastDay: null };

  const initial = (name) => (name || "?").trim().charAt(0).toUpperCase() || "?";
  const isOpen = (rec) => CC.isOpen(rec);

  function ordered() {
    const recs = [...S().convs.values()];
    const byAge = (a, b) => a.info.created_at.localeCompare(b.info.created_at);
    // "Email due first": first answers soonest due (console-email.js keeps rec.dueAt), then the rest by age.
    const due = (r) => (r.dueAt ? CC.parse(r.dueAt).getTime() : Infinity);
    const byDue = (a, b) => due(a) - due(b) || byAge(a, b);
    const active = recs.filter(isOpen).sort(sortSel.value === "due" ? byDue : byAge);
    const closed = recs
      .filter((r) => !isOpen(r))
      .sort((a, b) => (b.info.closed_at || b.info.created_at).localeCompare(a.info.closed_at || a.info.created_at))
      .slice(0, 30);
    return { active, closed };
  }
  CC.order = () => {
    const { active, closed } = ordered();
    return [...active, ...closed].map((r) => r.id);
  };

  function lastOf(rec) {
    const pend = [...rec.pending.values()];
    return pend.length ? { ...pend[pend.length - 1], sender: "agent" } : rec.list[rec.list.length - 1];
  }

  function previewText(rec, m) {
    if (rec.typing && isOpen(rec)) return "typing…";
    if (!m && rec.info.channel !== "chat") { // its own view shows what it holds: name it instead of "no messages"
      const label = { email: "Email", voice: "Call", callback: "Callback" }[rec.info.channel] || rec.info.channel;
      return rec.info.topic ? `${label}: ${rec.info.topic}` : label;
    }
    if (!m) return "No messages yet";
    const text = m.body || (m.attachments && m.attachments.length ? `Attachment: ${m.attachments[0].name}` : "");
    if (m.private) return `Note: ${text}`;
    if (m.sender !== "agent") return text;
    return `${!m.sender_name || m.sender_name === me.name ? "You" : m.sender_name}: ${text}`; // a supervisor who joined
  }

  // Waiting: the customer spoke last (notes and system lines do not count as an answer).
  function waitingSince(rec) {
    if (!isOpen(rec) || rec.pending.size) return null;
    for (let i = rec.list.length - 1; i >= 0; i--) {
      const m = rec.list[i];
      if (m.private || m.sender === "system") continue;
      return m.sender === "customer" ? m.at : null;
    }
    return null;
  }

  function item(rec) {
    const info = rec.info;
    const last = lastOf(rec);
    const unread = CC.unread(rec);
    const waiting = waitingSince(rec);
    const waitS = waiting ? (Date.now() - CC.parse(waiting).getTime()) / 1000 : 0;
    const status = rec.transferred ? (info.status === "queued" ? "Back in queue" : "Transferred")
      : info.status === "closed" ? "Closed" : null;
    const when = status && info.closed_at ? info.closed_at : last ? last.at : info.created_at;
    const showWait = waiting && waitS >= 60;
    const btn = el(
      "button",
      { type: "button", class: "conv-item", "data-conv-id": rec.id, "aria-current": rec.id === S().selected ? "true" : null },
      el("span", { class: "avatar-sm", "aria-hidden": "true" }, initial(info.customer_name)),
      el("span", { class: "conv-main" },
        el("span", { class: "conv-top" },
          el("span", { class: "conv-name" }, info.customer_name),
          CC.shortTime(when)),
        el("span", { class: "conv-topic" }, status ? `${status} · ${info.topic || "No topic"}` : info.topic || "No topic"),
        (!status || last) && el("span", { class: "conv-bottom" },
          el("span", { class: rec.typing && isOpen(rec) ? "conv-preview is-typing" : "conv-preview" }, previewText(rec, last)),
          showWait && el("span", { class: `wait${waitS > 180 ? " wait-late" : waitS > 120 ? " wait-slow" : ""}`,
            title: "Waiting for your reply" }, CC.since(waiting)),
          rec.emailDue && isOpen(rec) && el("span", { class: `due due-${rec.emailDue}`, "data-due": rec.emailDue },
            rec.emailDue === "overdue" ? "Overdue" : "Due soon"),
          unread > 0 && el("span", { class: "unread", "aria-label": `${unread} unread` }, String(unread)))),
    );
    btn.addEventListener("click", () => CC.select(rec.id));
    return el("li", { class: rec.fresh ? "fresh" : null }, btn);
  }

  function renderList() {
    const { active, closed } = ordered();
    const focused = document.activeElement && document.activeElement.dataset.convId;
    lists.active.replaceChildren(...active.map(item));
    lists.closed.replaceChildren(...closed.map(item));
    $("active-count").textContent = String(active.length);
    $("closed-count").textContent = String(closed.length);
    $("active-empty").hidden = active.length > 0;
    $("closed-section").hidden = closed.length === 0;
    if (focused) {
      const again = document.querySelector(`[data-conv-id="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
    const total = active.reduce((n, r) => n + CC.unread(r), 0);
    document.title = `${total ? `(${total}) ` : ""}Console · Contact Center`;
  }

  // ---- messages ----
  function linkify(text) {
    const out = [];
    let at = 0;
    for (const m of text.matchAll(/https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g)) {
      out.push(text.slice(at, m.index), el("a", { href: m[0], target: "_blank", rel: "noopener noreferrer" }, m[0]));
      at = m.index + m[0].length;
    }
    out.push(text.slice(at));
    return out.filter((x) => x !== "");
  }

  function attachments(list) {
    if (!list || !list.length) return null;
    const images = (a) => ((a.type || "").startsWith("image/") ? 0 : 1);
    return el("div", { class: "atts" }, [...list].sort((x, y) => images(x) - images(y)).map((a) => {
      const url = `/api/chat/attachments/${encodeURIComponent(a.id)}`;
      if ((a.type || "").startsWith("image/")) {
        const img = el("img", { src: url, alt: a.name, class: "att-thumb", loading: "lazy" });
        img.addEventListener("load", () => T.stick && scrollDown());
        return el("a", { href: url, target: "_blank", rel: "noopener", class: "att-image", title: a.name }, img);
      }
      return el("a", { href: url, class: "att-file", download: a.name },
        icon(ICONS.file), el("span", { class: "att-name" }, a.name), el("span", { class: "att-size" }, CC.size(a.size)));
    }));
  }

  function whoLabel(rec, m) {
    if (m.sender === "customer") return rec.info.customer_name;
    return m.sender_name === me.name ? "You" : m.sender_name;
  }

  function bubble(rec, m, kind, metaBits) {
    const tag = kind === "note" && el("span", { class: "note-tag" }, icon(ICONS.note), "Note · only agents see this");
    return el("li", { class: `msg msg-${kind}`, "data-seq": m.seq || null, "data-sender": m.sender },
      el("div", { class: "bubble" }, tag, m.body && el("div", { class: "msg-body" }, linkify(m.body)), attachments(m.attachments)),
      el("div", { class: "msg-meta" }, metaBits));
  }

  function msgNode(rec, m) {
    if (m.sender === "system") {
      return el("li", { class: "msg msg-system", "data-seq": m.seq, "data-sender": "system" },
        el("span", {}, m.body), " · ", CC.shortTime(m.at));
    }
    const kind = m.private ? "note" : m.sender;
    const receipt = kind === "agent" ? el("span", { class: "receipt" }) : null;
    const node = bubble(rec, m, kind, [el("span", { class: "who" }, whoLabel(rec, m)), timeOf(m.at), receipt]);
    node.receipt = receipt;
    return node;
  }

  function timeOf(iso) {
    const d = CC.parse(iso);
    return el("time", { datetime: iso, title: CC.longFmt.format(d) }, CC.hm(d));
  }

  function pendingNode(rec, p) {
    const state = el("span", { class: "receipt" });
    const node = bubble(rec, { ...p, sender: "agent" }, p.private ? "note" : "agent", [el("span", { class: "who" }, "You"), state]);
    node.classList.add("msg-pending");
    node.dataset.clientId = p.client_id;
    node.state = state;
    return node;
  }

  function pendingState(rec, p, node) {
    node.classList.toggle("msg-failed", p.state === "failed");
    if (p.state === "failed") {
      node.state.replaceChildren(`Not sent: ${p.error || "error"} · `,
        el("button", { type: "button", class: "linkish", onclick: () => CC.retrySend(rec, p) }, "Retry"), " · ",
        el("button", { type: "button", class: "linkish", onclick: () => CC.discard(rec, p) }, "Discard"));
    } else {
      node.state.textContent = p.state === "sent" ? "Sent" : CC.online() ? "Sending…" : "Waiting for connection…";
    }
  }

  function daySep(iso) {
    const label = CC.dayLabel(CC.parse(iso));
    if (label === T.lastDay) return null;
    T.lastDay = label;
    return el("li", { class: "day-sep", role: "separator" }, label);
  }

  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  const scrollDown = () => (log.scrollTop = log.scrollHeight);

  function renderThread(rec, { reset } = {}) {
    if (!rec || rec.id !== S().selected) return;
    if (reset || T.id !== rec.id) {
      Object.assign(T, { id: rec.id, nodes: new Map(), pend: new Map(), lastDay: null, stick: true, max: 0 });
      log.replaceChildren();
    } else {
      T.stick = nearBottom();
    }
    rec.list.forEach((m, i) => {
      if (T.nodes.has(m.seq)) return;
      const node = msgNode(rec, m);
      const prev = rec.list[i - 1];
      if (prev && prev.sender === m.sender && prev.private === m.private && m.sender !== "system" &&
          CC.parse(m.at) - CC.parse(prev.at) < 300000) node.classList.add("grouped");
      if (m.seq < T.max) {
        // History arriving late (rare): keep seq order.
        log.insertBefore(node, [...T.nodes.entries()].find(([seq]) => seq > m.seq)[1]);
      } else {
        const sep = daySep(m.at);
        const before = log.querySelector(".msg-pending");
        if (sep) log.insertBefore(sep, before);
        log.insertBefore(node, before);
      }
      T.nodes.set(m.seq, node);
      T.max = Math.max(T.max, m.seq);
    });
    for (const [cid, node] of T.pend) if (!rec.pending.has(cid)) node.remove() || T.pend.delete(cid);
    for (const p of rec.pending.values()) {
      let node = T.pend.get(p.client_id);
      if (!node) {
        node = pendingNode(rec, p);
        T.pend.set(p.client_id, node);
        log.append(node);
        T.stick = true;
      }
      pendingState(rec, p, node);
    }
    const seen = rec.info.customer_read_seq || 0;
    for (const [seq, node] of T.nodes) {
      if (!node.receipt) continue;
      node.receipt.textContent = seq <= seen ? "Seen" : "Sent";
      node.receipt.classList.toggle("seen", seq <= seen);
    }
    renderHead(rec);
    renderTyping(rec);
    if (T.stick) scrollDown();
  }

  function renderHead(rec) {
    const info = rec.info;
    $("thread-empty").hidden = true;
    $("thread-main").hidden = false;
    $("thread-name").textContent = info.customer_name;
    const status = $("thread-status");
    status.textContent = rec.transferred ? (info.status === "queued" ? "Back in queue" : "Transferred")
      : info.status === "closed" ? "Closed" : "Active";
    status.dataset.status = rec.transferred ? "transferred" : info.status;
    const bits = [info.topic || "No topic", `started ${CC.dayLabel(CC.parse(info.created_at))} ${CC.hm(CC.parse(info.created_at))}`];
    if (info.page_url) bits.push(`on ${info.page_url}`);
    $("thread-sub").textContent = bits.join(" · ");
    const lang = $("thread-lang");
    lang.hidden = !info.lang;
    lang.textContent = info.lang ? CC.langName(info.lang) : "";
    lang.title = info.lang ? "The customer's language, from the page they chat on" : "";
    const open = isOpen(rec);
    $("composer").hidden = !open;
    $("closed-note").hidden = open;
    $("closed-note").textContent = rec.transferred
      ? `This conversation ${info.status === "queued" ? "went back to the queue" : "was transferred to another agent"}.`
      : `This conversation is closed${info.closed_at ? ` (${CC.hm(CC.parse(info.closed_at))})` : ""}. Its record stays on the customer's timeline.`;
    $("close-conv").hidden = !open;
  }

  function renderTyping(rec) {
    const box = $("typing");
    const on = rec.typing && isOpen(rec);
    box.replaceChildren(...(on ? [el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")),
      `${rec.info.customer_name} is typing…`] : []));
  }

  function move(delta) {
    const ids = CC.order();
    if (!ids.length) return;
    const at = ids.indexOf(S().selected);
    const next = ids[at < 0 ? (delta > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + delta))];
    CC.select(next);
    return next;
  }

  document.addEventListener("keydown", (ev) => {
    if (!ev.altKey || (ev.key !== "ArrowUp" && ev.key !== "ArrowDown")) return;
    ev.preventDefault();
    const inComposer = document.activeElement === $("composer-input");
    const id = move(ev.key === "ArrowUp" ? -1 : 1);
    if (inComposer && !$("composer").hidden) $("composer-input").focus();
    else if (id) document.querySelector(`[data-conv-id="${CSS.escape(id)}"]`)?.focus();
  });

  let fresh = null;
  CC.on("assigned", (rec) => {
    clearTimeout(fresh);
    fresh = setTimeout(() => {
      for (const r of S().convs.values()) r.fresh = false;
      renderList();
    }, 6000);
  });
  CC.on("conversations", renderList);
  CC.on("thread", (rec) => renderThread(rec));
  CC.on("message", (rec) => rec.id === S().selected && renderThread(rec));
  CC.on("typing", (rec) => {
    renderList();
    if (rec.id === S().selected) renderTyping(rec);
  });
  CC.on("selected", (rec) => renderThread(rec, { reset: true }));
  CC.on("connection", () => {
    const rec = S().selected && S().convs.get(S().selected);
    if (rec) renderThread(rec);
  });
  setInterval(renderList, 15000); // waiting times
  CC.renderThread = renderThread;
})(window.CC);

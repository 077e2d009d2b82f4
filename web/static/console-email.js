// Agent console, email: a conversation of channel "email" shows its thread instead of the chat log: each
// received mail (the new part as text, the quoted part folded, the sanitised HTML in a sandboxed frame on
// request, attachments, the full original as a download, why it joined this conversation, a split button)
// and what we wrote (replies with their sending state, the acknowledgement, notes), the first-response
// clock, and a reply box (reply or note, canned replies). GET /api/email/conversations/{id}/thread.
"use strict";

(function (CC) {
  const { el, $ } = CC;
  const REASONS = {
    new: "Started this conversation",
    "in-reply-to": "Joined: it answers a message of this conversation (In-Reply-To)",
    references: "Joined: it refers to this conversation's messages (References)",
    subject: "Joined by its subject: no threading headers, same sender and subject, recent",
    reopened: "Reopened this conversation: an answer after it was closed",
    split: "Split off from another conversation by an agent",
  };
  const STATES = { queued: "Sending…", sent: "Sent", failed: "Not sent", note: "Note" };
  const view = el("section", { class: "em-view", id: "em-view", "aria-label": "Email thread", hidden: true });
  const head = el("div", { class: "em-head" });
  const list = el("ol", { class: "em-list", id: "em-list", "aria-label": "Messages" });
  const box = el("textarea", { id: "em-text", rows: "4", maxlength: "50000", "aria-label": "Your reply" });
  const canned = el("select", { id: "em-canned", "aria-label": "Insert a canned reply" }, el("option", { value: "" }, "Canned reply…"));
  const modeReply = el("button", { type: "button", "aria-pressed": "true", id: "em-mode-reply" }, "Reply");
  const modeNote = el("button", { type: "button", "aria-pressed": "false", id: "em-mode-note", title: "Only agents see a note" }, "Note");
  const sendBtn = el("button", { type: "submit", class: "btn btn-primary", id: "em-send" }, "Send reply");
  const status = el("span", { class: "em-status", id: "em-form-status", role: "status" });
  const to = el("span", { class: "muted small", id: "em-to" });
  const fileInput = el("input", { type: "file", id: "em-file", class: "sr-only", multiple: true,
    accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf" });
  const attach = el("label", { class: "tool", id: "em-attach", title: "Attach an image or a PDF" }, CC.icon(CC.ICONS.clip), "Attach", fileInput);
  const staged = el("ul", { class: "em-staged", id: "em-staged", "aria-label": "Attached to the reply" });
  const form = el("form", { class: "em-form", id: "em-form", autocomplete: "off" },
    el("div", { class: "em-tools" }, el("div", { class: "seg", role: "group", "aria-label": "Message type" }, modeReply, modeNote), canned, attach, to),
    box, staged, el("div", { class: "em-actions" }, sendBtn, status));
  view.append(head, list, form);
  $("msg-log").before(view);
  let shown = null;
  let note = false;
  let replies = [];
  let files = []; // AttachmentRef of files uploaded for the reply being written

  function renderStaged() {
    staged.replaceChildren(...files.map((f) => el("li", {}, `${f.name} · ${CC.size(f.size)}`,
      el("button", { type: "button", class: "linkish small", "aria-label": `Remove ${f.name}`,
        onclick: () => { files = files.filter((x) => x !== f); renderStaged(); } }, "Remove"))));
    staged.hidden = !files.length || note;
  }

  fileInput.addEventListener("change", async () => {
    for (const file of fileInput.files) {
      const form = new FormData();
      form.append("conversation_id", shown.id);
      form.append("file", file);
      try {
        files.push(await CC.api("/api/chat/attachments", { method: "POST", form }));
      } catch (err) {
        status.textContent = `${file.name} was not attached: ${err.message}`;
      }
    }
    fileInput.value = "";
    renderStaged();
  });

  const when = (iso) => `${CC.dayLabel(CC.parse(iso))} ${CC.hm(CC.parse(iso))}`;

  function hours(s) {
    const h = Math.abs(s) / 3600;
    return h >= 1 ? `${Math.round(h)} h` : `${Math.max(1, Math.round(Math.abs(s) / 60))} min`;
  }

  function clock(c) {
    if (!c) return null;
    let text = c.stopped_at ? `Answered ${when(c.stopped_at)}` : c.overdue ? `First answer overdue by ${hours(c.seconds_left)}`
      : `First answer due ${when(c.due_at)} (in ${hours(c.seconds_left)})`;
    if (c.paused && !c.overdue) text += " · paused outside business hours";
    const state = c.stopped_at ? "answered" : c.overdue ? "overdue" : c.warning ? "warning" : c.paused ? "paused" : "running";
    return el("span", { class: "em-clock", "data-state": state, id: "em-clock",
      title: `Due ${when(c.due_at)}; it started when the customer's message arrived (${when(c.started_at)})` }, text);
  }

  function frame(html) {
    // Sanitised by the server (nh3) and still shown sandboxed: no scripts, no same origin, no remote images (CSP).
    return el("iframe", { class: "em-html", sandbox: "", srcdoc: html, title: "The message as formatted by its sender" });
  }

  function received(m, count) {
    const quoted = m.text.length > m.display_text.length ? m.text.slice(m.display_text.length).trim() : "";
    const body = m.display_text || m.text;
    const parts = [
      el("header", { class: "em-meta" },
        el("strong", {}, m.from_name || m.from_addr || "Unknown sender"), m.from_name ? el("span", { class: "muted" }, ` <${m.from_addr}>`) : null,
        el("time", { class: "muted small", datetime: m.received_at }, when(m.received_at))),
      el("div", { class: "em-subject" }, m.subject || "(no subject)"),
      el("p", { class: "em-reason small", "data-reason": m.reason }, REASONS[m.reason] || m.reason),
      m.unreadable ? el("p", { class: "em-flag" }, "This message could not be read: download the original.") : null,
      body ? el("div", { class: "em-body" }, body) : !m.html ? el("div", { class: "em-body muted" }, "(no text)") : null,
      !body && m.html ? frame(m.html) : null,
      quoted ? el("details", { class: "em-quoted" }, el("summary", {}, "Quoted text"), el("div", { class: "em-body" }, quoted)) : null,
      body && m.html ? el("details", { class: "em-quoted em-formatted" }, el("summary", {}, "Formatted version"), frame(m.html)) : null,
      m.attachments.length ? el("ul", { class: "em-attachments", "aria-label": "Attachments" },
        ...m.attachments.map((a) => el("li", {}, CC.icon(CC.ICONS.clip), `${a.name} · ${a.type} · ${CC.size(a.size)}`))) : null,
      el("div", { class: "em-links" },
        el("a", { href: `/api/email/messages/${m.id}/raw`, class: "small", download: `message-${m.id}.eml` }, "Full original"),
        count > 1 && m.reason !== "new" ? el("button", { type: "button", class: "linkish small em-split", onclick: () => split(m) },
          "Split into a new conversation") : null),
    ];
    return el("li", { class: "em-item em-in", "data-email-id": m.id }, ...parts);
  }

  function written(o) {
    const label = o.kind === "ack" ? "Automatic acknowledgement" : o.kind === "survey" ? "Automatic rating request"
      : o.kind === "note" ? `Note by ${o.agent_name}` : `${o.agent_name} replied`;
    const state = o.status === "queued" && o.attempts > 0 ? `Retrying (${o.attempts} attempts so far)` : STATES[o.status];
    const parts = [
      el("header", { class: "em-meta" }, el("strong", {}, label),
        o.kind !== "note" ? el("span", { class: "muted" }, ` to ${o.to_addr}`) : null,
        el("time", { class: "muted small", datetime: o.created_at }, when(o.created_at)),
        el("span", { class: "em-state", "data-status": o.status }, state)),
      o.kind !== "note" ? el("div", { class: "em-subject" }, o.subject) : null,
      o.kind === "ack" || o.kind === "survey" ? el("details", { class: "em-quoted" }, el("summary", {}, "What it said"), el("div", { class: "em-body" }, o.text))
        : el("div", { class: "em-body" }, o.text),
      o.attachments && o.attachments.length ? el("ul", { class: "em-attachments", "aria-label": "Attachments" },
        ...o.attachments.map((a) => el("li", {}, CC.icon(CC.ICONS.clip), `${a.name} · ${a.type} · ${CC.size(a.size)}`))) : null,
      o.last_error && o.status !== "sent" ? el("p", { class: "em-flag small" }, `The relay said: ${o.last_error}`) : null,
      o.status === "failed" ? el("button", { type: "button", class: "btn btn-small", onclick: () => resend(o) }, "Send again") : null,
    ];
    return el("li", { class: `em-item em-out em-${o.kind}`, "data-out-id": o.id }, ...parts);
  }

  function render(t) {
    head.replaceChildren(el("span", { class: "em-ref" }, "Reference ", el("strong", { id: "em-ref" }, t.reference)), clock(t.clock));
    const items = [
      ...t.messages.map((m) => [m.received_at, received(m, t.messages.length)]),
      ...t.outgoing.map((o) => [o.created_at, written(o)]),
    ].sort((a, b) => CC.parse(a[0]) - CC.parse(b[0]));
    list.replaceChildren(...items.map(([, node]) => node));
    const last = t.messages[t.messages.length - 1];
    to.textContent = last && !note ? `To ${last.from_addr}` : note ? "Only agents see notes" : "";
  }

  async function load() {
    const rec = shown;
    if (!rec) return;
    try {
      const t = await CC.api(`/api/email/conversations/${rec.id}/thread`);
      const c = t.clock;
      const due = c && !c.stopped_at && (c.overdue ? "overdue" : c.warning ? "warning" : null);
      if ((rec.emailDue || null) !== (due || null)) { // answered since the alert: the list mark goes
        rec.emailDue = due || null;
        CC.emit("conversations");
      }
      if (shown === rec) render(t);
    } catch (err) {
      if (shown === rec) list.replaceChildren(el("li", { class: "em-flag" }, `Could not load the thread: ${err.message}`));
    }
  }

  async function split(m) {
    try {
      const conv = await CC.api(`/api/email/messages/${m.id}/split`, { method: "POST" });
      status.textContent = `Split off into a new conversation (${conv.id.slice(0, 8)}), queued for an agent.`;
      await load();
    } catch (err) {
      status.textContent = `Could not split it: ${err.message}`;
    }
  }

  async function resend(o) {
    try {
      await CC.api(`/api/email/outgoing/${o.id}/resend`, { method: "POST" });
      await load();
    } catch (err) {
      status.textContent = `Could not send it again: ${err.message}`;
    }
  }

  function setMode(isNote) {
    note = isNote;
    modeReply.setAttribute("aria-pressed", String(!note));
    modeNote.setAttribute("aria-pressed", String(note));
    sendBtn.textContent = note ? "Add note" : "Send reply";
    attach.hidden = note;
    renderStaged();
    form.classList.toggle("em-noting", note);
    load();
  }
  modeReply.addEventListener("click", () => setMode(false));
  modeNote.addEventListener("click", () => setMode(true));
  canned.addEventListener("change", () => {
    const r = replies.find((x) => x.shortcut === canned.value);
    if (r) box.value = box.value ? `${box.value}\n${r.body}` : r.body;
    canned.value = "";
    box.focus();
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = box.value.trim();
    if (!shown || !text) return;
    sendBtn.disabled = true;
    try {
      const json = note ? { text } : { text, attachments: files.map((f) => f.id) };
      await CC.api(`/api/email/conversations/${shown.id}/${note ? "notes" : "replies"}`, { method: "POST", json });
      box.value = "";
      if (!note) files = [];
      renderStaged();
      status.textContent = note ? "Note added." : "Reply queued: it is sent as soon as the mail relay takes it.";
      await load();
    } catch (err) {
      status.textContent = `Not sent: ${err.message}`;
    } finally {
      sendBtn.disabled = false;
    }
  });

  async function loadCanned() {
    try {
      replies = await CC.api("/api/chat/canned");
    } catch (_) {
      replies = [];
    }
    canned.replaceChildren(el("option", { value: "" }, "Canned reply…"),
      ...replies.map((r) => el("option", { value: r.shortcut }, `/${r.shortcut} · ${r.title}`)));
  }

  function show(rec) {
    const email = rec && rec.info.channel === "email";
    $("msg-log").hidden = email;
    $("typing").hidden = email;
    view.hidden = !email;
    if (!email) {
      shown = null;
      return;
    }
    $("composer").hidden = true; // the email reply box stands in for the chat composer
    form.hidden = !CC.isOpen(rec);
    if (shown !== rec) {
      shown = rec;
      status.textContent = "";
      files = [];
      renderStaged();
      list.replaceChildren();
      if (!replies.length) loadCanned();
      load();
    }
  }

  // Each open email conversation's first-answer due time, for the list's "Email due first" order and its
  // marks: read at start, every minute, and on each email_due frame.
  async function loadDue() {
    let clocks;
    try {
      clocks = await CC.api("/api/email/first-response");
    } catch (_) {
      return; // the list keeps what it knew
    }
    const due = new Map(clocks.map((c) => [c.conversation_id, c]));
    for (const rec of CC.state.convs.values()) {
      const c = due.get(rec.id);
      rec.dueAt = c ? c.due_at : null;
      if (c) rec.emailDue = c.overdue ? "overdue" : c.warning ? "warning" : null;
    }
    CC.emit("conversations");
  }
  CC.on("welcome", loadDue);
  CC.on("assigned", (rec) => rec.info.channel === "email" && loadDue());
  setInterval(() => !document.hidden && loadDue(), 60000);

  // The agent's "Pop-up" choice (console-routing.js keeps it): seen even with no conversation open.
  function popup(text, id) {
    if (localStorage.getItem("cc.alert.notify") === "off" || !("Notification" in window)) return;
    if (Notification.permission !== "granted") return;
    try {
      const n = new Notification("Email first answer", { body: text, tag: `due-${id}` });
      n.onclick = () => { window.focus(); CC.select(id); n.close(); };
    } catch (_) {
      /* some browsers only allow notifications from a service worker */
    }
  }

  // The server says a first answer is due soon or overdue (alerts.py): told once, marked in the list.
  CC.on("frame", (f) => {
    if (f.type !== "email_due") return;
    const rec = CC.state.convs.get(f.conversation_id);
    if (!rec || (rec.info.agent_id !== CC.me.id && !CC.me.manages)) return;
    rec.emailDue = f.state;
    rec.dueAt = f.due_at;
    const who = `${f.customer_name}${f.topic ? ` · ${f.topic}` : ""}`;
    const text = f.state === "overdue" ? `First answer overdue: ${who}` : `First answer due ${when(f.due_at)}: ${who}`;
    CC.emit("notice", text); // in the thread pane, when one is open
    CC.announce(text);
    popup(text, rec.id);
    CC.emit("conversations");
    if (rec === shown) load();
  });

  CC.on("selected", show);
  CC.on("thread", (rec) => rec === shown && show(rec));
  CC.on("canned", (r) => { replies = r; });
  setInterval(() => shown && !document.hidden && load(), 4000); // sending states and new mail
})(window.CC);

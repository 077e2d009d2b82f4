// Agent console, core: conversation state and the websocket (docs/protocol.md). Delivery rules:
// a client_id per message, "sending…" until `sent`, resend with the same client_id after a reconnect,
// de-duplicate by seq, throttled acks, paced sends; heartbeats, reconnect with backoff + jitter and resume
// come from rt-socket.js.
"use strict";

(function (CC) {
  const { me, emit } = CC;
  const S = (CC.state = { convs: new Map(), selected: null, conn: "connecting", ready: false });
  let ackTimer = null;
  let counter = 0;

  // ---- conversation records ----
  function record(info) {
    let rec = S.convs.get(info.id);
    if (!rec) {
      rec = { id: info.id, info, messages: new Map(), list: [], lastSeq: 0, pending: new Map(), ackSent: 0,
        acked: 0, typing: false, typingTimer: null, fresh: false, loaded: false, draft: "", note: false };
      S.convs.set(info.id, rec);
    }
    return rec;
  }

  const mine = (info) => info.agent_id === me.id;
  const isOpen = (rec) => rec.info.status !== "closed" && !rec.transferred;
  CC.isOpen = isOpen;

  CC.unread = function (rec) {
    if (!isOpen(rec)) return 0;
    const read = Math.max(rec.info.agent_read_seq || 0, rec.acked);
    return rec.list.reduce((n, m) => n + (m.sender === "customer" && m.seq > read ? 1 : 0), 0);
  };

  function upsert(info, { quiet } = {}) {
    const known = S.convs.get(info.id);
    if (!known && !mine(info)) return null; // supervisors watch every chat; this pane shows their own
    const rec = record(info);
    const wasOpen = known && isOpen(known);
    const prev = rec.info;
    rec.info = { ...prev, ...info,
      customer_read_seq: Math.max(prev.customer_read_seq || 0, info.customer_read_seq || 0),
      agent_read_seq: Math.max(prev.agent_read_seq || 0, info.agent_read_seq || 0) };
    rec.transferred = info.status !== "closed" && !mine(info); // to another agent, or back to the queue
    if (!known && S.ready && !quiet && isOpen(rec)) {
      rec.fresh = true;
      CC.announce(`New chat from ${info.customer_name}${info.topic ? ", " + info.topic : ""}`);
      emit("assigned", rec);
    } else if (wasOpen && !isOpen(rec)) {
      rec.typing = false;
      CC.announce(`Chat with ${info.customer_name} ${rec.transferred ? "was transferred" : "closed"}`);
    }
    emit("conversations");
    if (rec.id === S.selected) emit("thread", rec);
    return rec;
  }

  function addMessage(rec, m) {
    if (rec.messages.has(m.seq)) return false; // exactly once, whatever the socket replays
    rec.messages.set(m.seq, m);
    const last = rec.list[rec.list.length - 1];
    if (!last || last.seq < m.seq) rec.list.push(m);
    else rec.list = [...rec.messages.values()].sort((a, b) => a.seq - b.seq);
    rec.lastSeq = Math.max(rec.lastSeq, m.seq);
    if (m.sender === "agent" && rec.pending.has(m.client_id)) rec.pending.delete(m.client_id);
    if (m.sender === "customer") setTyping(rec, false);
    return true;
  }

  function setTyping(rec, on) {
    clearTimeout(rec.typingTimer);
    rec.typing = on;
    if (on) {
      rec.typingTimer = setTimeout(() => {
        rec.typing = false;
        emit("typing", rec);
      }, 8000);
    }
  }

  // ---- frames from the server ----
  const handlers = {
    routing(f) {
      emit("routing", f.event); // offers and states: console-routing.js
    },
    welcome(f) {
      const open = new Set(f.conversations.map((c) => c.id));
      f.conversations.forEach((c) => upsert(c));
      // Open here but not on the server any more: closed or transferred while we were away.
      const gone = [...S.convs.values()].filter((r) => isOpen(r) && !open.has(r.id));
      if (gone.length) refreshClosed(gone);
      S.ready = true;
      // Unconfirmed sends go again with the same client_id (the server stores each one once), paced.
      const keys = [];
      for (const rec of S.convs.values()) for (const p of rec.pending.values()) if (p.state === "sending") keys.push(p.client_id);
      pacer.restart(keys);
      for (const rec of S.convs.values()) if (rec.acked > rec.ackSent) dirty.add(rec.id);
      scheduleAck();
      emit("welcome");
    },
    pong() {
      /* rt-socket.js keeps the heartbeat */
    },
    conversation(f) {
      upsert(f.conversation);
    },
    message(f) {
      const rec = S.convs.get(f.message.conversation_id);
      if (!rec || !addMessage(rec, f.message)) return;
      if (rec.id === S.selected) scheduleAck(); // before rendering: no badge flashes on the open chat
      emit("message", rec, f.message);
      emit("conversations");
    },
    sent(f) {
      const rec = S.convs.get(f.conversation_id);
      const p = rec && rec.pending.get(f.client_id);
      if (!p) return;
      if (rec.messages.has(f.seq)) rec.pending.delete(f.client_id);
      else Object.assign(p, { state: "sent", seq: f.seq });
      emit("thread", rec);
    },
    typing(f) {
      const rec = S.convs.get(f.conversation_id);
      if (!rec || f.sender !== "customer") return;
      setTyping(rec, f.state);
      emit("typing", rec);
    },
    read(f) {
      const rec = S.convs.get(f.conversation_id);
      if (!rec) return;
      const key = f.reader === "customer" ? "customer_read_seq" : "agent_read_seq";
      rec.info[key] = Math.max(rec.info[key] || 0, f.seq);
      emit("conversations");
      if (rec.id === S.selected) emit("thread", rec);
    },
    error(f) {
      for (const rec of S.convs.values()) {
        const p = f.ref && rec.pending.get(f.ref);
        if (!p) continue;
        if (f.code === "rate_limited" || f.code === "internal") {
          // Kept, and sent again later at a slower pace (the client id makes a resend safe).
          pacer.limited(p.client_id);
        } else {
          pacer.delete(p.client_id);
          Object.assign(p, { state: "failed", error: f.detail });
          emit("thread", rec);
        }
        return;
      }
      if (f.code !== "heartbeat_timeout") emit("notice", f.detail || f.code);
    },
  };

  async function refreshClosed(recs) {
    try {
      const closed = await CC.api("/api/chat/conversations?status=closed");
      const byId = new Map(closed.map((c) => [c.id, c]));
      for (const rec of recs) upsert(byId.get(rec.id) || { ...rec.info, status: "closed" }, { quiet: true });
    } catch (_) {
      /* the next reconnect tries again */
    }
  }

  // ---- the socket (rt-socket.js: heartbeats, reconnect with backoff, stop on 4401/4403) ----
  function setConn(state) {
    S.conn = state;
    emit("connection", state);
  }

  function resumeMap() {
    const resume = {};
    const open = [...S.convs.values()].filter((r) => isOpen(r) && r.lastSeq > 0).slice(-100);
    for (const rec of open) resume[rec.id] = rec.lastSeq;
    return resume;
  }

  const sock = RtSocket.open({
    hello: () => ({ type: "hello", v: 1, resume: resumeMap() }),
    onFrame: (frame) => (handlers[frame.type] || ((f) => emit("frame", f)))(frame), // other scripts take the rest
    onState: setConn,
  });
  const raw = sock.send;
  CC.frame = raw; // for the other console scripts' own frames (co-browse)

  document.addEventListener("visibilitychange", () => scheduleAck());

  // ---- what the views call ----
  // Every message send goes through the pacer (rt-socket.js): at most 10 at once, then 4 a second.
  const pacer = RtSocket.makePacer((clientId) => {
    for (const rec of S.convs.values()) {
      const p = rec.pending.get(clientId);
      if (!p) continue;
      if (p.state !== "sending") return null;
      return raw({ type: "send", conversation_id: rec.id, client_id: p.client_id, body: p.body,
        attachments: p.attachments.map((a) => a.id), private: p.private });
    }
    return null;
  });

  CC.send = function (rec, body, isPrivate, attachments) {
    const client_id = `a${me.id}-${Date.now().toString(36)}-${(++counter).toString(36)}`;
    const p = { client_id, body, private: !!isPrivate, attachments: attachments || [], state: "sending",
      at: new Date().toISOString() };
    rec.pending.set(client_id, p);
    pacer.add(client_id);
    emit("thread", rec);
    emit("conversations");
  };
  CC.retrySend = (rec, p) => {
    p.state = "sending";
    pacer.add(p.client_id);
    emit("thread", rec);
  };
  CC.discard = (rec, p) => {
    pacer.delete(p.client_id);
    if (rec.pending.delete(p.client_id)) emit("thread", rec);
  };
  CC.typing = (rec, state) => isOpen(rec) && raw({ type: "typing", conversation_id: rec.id, state });
  CC.online = () => sock.online();

  CC.select = function (id) {
    const rec = S.convs.get(id);
    if (!rec) return;
    S.selected = id;
    rec.fresh = false;
    if (!isOpen(rec) && !rec.loaded) loadHistory(rec);
    emit("selected", rec);
    emit("conversations");
    scheduleAck();
  };

  async function loadHistory(rec) {
    rec.loaded = true;
    try {
      const msgs = await CC.api(`/api/chat/conversations/${rec.id}/messages?after=0`);
      msgs.forEach((m) => addMessage(rec, m));
      if (rec.id === S.selected) emit("thread", rec);
    } catch (err) {
      rec.loaded = false;
      emit("notice", `Could not load the conversation: ${err.message}`);
    }
  }

  // Ack what the agent has on screen (the selected chat, page visible): at once on screen, throttled on the wire.
  const dirty = new Set();
  function scheduleAck() {
    const rec = S.selected && S.convs.get(S.selected);
    if (rec && isOpen(rec) && document.visibilityState === "visible" && rec.lastSeq > rec.acked) {
      rec.acked = rec.lastSeq;
      dirty.add(rec.id);
      emit("conversations");
    }
    if (ackTimer || !dirty.size) return;
    ackTimer = setTimeout(() => {
      ackTimer = null;
      for (const id of [...dirty]) {
        const r = S.convs.get(id);
        if (!r || !isOpen(r) || r.acked <= r.ackSent) dirty.delete(id);
        else if (raw({ type: "ack", conversation_id: id, seq: r.acked })) {
          r.ackSent = r.acked;
          dirty.delete(id);
        }
      }
    }, 300);
  }

  async function start() {
    try {
      const closed = await CC.api("/api/chat/conversations?status=closed");
      closed.filter(mine).slice(0, 30).forEach((c) => upsert(c, { quiet: true }));
    } catch (_) {
      /* the closed list is a convenience */
    }
  }

  start();
})(window.CC);

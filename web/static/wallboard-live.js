// Wallboard, live conversations: every conversation in progress, and for a chat a supervisor can follow it
// live (the `monitor` frame), whisper to its agent (private notes) or join it (the customer is told in the
// chat); on a call the same three through a peer connection of their own (`voice_monitor`, microphone off
// while only listening) — docs/protocol.md. The frames come over wallboard.js's socket ("wb:frame" events, WB.send).
// Every name and message goes in with textContent.
"use strict";

(function () {
  const body = document.querySelector("#live-convs tbody");
  const empty = document.getElementById("live-empty");
  const err = document.getElementById("live-error");
  const box = document.getElementById("live-follow");
  const log = document.getElementById("live-log");
  const title = document.getElementById("live-follow-title");
  const modeBadge = document.getElementById("live-mode");
  const joinBtn = document.getElementById("live-join");
  const stopBtn = document.getElementById("live-stop");
  const form = document.getElementById("live-say");
  const text = document.getElementById("live-text");
  const sendBtn = document.getElementById("live-send");
  const whisperBtn = document.getElementById("live-whisper");
  const audio = document.getElementById("live-audio");
  const MODE_TEXT = { listen: "Listening", whisper: "Whispering to the agent", barge: "You have joined" };
  let busy = false;
  let followed = null; // { id, mode, name, agent, seqs: Set, closed }
  let n = 0;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) node.append(typeof c === "string" ? document.createTextNode(c) : c);
    return node;
  }

  function since(iso) {
    const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    const m = Math.floor(s / 60);
    return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : m ? `${m} min` : `${s} s`;
  }

  function row(c) {
    const action = el("td", {});
    if (c.channel === "chat" || c.channel === "voice") {
      const call = c.channel === "voice";
      const on = followed && followed.id === c.id;
      const b = el("button", { type: "button", class: "btn btn-small", "data-follow": c.id },
        on ? (call ? "Listening" : "Following") : (call ? "Listen" : "Follow"));
      b.disabled = !!on;
      b.addEventListener("click", () => (call ? listen(c) : follow(c)));
      action.append(b);
    } else {
      action.append(el("span", { class: "muted small" }, "chat only"));
    }
    return el("tr", { "data-conv-id": c.id },
      el("td", {}, c.customer_name), el("td", {}, c.channel), el("td", {}, c.queue),
      el("td", {}, c.agent_name || "—"), el("td", { class: "num" }, since(c.assigned_at || c.created_at)), action);
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const res = await fetch("/api/conversations?status=open", { headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const convs = (await res.json()).filter((c) => c.status === "assigned");
      body.replaceChildren(...convs.map(row));
      empty.hidden = convs.length > 0;
    } catch (_) {
      /* the board's own refresh reports signed-out / no access; the next refresh tries again */
    } finally {
      busy = false;
    }
  }

  function paint() {
    box.hidden = !followed;
    if (!followed) return;
    title.textContent = `${followed.name} with ${followed.agent || "no agent"}`;
    modeBadge.textContent = followed.closed ? "The conversation has ended" : MODE_TEXT[followed.mode];
    modeBadge.dataset.mode = followed.mode;
    joinBtn.textContent = followed.mode === "barge" ? "Leave the conversation" : "Join the conversation";
    text.placeholder = followed.mode === "barge"
      ? "Write to the customer and the agent" : "Whisper to the agent (the customer does not see it)";
    sendBtn.textContent = followed.mode === "barge" ? "Send" : "Whisper";
    for (const b of [joinBtn, sendBtn, text, whisperBtn]) b.disabled = !!followed.closed;
    const call = followed.kind === "call";
    log.hidden = form.hidden = call;
    whisperBtn.hidden = !call;
    whisperBtn.textContent = followed.mode === "whisper" ? "Stop talking to the agent" : "Talk to the agent";
    if (call && followed.mic) followed.mic.getAudioTracks().forEach((t) => (t.enabled = followed.mode !== "listen"));
  }

  function hangUp() {
    if (!followed || !followed.pc) return;
    followed.pc.close();
    followed.mic.getTracks().forEach((t) => t.stop());
    followed.pc = followed.mic = null;
    box.dataset.media = "off";
  }

  function callMode(mode) {
    err.hidden = true;
    if (!window.WB.send({ type: "voice_monitor", conversation_id: followed.id, mode })) {
      err.hidden = false;
      err.textContent = "Not connected: try again in a moment.";
      return;
    }
    followed.mode = mode;
    paint();
  }

  async function listen(c) {
    if (followed) stopFollowing();
    followed = { id: c.id, kind: "call", mode: "listen", name: c.customer_name, agent: c.agent_name, seqs: new Set(),
      closed: false, pc: null, mic: null };
    paint();
    try {
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      const pc = new RTCPeerConnection({ iceServers: [] });
      Object.assign(followed, { pc, mic });
      paint(); // the microphone stays off until whispering or joining
      mic.getTracks().forEach((t) => pc.addTrack(t, mic));
      pc.ontrack = (e) => (audio.srcObject = e.streams[0] || new MediaStream([e.track]));
      pc.onconnectionstatechange = () => (box.dataset.media = pc.connectionState);
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((resolve) => {
        if (pc.iceGatheringState === "complete") return resolve();
        pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
        setTimeout(resolve, 3000); // the candidates found by then
      });
      window.WB.send({ type: "voice_monitor", conversation_id: c.id, sdp: pc.localDescription.sdp, mode: "listen" });
    } catch (e) {
      err.hidden = false;
      err.textContent = `Could not listen to the call: ${e.message || e}`;
      hangUp();
    }
    refresh();
  }

  function monitor(mode, on = true) {
    err.hidden = true;
    if (!window.WB.send({ type: "monitor", conversation_id: followed.id, on, mode })) {
      err.hidden = false;
      err.textContent = "Not connected: try again in a moment.";
      return false;
    }
    return true;
  }

  function follow(c) {
    if (followed) stopFollowing();
    followed = { id: c.id, kind: "chat", mode: "listen", name: c.customer_name, agent: c.agent_name, seqs: new Set(), closed: false };
    log.replaceChildren();
    monitor("listen");
    paint();
    refresh();
  }

  function addMessage(m) {
    if (followed.seqs.has(m.seq)) return; // a re-follow after a reconnect replays the log from the start
    followed.seqs.add(m.seq);
    const kind = m.sender === "system" ? "system" : m.private ? "note" : m.sender;
    const who = m.sender === "customer" ? followed.name : m.sender === "system" ? "" : m.sender_name;
    const at = new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    log.append(el("li", { class: `live-msg live-${kind}`, "data-seq": String(m.seq), "data-sender": m.sender },
      who ? el("strong", {}, kind === "note" ? `${who} · note for agents` : who) : null,
      el("span", { class: "live-body" }, m.body), el("time", { class: "muted small" }, at)));
    log.scrollTop = log.scrollHeight;
  }

  document.addEventListener("wb:frame", (e) => {
    const f = e.detail;
    // A new socket follows nothing (a call's leg is its own peer connection and outlives the socket).
    if (f.type === "welcome" && followed && !followed.closed && followed.kind !== "call") monitor(followed.mode);
    if (!followed) return;
    if (f.type === "voice_sdp" && f.leg === "supervisor" && f.conversation_id === followed.id && followed.pc) {
      followed.pc.setRemoteDescription({ type: "answer", sdp: f.sdp });
    } else if (f.type === "voice_state" && f.conversation_id === followed.id && f.state === "ended") {
      followed.closed = true;
      hangUp();
      paint();
    } else if (f.type === "message" && f.message.conversation_id === followed.id) addMessage(f.message);
    else if (f.type === "conversation" && f.conversation.id === followed.id && f.conversation.status === "closed") {
      followed.closed = true;
      paint();
    } else if (f.type === "error" && (f.ref === followed.id || String(f.ref || "").startsWith("wb-"))) {
      err.hidden = false;
      err.textContent = f.detail;
    }
  });

  joinBtn.addEventListener("click", () => {
    const call = followed.kind === "call";
    const next = followed.mode === "barge" ? (call ? "listen" : "whisper") : "barge";
    if (next === "barge" && !window.confirm(`Join the ${call ? "call" : "chat"} with ${followed.name}? They will be told you joined.`)) return;
    if (call) return callMode(next);
    if (monitor(next)) followed.mode = next;
    paint();
  });

  function stopFollowing() {
    if (followed.kind === "call") {
      if (!followed.closed) window.WB.send({ type: "voice_monitor", conversation_id: followed.id, on: false });
      hangUp();
    } else if (!followed.closed) {
      monitor(followed.mode, false);
    }
    followed = null;
  }

  stopBtn.addEventListener("click", () => {
    stopFollowing();
    paint();
    refresh();
  });
  whisperBtn.addEventListener("click", () => callMode(followed.mode === "whisper" ? "listen" : "whisper"));

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const said = text.value.trim();
    if (!said || !followed) return;
    if (followed.mode === "listen") { // whispering starts with the first note: the agent is told
      if (!monitor("whisper")) return;
      followed.mode = "whisper";
    }
    n += 1;
    const frame = { type: "send", conversation_id: followed.id, client_id: `wb-${Date.now()}-${n}`, body: said,
      private: followed.mode !== "barge" };
    if (window.WB.send(frame)) text.value = "";
    paint();
  });

  document.addEventListener("wb:refresh", refresh);
})();

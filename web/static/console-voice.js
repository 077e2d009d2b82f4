// Agent console, browser calls (channels/voice, docs/protocol.md "Voice"): a conversation of channel
// "voice" is a call through the server. Answer opens the microphone and sends one complete SDP offer on the
// console's socket; hold, mute and hang-up are frames; the call's state comes back as voice_state.
"use strict";

(function (CC) {
  const { el, $ } = CC;
  const card = el("section", { class: "vc-card", id: "vc-card", "aria-label": "Call", hidden: true });
  $("msg-log").before(card);
  const audio = el("audio", { autoplay: true, id: "vc-audio" });
  document.body.append(audio);
  const states = new Map(); // conversation id -> last voice_state
  let call = null; // { cid, pc, mic, muted }
  let shown = null;

  function btn(label, onclick, extra) {
    return el("button", Object.assign({ type: "button", class: "btn", onclick }, extra || {}), label);
  }

  function render() {
    const rec = shown;
    if (!rec || rec.info.channel !== "voice") return void (card.hidden = true);
    $("composer").hidden = true; // nothing to type on a call
    const st = states.get(rec.id);
    const mine = call && call.cid === rec.id;
    const open = rec.info.status === "assigned" && (!st || st.state !== "ended");
    const text = !open ? ended(st) : !mine ? "Incoming call: answer to talk to the customer"
      : st && st.state === "held" ? "On hold: the customer hears music" : "Connected";
    const buttons = !open ? [] : !mine
      ? [btn("Answer", () => answer(rec), { class: "btn btn-primary", id: "vc-answer" })]
      : [btn(st && st.state === "held" ? "Resume" : "Hold", () => hold(rec), { id: "vc-hold" }),
         btn(call.muted ? "Unmute" : "Mute", () => mute(rec), { id: "vc-mute" }),
         btn("Hang up", () => hangup(rec), { class: "btn btn-danger", id: "vc-hangup" })];
    // Once it ended, its recording plays here (GET /api/voice/{id}/recording: agents and supervisors only).
    const player = !open && st && st.recording
      ? el("audio", { controls: true, preload: "none", id: "vc-recording", src: `/api/voice/${encodeURIComponent(rec.id)}/recording` })
      : null;
    const recording = open && st && st.recording ? el("p", { class: "vc-rec" }, "● Recording") : null;
    const controls = buttons.length ? el("div", { class: "vc-buttons", role: "group", "aria-label": "Call controls" }, ...buttons) : null;
    card.replaceChildren(...[el("h3", {}, "Call"),
      el("p", { class: "vc-status", role: "status", id: "vc-status" }, text), recording, player, controls].filter(Boolean));
    card.hidden = false;
  }

  // Why a call ended, when it was not a hang-up: the agent must know whether the customer was cut off.
  function ended(st) {
    const reason = st && st.state === "ended" ? st.reason : null;
    if (reason === "worker_lost") {
      return "Call cut off: the server bridging it stopped. The customer was told." +
        (st.recording ? " The recording until then is kept." : "") + " Call them back if you can.";
    }
    if (reason === "lost") return "Call ended: the connection was lost.";
    if (reason === "no_media") return "Call ended: the audio never connected.";
    return "Call ended";
  }

  async function gathered(pc) {
    if (pc.iceGatheringState === "complete") return;
    await new Promise((resolve) => {
      pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
      setTimeout(resolve, 3000); // the candidates found by then
    });
  }

  async function answer(rec) {
    if (call) stop();
    try {
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      const pc = new RTCPeerConnection({ iceServers: [] });
      mic.getTracks().forEach((t) => pc.addTrack(t, mic));
      pc.ontrack = (e) => (audio.srcObject = e.streams[0] || new MediaStream([e.track]));
      call = { cid: rec.id, pc, mic, muted: false };
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      CC.frame({ type: "voice_answer", conversation_id: rec.id, sdp: pc.localDescription.sdp });
    } catch (err) {
      stop();
      CC.announce(`Could not answer the call: ${err.message}`);
    }
    render();
  }

  function hold(rec) {
    const st = states.get(rec.id);
    CC.frame({ type: "voice_hold", conversation_id: rec.id, on: !(st && st.state === "held") });
  }

  function mute(rec) {
    call.muted = !call.muted;
    call.mic.getAudioTracks().forEach((t) => (t.enabled = !call.muted));
    CC.frame({ type: "voice_mute", conversation_id: rec.id, on: call.muted });
    render();
  }

  function hangup(rec) {
    CC.frame({ type: "voice_hangup", conversation_id: rec.id });
    stop();
    render();
  }

  function stop() {
    if (!call) return;
    call.pc.close();
    call.mic.getTracks().forEach((t) => t.stop());
    call = null;
  }

  CC.on("frame", async (f) => {
    if (f.type === "voice_sdp" && f.leg === "agent" && call && call.cid === f.conversation_id) {
      await call.pc.setRemoteDescription({ type: "answer", sdp: f.sdp });
    } else if (f.type === "voice_state") {
      states.set(f.conversation_id, f);
      if (f.state === "ended" && call && call.cid === f.conversation_id) stop();
      if (f.state === "ended") CC.announce(f.ended_by === "customer" ? "The customer hung up" : "Call ended");
      render();
    } else if (f.type === "error" && call && f.ref === call.cid && /sdp|call/.test(f.code)) {
      stop();
      CC.announce(`Call: ${f.detail}`);
      render();
    }
  });
  CC.on("selected", (rec) => ((shown = rec), render()));
  CC.on("thread", (rec) => rec === shown && render());
  CC.on("conversations", render);
})(window.CC);

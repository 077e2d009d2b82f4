/* Browser calls in the widget (channels/voice, docs/protocol.md "Voice"): the microphone's audio goes to
 * the server in one RTCPeerConnection (the server bridges it to the agent), signalled over the widget's
 * socket. The recording is announced before the call is placed. A widget part (parts.js): its button joins
 * the pre-chat form, its box sits above the chat, and conversations of channel "voice" are its own. */
const VOICE_CSS = `
.vc{background:#fff;border:1px solid var(--line);border-radius:14px;padding:14px;margin:4px 2px 8px}
.vc strong{display:block;font-size:16px;margin-bottom:4px}.vc-status{margin:0 0 6px;font-size:14px}
.vc-buttons{display:flex;gap:8px}.vc-buttons button{flex:1}`;

function makeVoice(o) {
  // o: the parts' context (parts.js): t, h, send, isReady, connect, mount, busy, action, name, hideNotice
  const { t, h } = o;
  let pc = null;
  let mic = null;
  let cid = null;
  let pending = null; // the offer waiting for the socket's welcome
  let muted = false;
  const audio = h("audio", { autoplay: true });
  const status = h("p", { class: "vc-status", role: "status" });
  const muteBtn = h("button", { class: "secondary", type: "button", text: t("voice.mute"), onclick: toggleMute });
  const hangBtn = h("button", { class: "primary vc-hangup", type: "button", text: t("voice.hangup"), onclick: hangup });
  const box = h("div", { class: "vc", hidden: true, role: "region", "aria-label": t("voice.heading") },
    h("strong", { text: t("voice.heading") }), status, h("p", { class: "fine", text: t("voice.recorded") }),
    h("div", { class: "vc-buttons" }, muteBtn, hangBtn), audio);
  o.mount(box, "top");
  o.action(t("prechat.call"), "secondary wide ccw-call", () => {
    o.hideNotice();
    start({ name: o.name() });
  });

  function say(text) {
    status.textContent = text;
  }

  async function gathered(peer) {
    // The server takes one complete offer (no trickle): wait for the candidates, at most 3 s.
    if (peer.iceGatheringState === "complete") return;
    await new Promise((resolve) => {
      const done = () => peer.iceGatheringState === "complete" && resolve();
      peer.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 3000);
    });
  }

  async function start(extra) {
    if (pc) return;
    box.hidden = false;
    o.busy(true); // the chat form steps aside while the call goes on
    say(t("voice.calling"));
    try {
      mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      pc = new RTCPeerConnection({ iceServers: [] });
      mic.getTracks().forEach((tr) => pc.addTrack(tr, mic));
      pc.ontrack = (e) => (audio.srcObject = e.streams[0] || new MediaStream([e.track]));
      pc.onconnectionstatechange = () => pc && pc.connectionState === "failed" && end(t("voice.lost"));
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      pending = Object.assign({ type: "voice_call", sdp: pc.localDescription.sdp }, extra || {});
      if (o.isReady()) flush();
      else await o.connect();
    } catch (err) {
      end(t("voice.failed", { error: err.message || String(err) }));
    }
  }

  function flush() {
    if (pending && o.send(pending)) pending = null;
  }

  async function frame(f) {
    if (f.type === "voice_sdp" && f.leg === "customer" && pc) {
      cid = f.conversation_id;
      await pc.setRemoteDescription({ type: "answer", sdp: f.sdp });
    } else if (f.type === "voice_state" && f.conversation_id === cid) {
      if (f.state === "ended") {
        // Why it ended, when it was not someone hanging up: cut off on our side, or the line was lost.
        const why = f.reason === "worker_lost" ? "voice.cutoff" : f.reason === "lost" || f.reason === "no_media" ? "voice.lost" : "voice.ended";
        return end(t(why));
      }
      const joined = f.joined_by ? ` · ${t("voice.joined", { name: f.joined_by })}` : ""; // never a silent barge
      say(f.state === "connected" ? t("voice.connected", { name: f.agent_name || t("voice.adviser") }) + joined
        : f.state === "held" ? t("voice.held") : t("voice.waiting"));
    }
  }

  function toggleMute() {
    if (!cid) return;
    muted = !muted;
    if (mic) mic.getAudioTracks().forEach((tr) => (tr.enabled = !muted));
    muteBtn.textContent = muted ? t("voice.unmute") : t("voice.mute");
    o.send({ type: "voice_mute", conversation_id: cid, on: muted });
  }

  function hangup() {
    if (cid) o.send({ type: "voice_hangup", conversation_id: cid });
    end(t("voice.ended"));
  }

  function end(text) {
    if (pc) pc.close();
    if (mic) mic.getTracks().forEach((tr) => tr.stop());
    pc = mic = cid = pending = null;
    muted = false;
    muteBtn.textContent = t("voice.mute");
    say(text);
    o.busy(false);
    hangBtn.hidden = muteBtn.hidden = true;
    setTimeout(() => {
      if (!pc) (box.hidden = true), (hangBtn.hidden = muteBtn.hidden = false);
    }, 4000);
  }

  function error(f) {
    if (f.ref !== "voice_call" && !(f.ref && f.ref === cid)) return false;
    end(t("voice.failed", { error: f.detail || f.code }));
    return true;
  }

  return { frame, error, ready: flush };
}

registerPart({ name: "voice", frames: ["voice_sdp", "voice_state"], channels: ["voice"], css: VOICE_CSS, make: makeVoice });

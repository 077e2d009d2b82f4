// Agent console, routing: the state selector, the incoming-offer alert (sound + desktop notification, both
// switchable and remembered), and Alt+A accept / Alt+D decline / Alt+N ready for the next contact.
"use strict";

(function (CC) {
  const select = document.getElementById("agent-state");
  if (!select) return; // supervisors and admins are not routed
  const alertBox = document.getElementById("offer-alert");
  const prefs = { sound: document.getElementById("pref-sound"), notify: document.getElementById("pref-notify") };
  const offers = new Map(); // contact_id -> offer event
  let timer = null;
  let audio = null;
  // The server announces our state once the socket is registered for routing; only then is
  // GET /api/routing/me sure to know us (it also brings offers made while we were reconnecting).
  let synced = false;

  for (const [k, box] of Object.entries(prefs)) {
    box.checked = localStorage.getItem(`cc.alert.${k}`) !== "off";
    box.addEventListener("change", () => {
      localStorage.setItem(`cc.alert.${k}`, box.checked ? "on" : "off");
      if (k === "notify" && box.checked && "Notification" in window && Notification.permission === "default") {
        Notification.requestPermission();
      }
    });
  }

  function show(state) {
    select.dataset.state = state;
    if (state === "busy") state = "available"; // busy is shown by colour; the choice stays "available"
    select.value = state;
  }

  async function load() {
    try {
      const me = await CC.api("/api/routing/me");
      show(me.state);
      for (const h of me.held) if (h.status === "offered" && !offers.has(h.contact_id)) offers.set(h.contact_id, { contact_id: h.contact_id, channel: "chat", queue: "", deadline: null });
      render();
    } catch (_) {
      /* not online for routing yet: the welcome brings us back */
    }
  }

  async function setState(state) {
    try {
      const me = await CC.api("/api/routing/me/state", { method: "PUT", json: { state } });
      show(me.state);
    } catch (err) {
      CC.emit("notice", `Could not change your state: ${err.message}`);
      load();
    }
  }

  function beep() {
    if (!prefs.sound.checked) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      for (const [i, f] of [[0, 880], [1, 1175]]) {
        const o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = f;
        g.gain.setValueAtTime(0.12, audio.currentTime + i * 0.18);
        g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + i * 0.18 + 0.16);
        o.connect(g).connect(audio.destination);
        o.start(audio.currentTime + i * 0.18);
        o.stop(audio.currentTime + i * 0.18 + 0.17);
      }
    } catch (_) {
      /* no audio device */
    }
  }

  function notify(offer) {
    // Shown even while the tab has focus: an agent looking at another chat must not miss it.
    if (!prefs.notify.checked || !("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const n = new Notification("Incoming contact", { body: `${offer.channel} · ${offer.queue || "queue"}`, tag: offer.contact_id });
      n.onclick = () => { window.focus(); n.close(); };
    } catch (_) {
      /* some browsers only allow notifications from a service worker */
    }
  }

  function render() {
    const first = offers.values().next().value;
    alertBox.hidden = !first;
    clearInterval(timer);
    if (!first) return;
    CC.$("offer-title").textContent = offers.size > 1 ? `${offers.size} incoming contacts` : `Incoming ${first.channel}`;
    CC.$("offer-detail").textContent = first.queue ? `Queue: ${first.queue}` : "";
    const tick = () => {
      const left = first.deadline ? Math.max(0, Math.round(first.deadline - Date.now() / 1000)) : null;
      CC.$("offer-timer").textContent = left === null ? "" : `${left} s to answer`;
    };
    tick();
    timer = setInterval(tick, 1000);
  }

  async function answer(kind) {
    const first = offers.values().next().value;
    if (!first) return;
    offers.delete(first.contact_id);
    render();
    try {
      await CC.api(`/api/routing/offers/${encodeURIComponent(first.contact_id)}/${kind}`, { method: "POST" });
      CC.announce(kind === "accept" ? "Contact accepted" : "Contact declined");
    } catch (err) {
      CC.emit("notice", err.message || "That offer is no longer available");
    }
  }

  CC.on("routing", (ev) => {
    if (ev.agent_id !== CC.me.id) return;
    if (ev.type === "routing.offer") {
      offers.set(ev.contact_id, ev);
      render();
      beep();
      notify(ev);
    } else if (ev.type === "routing.offer_ended") {
      offers.delete(ev.contact_id);
      render();
    } else if (ev.type === "routing.agent_state") {
      show(ev.state);
      if (ev.state !== "available" && ev.state !== "busy") {
        offers.clear(); // away (also after a missed offer), wrap-up, offline: pending offers went back
        render();
      }
      if (!synced) {
        synced = true;
        load();
      }
    }
  });
  CC.on("connection", (state) => {
    if (state !== "online") synced = false;
  });

  select.addEventListener("change", () => setState(select.value));
  CC.$("offer-accept").addEventListener("click", () => answer("accept"));
  CC.$("offer-decline").addEventListener("click", () => answer("decline"));
  document.addEventListener("keydown", (e) => {
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    const k = e.key.toLowerCase();
    if (k === "a" && offers.size) answer("accept");
    else if (k === "d" && offers.size) answer("decline");
    else if (k === "n") setState("available");
    else return;
    e.preventDefault();
  });
})(window.CC);

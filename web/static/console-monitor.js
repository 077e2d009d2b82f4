// Agent console: a supervisor following one of my conversations (the `monitored` frame, docs/protocol.md)
// is said aloud and shown beside the conversation's name while they watch.
"use strict";

(function (CC) {
  const { $ } = CC;
  const watching = new Map(); // conversation id -> Map(supervisor id -> {name, mode})
  // What the agent is told per mode: listening, able to whisper notes, or in the chat with the customer.
  const PHRASE = { listen: "is following", whisper: "is following and may send you notes", barge: "has joined" };

  function paint() {
    const pill = $("thread-monitored");
    const who = CC.state.selected && watching.get(CC.state.selected);
    const all = who ? [...who.values()] : [];
    pill.hidden = all.length === 0;
    pill.dataset.mode = all.some((w) => w.mode === "barge") ? "barge" : all.length ? all[0].mode : "";
    pill.textContent = all.map((w) => `${w.name} ${PHRASE[w.mode] || PHRASE.listen}`).join("; ");
  }

  CC.on("frame", (f) => {
    if (f.type !== "monitored") return;
    const who = watching.get(f.conversation_id) || new Map();
    const before = who.get(f.supervisor_id);
    if (f.on) who.set(f.supervisor_id, { name: f.supervisor_name, mode: f.mode || "listen" });
    else who.delete(f.supervisor_id);
    watching.set(f.conversation_id, who);
    const rec = CC.state.convs.get(f.conversation_id);
    const name = rec ? rec.info.customer_name : "a customer";
    const mode = f.mode || "listen";
    const sup = f.supervisor_name;
    let said = `${sup} is following your chat with ${name}`;
    if (!f.on) said = `${sup} stopped following your chat with ${name}`;
    else if (mode === "barge") said = `${sup} joined your chat with ${name}`;
    else if (before && before.mode === "barge") said = `${sup} left your chat with ${name}`;
    else if (mode === "whisper") said = `${sup} is following your chat with ${name} and may send you notes`;
    CC.announce(said);
    paint();
  });
  CC.on("selected", paint);
})(window.CC);

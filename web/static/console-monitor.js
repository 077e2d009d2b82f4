// Agent console: a supervisor following one of my conversations (the `monitored` frame, docs/protocol.md)
// is said aloud and shown beside the conversation's name while they watch.
"use strict";

(function (CC) {
  const { $ } = CC;
  const watching = new Map(); // conversation id -> Map(supervisor id -> name)

  function paint() {
    const pill = $("thread-monitored");
    const who = CC.state.selected && watching.get(CC.state.selected);
    const names = who ? [...who.values()] : [];
    pill.hidden = names.length === 0;
    pill.textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} following` : "";
  }

  CC.on("frame", (f) => {
    if (f.type !== "monitored") return;
    const who = watching.get(f.conversation_id) || new Map();
    if (f.on) who.set(f.supervisor_id, f.supervisor_name);
    else who.delete(f.supervisor_id);
    watching.set(f.conversation_id, who);
    const rec = CC.state.convs.get(f.conversation_id);
    const name = rec ? rec.info.customer_name : "a customer";
    CC.announce(f.on ? `${f.supervisor_name} is following your chat with ${name}` : `${f.supervisor_name} stopped following your chat with ${name}`);
    paint();
  });
  CC.on("selected", paint);
})(window.CC);

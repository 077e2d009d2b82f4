// Agent console, web callback: a conversation of channel "callback" is one attempt to call a customer back.
// Instead of a composer it shows the number to dial (a tel: link), what the call is about, the slot and the
// attempts so far, and the four outcomes (POST /api/callback/requests/{id}/outcome), which close the attempt.
"use strict";

(function (CC) {
  const { el, $ } = CC;
  const OUTCOMES = [["reached", "Reached"], ["no_answer", "No answer"], ["busy", "Busy"], ["wrong_number", "Wrong number"]];
  const card = el("section", { class: "cb-card", id: "cb-card", "aria-label": "Callback", hidden: true });
  $("msg-log").before(card);
  const cache = new Map(); // conversation id -> the callback (GET /api/callback/conversations/{id})
  const results = new Map(); // conversation id -> what recording its outcome said
  let shown = null;

  function when(cb) {
    if (!cb.slot_start) return "As soon as possible";
    const start = CC.parse(cb.slot_start);
    return `${CC.dayLabel(start)} ${CC.hm(start)}–${CC.hm(CC.parse(cb.slot_end))}`;
  }

  function render(rec, cb, result) {
    const open = rec.info.status === "assigned" && cb.status === "open";
    const dial = cb.phone
      ? el("a", { class: "btn btn-primary cb-dial", href: `tel:${cb.phone}` }, `Call ${cb.phone}`)
      : el("p", { class: "cb-browser" }, "Asked to be called here in the browser (browser calls are not available yet).");
    const facts = el("dl", { class: "facts cb-facts" },
      el("dt", {}, "Reference"), el("dd", {}, cb.reference),
      el("dt", {}, "About"), el("dd", {}, cb.topic || "No topic"),
      el("dt", {}, "Slot"), el("dd", {}, when(cb)),
      el("dt", {}, "Attempt"), el("dd", {}, String(cb.attempts)),
      cb.last_outcome ? [el("dt", {}, "Last outcome"), el("dd", {}, cb.last_outcome.replace("_", " "))] : null);
    const buttons = open
      ? el("div", { class: "cb-outcomes", role: "group", "aria-label": "Outcome of this call" },
          ...OUTCOMES.map(([code, label]) =>
            el("button", { type: "button", class: "btn", "data-outcome": code, onclick: () => record(rec, cb, code) }, label)))
      : null;
    const said = result || results.get(rec.id);
    const note = said ? el("p", { class: "cb-result", role: "status" }, said) : null;
    card.replaceChildren(...[el("h3", {}, "Callback"), open ? dial : null, facts, buttons, note].filter(Boolean));
    card.hidden = false;
  }

  async function record(rec, cb, outcome) {
    card.querySelectorAll("button").forEach((b) => (b.disabled = true));
    try {
      const next = await CC.api(`/api/callback/requests/${cb.id}/outcome`, { method: "POST", json: { outcome } });
      cache.set(rec.id, next);
      const text = next.status === "booked" ? `Recorded. It comes back at ${CC.hm(CC.parse(next.due_at))}.`
        : next.status === "reached" ? "Recorded: reached." : `Recorded: ${next.note || next.status}.`;
      results.set(rec.id, text);
      render(rec, next, text);
    } catch (err) {
      render(rec, cb, `Could not record the outcome: ${err.message}`);
    }
  }

  async function show(rec) {
    shown = rec;
    if (!rec || rec.info.channel !== "callback") {
      card.hidden = true;
      return;
    }
    $("composer").hidden = true; // nothing to type to a callback: the outcome closes it
    $("close-conv").hidden = true;
    let cb = cache.get(rec.id);
    if (!cb) {
      try {
        cb = await CC.api(`/api/callback/conversations/${rec.id}`);
        cache.set(rec.id, cb);
      } catch (err) {
        card.replaceChildren(el("p", {}, `Could not load the callback: ${err.message}`));
        card.hidden = false;
        return;
      }
    }
    if (shown === rec) render(rec, cb);
  }

  CC.on("selected", show);
  CC.on("thread", (rec) => rec === shown && show(rec));
})(window.CC);

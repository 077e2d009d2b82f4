// Wallboard, email panel: first-response clocks of open email conversations (GET /api/email/first-response),
// how many are overdue and the five nearest a breach. Refreshed with the board ("wb:refresh") and on each
// email_due frame.
"use strict";

(function () {
  const list = document.getElementById("email-clocks");
  const empty = document.getElementById("email-empty");
  const summary = document.getElementById("email-summary");
  let busy = false;

  function span(s) {
    const h = Math.abs(s) / 3600;
    return h >= 1 ? `${Math.round(h)} h` : `${Math.max(1, Math.round(Math.abs(s) / 60))} min`;
  }

  function row(c) {
    const li = document.createElement("li");
    li.dataset.overdue = String(c.overdue);
    li.dataset.warning = String(c.warning);
    const who = document.createElement("span");
    who.textContent = `${c.customer_name}${c.topic ? ` · ${c.topic}` : ""}`;
    const agent = document.createElement("span");
    agent.className = "muted";
    agent.textContent = c.agent_name || "queued";
    const left = document.createElement("strong");
    left.textContent = c.overdue ? `overdue ${span(c.seconds_left)}`
      : `due in ${span(c.seconds_left)}${c.paused ? " · paused" : ""}`;
    if (c.paused) left.title = "Outside the queue's business hours: the clock stands still";
    li.append(who, agent, left);
    return li;
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const res = await fetch("/api/email/first-response", { headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const clocks = await res.json();
      const overdue = clocks.filter((c) => c.overdue).length;
      const soon = clocks.filter((c) => c.warning).length;
      summary.textContent = `${overdue} overdue · ${soon} due soon · ${clocks.length} waiting for a first answer`;
      summary.dataset.overdue = String(overdue > 0);
      list.replaceChildren(...clocks.slice(0, 5).map(row));
      empty.hidden = clocks.length > 0;
    } catch (_) {
      /* the board's own refresh reports signed-out / no access; the next refresh tries again */
    } finally {
      busy = false;
    }
  }

  document.addEventListener("wb:refresh", refresh);
  // A clock just came due soon or went overdue (email_due): at once, not at the next refresh.
  document.addEventListener("wb:frame", (e) => e.detail && e.detail.type === "email_due" && refresh());
})();

// Wallboard, outcomes panel: conversations closed in the last 24 hours per wrap-up outcome, as bars.
// Refreshed whenever the board refreshes (the "wb:refresh" event of wallboard.js).
"use strict";

(function () {
  const list = document.getElementById("outcomes");
  const empty = document.getElementById("outcomes-empty");
  let labels = null;
  let busy = false;

  async function json(path) {
    const res = await fetch(path, { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(String(res.status));
    return res.json();
  }

  function row(code, label, count, max) {
    const li = document.createElement("li");
    li.dataset.outcome = code;
    const name = document.createElement("span");
    name.textContent = label;
    const bar = document.createElement("span");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = `${max ? Math.round((count / max) * 100) : 0}%`;
    bar.append(fill);
    const n = document.createElement("span");
    n.className = "n";
    n.textContent = String(count);
    li.append(name, bar, n);
    return li;
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      if (!labels) labels = Object.fromEntries((await json("/api/conversations/outcomes")).map((o) => [o.code, o.label]));
      const counts = await json("/api/conversations/outcomes/today");
      const max = Math.max(0, ...counts.map((c) => c.count));
      list.replaceChildren(
        ...counts.map((c) => row(c.outcome, labels[c.outcome] || (c.outcome === "none" ? "No outcome" : c.outcome), c.count, max))
      );
      empty.hidden = counts.length > 0;
    } catch (_) {
      /* the board's own refresh reports signed-out / no access; the next refresh tries again */
    } finally {
      busy = false;
    }
  }

  document.addEventListener("wb:refresh", refresh);
})();

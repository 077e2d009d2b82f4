// Wallboard, outcomes panel: conversations closed in the last 24 hours per wrap-up outcome, as horizontal
// bars drawn by charts.js with their figures table.
// Refreshed whenever the board refreshes (the "wb:refresh" event of wallboard.js).
"use strict";

(function () {
  const host = document.getElementById("outcomes");
  const empty = document.getElementById("outcomes-empty");
  let labels = null;
  let busy = false;

  async function json(path) {
    const res = await fetch(path, { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(String(res.status));
    return res.json();
  }

  // Sales in green, no outcome in grey, the rest in the brand's blue (as the hand-made bars were).
  const color = (code) => (code === "sale" ? "#12b76a" : code === "none" ? "#98a2b3" : Charts.COLORS.brand);
  let drawn = null;

  function draw(counts) {
    const key = JSON.stringify(counts);
    if (key === drawn) return; // redrawn only when a count changes
    drawn = key;
    if (!counts.length) { Charts.clear(host); return; }
    const names = counts.map((c) => labels[c.outcome] || (c.outcome === "none" ? "No outcome" : c.outcome));
    const { figure } = Charts.bar(host, {
      title: "Conversations closed per outcome",
      labels: names,
      series: [{ key: "closed", label: "Conversations", color: counts.map((c) => color(c.outcome)),
        values: counts.map((c) => c.count) }],
      horizontal: true,
      valueLabels: true,
      table: { head: ["Outcome", "Conversations"], rows: counts.map((c, i) => [names[i], String(c.count)]) },
    });
    figure.dataset.outcomes = counts.map((c) => c.outcome).join(" ");
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      if (!labels) labels = Object.fromEntries((await json("/api/conversations/outcomes")).map((o) => [o.code, o.label]));
      const counts = await json("/api/conversations/outcomes/today");
      draw(counts);
      empty.hidden = counts.length > 0;
    } catch (_) {
      /* the board's own refresh reports signed-out / no access; the next refresh tries again */
    } finally {
      busy = false;
    }
  }

  document.addEventListener("wb:refresh", refresh);
})();

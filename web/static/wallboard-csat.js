// Wallboard, customer satisfaction: ratings per agent and per queue (GET /api/csat/stats) for today or the
// last 7 days: how many, their average out of 5, the share of 4s and 5s, and how many said "No thanks". Refreshed with the board
// ("wb:refresh" of wallboard.js) and when the period changes.
"use strict";

(function () {
  const panel = document.getElementById("csat");
  if (!panel) return;
  const agents = document.querySelector("#csat-agents tbody");
  const queues = document.querySelector("#csat-queues tbody");
  const empty = document.getElementById("csat-empty");
  const summary = document.getElementById("csat-summary");
  const buttons = panel.querySelectorAll("[data-period]");
  let period = "today";
  let busy = false;

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }
  function row(f) {
    const tr = document.createElement("tr");
    tr.dataset.key = f.key;
    const mood = f.average < 3 ? " csat-low" : f.average >= 4 ? " csat-high" : "";
    tr.append(cell(f.name), cell(String(f.count), "num"), cell(f.average.toFixed(1), "num" + mood), cell(`${Math.round(f.satisfied_pct)} %`, "num"));
    return tr;
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const res = await fetch(`/api/csat/stats?period=${encodeURIComponent(period)}`, { headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(String(res.status));
      const s = await res.json();
      agents.replaceChildren(...s.agents.map(row));
      queues.replaceChildren(...s.queues.map(row));
      empty.hidden = s.overall.count > 0;
      const parts = [];
      if (s.overall.count) parts.push(`${s.overall.count} rating${s.overall.count === 1 ? "" : "s"}, average ${s.overall.average.toFixed(1)} / 5, ${Math.round(s.overall.satisfied_pct)} % gave 4–5`);
      // "No thanks" in the widget: asked, answered without a rating (not in the count or the average).
      if (s.overall.declined) parts.push(`${s.overall.declined} said no thanks`);
      summary.textContent = parts.join(" · ");
    } catch (_) {
      /* the board's own refresh reports signed-out / no access; the next refresh tries again */
    } finally {
      busy = false;
    }
  }

  for (const b of buttons) {
    b.addEventListener("click", () => {
      period = b.dataset.period;
      for (const o of buttons) o.setAttribute("aria-pressed", String(o === b));
      refresh();
    });
  }
  document.addEventListener("wb:refresh", refresh);
})();

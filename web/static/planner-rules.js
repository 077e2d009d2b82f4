// Rules list: every rule with its current version and figures, and a bar chart of them.
"use strict";

(function () {
  const { el, api, num, pct, uplift, date, barChart } = window.Planner;
  const statusEl = document.getElementById("rules-status");
  const errorEl = document.getElementById("rules-error");
  const emptyEl = document.getElementById("rules-empty");
  const table = document.getElementById("rules");
  const tbody = table.querySelector("tbody");

  function row(rule) {
    const href = `/staff/planner/rules/${encodeURIComponent(rule.id)}`;
    const s = rule.stats || {};
    const upliftCell = el("td", { class: "num uplift" }, uplift(s.uplift));
    if (typeof s.uplift === "number") upliftCell.dataset.sign = s.uplift > 0 ? "up" : s.uplift < 0 ? "down" : "flat";
    if (!s.holdout) upliftCell.title = "No contacts are held out of this rule, so there is nothing to compare with.";
    const tr = el(
      "tr",
      { "data-rule-id": rule.id },
      el(
        "td",
        { class: "name-cell" },
        el("a", { href, class: "rule-link" }, rule.name || rule.id),
        rule.comment ? el("span", { class: "muted small rule-comment" }, rule.comment) : null,
        // A version that ran past the time limit is out of force (docs/security.md): say so, and what runs.
        rule.stopped ? el("span", { class: "small rule-stopped", role: "status" },
          `Version ${rule.version} ${rule.stopped}. ` +
          (rule.in_force ? `Version ${rule.in_force} runs instead.` : "No version of this rule runs.")) : null,
      ),
      el("td", { class: "num version" }, `v${rule.version}`),
      el("td", { class: "published" }, el("span", { class: "stack" },
        el("span", null, date(rule.published_at)),
        el("span", { class: "muted small" }, rule.author ? `by ${rule.author}` : ""))),
      el("td", { class: "num holdout" }, `${rule.holdout_pct ?? 0} %`),
      el("td", { class: "num shown" }, num(s.shown)),
      el("td", { class: "num accepted" }, num(s.accepted)),
      el("td", { class: "num dismissed" }, num(s.dismissed)),
      el("td", { class: "num converted" }, num(s.converted)),
      el("td", { class: "num conversion" }, pct(s.conversion_rate)),
      upliftCell,
    );
    tr.addEventListener("click", (ev) => {
      if (ev.target.closest("a") || window.getSelection().toString()) return;
      window.location.assign(href);
    });
    return tr;
  }

  async function load() {
    try {
      const { rules } = await api("/api/rules");
      statusEl.textContent = rules.length === 1 ? "1 rule" : `${rules.length} rules`;
      if (!rules.length) {
        emptyEl.hidden = false;
        return;
      }
      tbody.replaceChildren(...rules.map(row));
      table.hidden = false;
      const chart = document.getElementById("rules-chart");
      if (rules.some((r) => (r.stats?.shown || 0) + (r.stats?.holdout || 0) > 0)) {
        const groups = rules.map((r) => ({ label: r.name || r.id, values: r.stats || {} }));
        barChart(chart, groups, { title: "Suggestions shown, accepted, dismissed and converted, by rule" });
      } else {
        chart.replaceChildren(el("div", { class: "empty", id: "rules-chart-empty" },
          el("strong", null, "No suggestions shown yet."),
          el("span", { class: "muted" }, "The chart fills in as agents are shown these rules and mark them accepted, dismissed or sold.")));
      }
      document.getElementById("rules-chart-panel").hidden = false;
    } catch (err) {
      statusEl.textContent = "";
      errorEl.textContent = `Could not load the rules: ${err.message}`;
      errorEl.hidden = false;
    }
  }

  load();
})();

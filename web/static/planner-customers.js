// Campaigns page, Customers panel: customers per value tier in each month (stacked bars, from
// /api/analytics/tiers) and the strongest product associations (horizontal bars of lift or confidence, from
// /api/analytics/associations), both drawn by charts.js.
"use strict";

(function () {
  const { api, num } = window.Planner;
  const { bar, TIERS } = window.Charts;
  const $ = (id) => document.getElementById(id);
  const month = new Intl.DateTimeFormat("en-GB", { month: "short", year: "numeric", timeZone: "UTC" });
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const ratio = (v) => (typeof v === "number" && isFinite(v) ? `${v.toFixed(2)}×` : "—");
  const share = (v) => (typeof v === "number" && isFinite(v) ? `${Math.round(v * 100)} %` : "—");

  function fail(err) {
    $("customers-error").textContent = `Could not load the customers' figures: ${err.message}`;
    $("customers-error").hidden = false;
  }

  function periodLabel(p) {
    const [y, m] = p.split("-").map(Number);
    return y && m ? month.format(new Date(Date.UTC(y, m - 1, 1))) : p;
  }

  async function tiers() {
    const d = await api("/api/analytics/tiers?periods=12");
    $("tiers-empty").hidden = d.periods.length > 0;
    if (!d.periods.length) return;
    const labels = d.periods.map((p) => periodLabel(p.period));
    bar($("tiers-chart"), {
      title: "Customers by value tier, per month",
      labels,
      stacked: true,
      height: 280,
      series: d.tiers.map((t) => ({ key: t, label: cap(t), color: TIERS[t], values: d.periods.map((p) => p.counts[t] || 0) })),
      table: {
        head: ["Month", ...d.tiers.map(cap), "Customers"],
        rows: d.periods.map((p, i) => [labels[i], ...d.tiers.map((t) => num(p.counts[t] || 0)), num(p.customers)]),
      },
    });
  }

  async function associations() {
    const by = $("assoc-by").value;
    const rows = await api(`/api/analytics/associations?limit=10&by=${encodeURIComponent(by)}`);
    $("assoc-empty").hidden = rows.length > 0;
    $("assoc-chart").hidden = !rows.length;
    if (!rows.length) return;
    const labels = rows.map((a) => `${a.antecedent_name || a.antecedent_sku} → ${a.consequent_name || a.consequent_sku}`);
    bar($("assoc-chart"), {
      title: by === "lift" ? "Strongest product associations, by lift" : "Strongest product associations, by confidence",
      labels,
      horizontal: true,
      valueLabels: true,
      format: by === "lift" ? ratio : share,
      max: by === "lift" ? undefined : 1,
      series: [{
        key: by, label: by === "lift" ? "Lift" : "Confidence", color: window.Charts.COLORS.brand,
        values: rows.map((a) => (by === "lift" ? a.lift : a.confidence)),
      }],
      table: {
        head: ["Holding → also holding", "Lift", "Confidence", "Customers holding both"],
        rows: rows.map((a, i) => [labels[i], ratio(a.lift), share(a.confidence), `${num(a.baskets)} of ${num(a.antecedent_baskets)}`]),
      },
    });
  }

  $("assoc-by").addEventListener("change", () => associations().catch(fail));
  tiers().catch(fail);
  associations().catch(fail);
})();

// Invitations page, every product-viewing session (/api/engage/sessions, decision 56): the abandon rate per
// day of the sessions with an invitation shown, held out, and never picked by a rule, as a chart with its
// table, and the totals. A session "left" after CC_ENGAGE_SESSION_GAP_MINUTES without a page view.
"use strict";

(function () {
  const { el, api, num, pct } = window.Planner;
  const { bar, COLORS } = window.Charts;
  const $ = (id) => document.getElementById(id);
  const dayFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  const GROUPS = [
    ["invited", "Invited", COLORS.brand],
    ["held_out", "Held out", COLORS.slate],
    ["never", "Never invited", COLORS.amber],
  ];
  const of = (g) => (g && g.sessions ? g.abandoned / g.sessions : null);
  const text = (g) => (g && g.sessions ? `${num(g.abandoned)} of ${num(g.sessions)}` : "—");

  // Every day from the first session to the last; a day without any is a gap.
  function days(byDay) {
    if (!byDay.length) return [];
    const found = new Map(byDay.map((d) => [d.day, d]));
    const out = [];
    const last = Date.parse(`${byDay[byDay.length - 1].day}T00:00:00Z`);
    for (let t = Date.parse(`${byDay[0].day}T00:00:00Z`); t <= last; t += 86_400_000) {
      const key = new Date(t).toISOString().slice(0, 10);
      out.push(found.get(key) || { day: key });
    }
    return out;
  }

  function totals(r) {
    $("sessions-totals").querySelector("tbody").replaceChildren(...GROUPS.map(([key, label]) => {
      const g = r[key];
      return el("tr", { "data-group": key }, el("th", { scope: "row" }, label),
        ...[g.sessions, g.contacted, g.ordered, g.abandoned].map((v) => el("td", { class: "num" }, num(v))),
        el("td", { class: "num" }, pct(of(g))));
    }));
  }

  function chart(r) {
    const list = days(r.by_day);
    const labels = list.map((d) => dayFmt.format(new Date(`${d.day}T00:00:00Z`)));
    bar($("sessions-chart"), {
      title: "Abandon rate of product-viewing sessions per day",
      labels,
      format: (v) => (typeof v === "number" && isFinite(v) ? `${Math.round(v * 100)} %` : "—"),
      max: 1,
      height: 240,
      series: GROUPS.map(([key, label, color]) => ({ key, label, color, values: list.map((d) => of(d[key])) })),
      table: {
        head: ["Day", ...GROUPS.flatMap(([, label]) => [`${label}: abandoned`, `${label}: abandon rate`])],
        rows: list.map((d, i) => [labels[i], ...GROUPS.flatMap(([key]) => [text(d[key]), pct(of(d[key]))])]),
      },
    });
  }

  async function load() {
    $("sessions-error").hidden = true;
    try {
      const r = await api(`/api/engage/sessions?days=${encodeURIComponent($("days").value)}`);
      const minutes = Number(r.gap_minutes);
      $("sessions-gap").textContent = `${Number.isInteger(minutes) ? minutes : minutes.toFixed(1)} minutes`;
      $("sessions-ongoing").textContent = r.ongoing === 0 ? "No session is going on now: every one below has ended."
        : r.ongoing === 1 ? "1 session is still going on and is not counted yet."
          : `${num(r.ongoing)} sessions are still going on and are not counted yet.`;
      const any = r.by_day.length > 0;
      $("sessions-empty").hidden = any;
      $("sessions").hidden = !any;
      if (!any) return;
      totals(r);
      chart(r);
    } catch (err) {
      $("sessions-error").textContent = `Could not load the sessions: ${err.message}`;
      $("sessions-error").hidden = false;
    }
  }

  $("days").addEventListener("change", load);
  load();
})();

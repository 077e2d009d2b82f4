// Invitations page, the results (/api/engage/results): the invited against the held out as rates and their
// difference in points, a funnel per group (picked → shown → accepted → contacted → ordered), the abandon
// rate per day (invited beside held out) and the figures per offer. Charts by charts.js, each with its table.
"use strict";

(function () {
  const { el, api, num, pct, uplift } = window.Planner;
  const { bar, funnel, COLORS } = window.Charts;
  const $ = (id) => document.getElementById(id);
  const dayFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  const OFFERS = [["chat", "Chat now"], ["callback", "Call back"], ["articles", "Help articles"]];
  const rate = (n, of) => (of > 0 ? n / of : null);
  // "25.0 % (1 of 4)": the rate first, each part kept on one line.
  const share = (n, of) => (of > 0
    ? [el("span", { class: "rate" }, pct(n / of)), " ", el("span", { class: "muted count" }, `(${num(n)} of ${num(of)})`)] : "—");

  // Contacted, ordered, abandoned: each group's rate and the difference (invited minus held out) in points.
  function upliftTable(r) {
    const inv = r.invited, held = r.held_out;
    const lines = [
      ["contacted", "Contacted us (chat, call, email…)", true],
      ["ordered", "Ordered", true],
      ["abandoned", "Left without a contact or an order", false],
    ];
    $("uplift").querySelector("tbody").replaceChildren(...lines.map(([key, label, higherIsBetter]) => {
      const a = rate(inv[key], inv.invitations), b = rate(held[key], held.invitations);
      const diff = a !== null && b !== null ? a - b : null;
      const cell = el("td", { class: "num uplift" }, uplift(diff));
      if (diff !== null && diff !== 0) cell.dataset.sign = (diff > 0) === higherIsBetter ? "up" : "down";
      if (b === null) cell.title = "Nobody was held out in this period, so there is nothing to compare with.";
      return el("tr", { "data-key": key }, el("th", { scope: "row" }, label),
        el("td", { class: "num" }, share(inv[key], inv.invitations)),
        el("td", { class: "num" }, share(held[key], held.invitations)), cell);
    }));
  }

  function funnels(r) {
    const groups = [
      { key: "invited", title: "Invited", g: r.invited },
      { key: "held_out", title: "Held out (shown nothing)", g: r.held_out },
    ];
    const boxes = groups.map((g) => el("div", { class: "funnel", "data-group": g.key }));
    $("funnel").replaceChildren(...boxes);
    groups.forEach(({ key, title, g }, i) => {
      const never = key === "held_out";
      const stages = [
        { key: "picked", label: "Picked by a rule", value: g.invitations },
        never ? { key: "shown", label: "Shown", value: null, note: "never shown" } : { key: "shown", label: "Shown", value: g.shown },
        never ? { key: "accepted", label: "Accepted", value: null, note: "never shown" } : { key: "accepted", label: "Accepted", value: g.accepted },
        { key: "contacted", label: "Contacted us", value: g.contacted },
        { key: "ordered", label: "Ordered", value: g.ordered },
      ];
      funnel(boxes[i], { title, stages, head: ["Stage", "Visitors", "Share of those picked"],
        colors: [COLORS.slate, COLORS.sky, COLORS.brand, COLORS.violet, COLORS.green] });
    });
  }

  // Every day from the first with an invitation to the last, a day without any shown as a gap.
  function days(byDay) {
    if (!byDay.length) return [];
    const found = new Map(byDay.map((d) => [d.day, d]));
    const out = [];
    const last = Date.parse(`${byDay[byDay.length - 1].day}T00:00:00Z`);
    for (let t = Date.parse(`${byDay[0].day}T00:00:00Z`); t <= last; t += 86_400_000) {
      const key = new Date(t).toISOString().slice(0, 10);
      out.push(found.get(key) || { day: key, invited: null, held_out: null });
    }
    return out;
  }

  function abandonChart(r) {
    const list = days(r.by_day);
    const labels = list.map((d) => dayFmt.format(new Date(`${d.day}T00:00:00Z`)));
    const of = (g) => (g && g.invitations ? g.abandoned / g.invitations : null);
    const text = (g) => (g && g.invitations ? `${num(g.abandoned)} of ${num(g.invitations)}` : "—");
    bar($("abandon-chart"), {
      title: "Abandon rate per day, invited and held out",
      labels,
      format: (v) => (typeof v === "number" && isFinite(v) ? `${Math.round(v * 100)} %` : "—"),
      max: 1,
      height: 240,
      series: [
        { key: "invited", label: "Invited", color: COLORS.brand, values: list.map((d) => of(d.invited)) },
        { key: "held_out", label: "Held out", color: COLORS.slate, values: list.map((d) => of(d.held_out)) },
      ],
      table: {
        head: ["Day", "Invited: abandoned", "Invited: abandon rate", "Held out: abandoned", "Held out: abandon rate"],
        rows: list.map((d, i) => [labels[i], text(d.invited), pct(of(d.invited)), text(d.held_out), pct(of(d.held_out))]),
      },
    });
  }

  function offerTable(r) {
    const line = (label, key, g, shown) => el("tr", { "data-offer": key }, el("th", { scope: "row" }, label),
      ...[g.invitations, shown ? g.accepted : null, shown ? g.dismissed : null, g.contacted, g.ordered, g.abandoned]
        .map((v) => el("td", { class: "num" }, v === null ? "—" : num(v))),
      el("td", { class: "num" }, pct(rate(g.abandoned, g.invitations))));
    const none = { invitations: 0, shown: 0, accepted: 0, dismissed: 0, contacted: 0, ordered: 0, abandoned: 0 };
    $("by-offer").querySelector("tbody").replaceChildren(
      ...OFFERS.map(([key, label]) => line(label, key, r.by_offer[key] || none, true)),
      line("Held out (shown nothing)", "held_out", r.held_out, false));
  }

  async function load() {
    $("results-error").hidden = true;
    try {
      const r = await api(`/api/engage/results?days=${encodeURIComponent($("days").value)}`);
      const any = r.invited.invitations + r.held_out.invitations > 0;
      $("results-empty").hidden = any;
      $("results").hidden = !any;
      if (!any) return;
      upliftTable(r);
      funnels(r);
      abandonChart(r);
      offerTable(r);
    } catch (err) {
      $("results-error").textContent = `Could not load the results: ${err.message}`;
      $("results-error").hidden = false;
    }
  }

  $("days").addEventListener("change", load);
  load();
})();

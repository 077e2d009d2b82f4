// Every chart of the staff pages, drawn with Chart.js (npm `chart.js`, served by the app at /vendor/chart.js;
// decision 51): bars (grouped or stacked, upright or horizontal), lines over a linear axis, and a funnel as
// horizontal bars. One look everywhere: the house colours, the page's font, no animation. Each chart is a
// <figure> whose canvas has role="img" and an aria-label, followed by its figures as a visually hidden
// table (screen readers and tests read the numbers there). Data goes in with textContent, never innerHTML.
"use strict";

window.Charts = (function () {
  const Chart = window.Chart;
  const COLORS = {
    brand: "#2563eb", sky: "#60a5fa", slate: "#94a3b8", amber: "#f59e0b", green: "#059669", violet: "#7a5af8",
    text: "#1b2430", muted: "#64707f", grid: "#eef2f7", line: "#e2e6ec",
  };
  // Value tiers, lowest first (analytics/tiers.py TIERS).
  const TIERS = { bronze: "#c2783c", silver: "#94a3b8", gold: "#e0a400", platinum: "#4f46e5" };

  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.color = COLORS.muted;
  Chart.defaults.borderColor = COLORS.grid;
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily || "system-ui, sans-serif";
  Chart.defaults.font.size = 12;
  Chart.defaults.plugins.legend.labels.boxWidth = 10;
  Chart.defaults.plugins.legend.labels.boxHeight = 10;
  Chart.defaults.plugins.legend.labels.color = "#3b4656";

  const intFmt = new Intl.NumberFormat("en-GB");
  const num = (v) => (typeof v === "number" && isFinite(v) ? intFmt.format(v) : "—");
  const charts = new WeakMap(); // host -> its Chart, destroyed before the host is drawn again

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    for (const c of children) if (c !== null && c !== undefined) node.append(typeof c === "string" ? document.createTextNode(c) : c);
    return node;
  }

  // The figures as a table: head is the column names, rows are arrays of text (the first cell a row header).
  function figuresTable(title, head, rows) {
    // In a visually hidden box: a table itself does not shrink to .sr-only's 1px and would widen the page.
    return el("div", { class: "sr-only chart-figures" }, el("table", null,
      el("caption", null, title),
      el("thead", null, el("tr", null, ...head.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", null, ...rows.map((r) => el("tr", null,
        el("th", { scope: "row" }, String(r[0])), ...r.slice(1).map((c) => el("td", null, String(c))))))));
  }

  // A value at the end of each bar (Chart.js draws none itself): "12", or what `text(value, index, dataset)`
  // returns; a bar with no value gets the dataset's `notes[index]` ("never shown") instead.
  const barValues = {
    id: "ccBarValues",
    afterDatasetsDraw(chart, _args, opts) {
      if (!opts || !opts.show) return;
      const { ctx } = chart;
      const horizontal = chart.options.indexAxis === "y";
      ctx.save();
      ctx.font = `11px ${Chart.defaults.font.family}`;
      chart.data.datasets.forEach((ds, di) => {
        const meta = chart.getDatasetMeta(di);
        if (meta.hidden) return;
        meta.data.forEach((bar, i) => {
          const v = ds.data[i];
          const text = v === null || v === undefined ? (ds.notes && ds.notes[i]) || ""
            : v === 0 && opts.hideZero ? "" : opts.text ? opts.text(v, i, ds) : num(v);
          if (!text) return;
          const { x, y, base } = bar.getProps(["x", "y", "base"], true);
          ctx.fillStyle = COLORS.text;
          if (horizontal) {
            ctx.textAlign = "left";
            ctx.textBaseline = "middle";
            ctx.fillText(text, (v === null || v === undefined ? base : x) + 6, y);
          } else {
            ctx.textAlign = "center";
            ctx.textBaseline = "bottom";
            ctx.fillText(text, x, y - 3);
          }
        });
      });
      ctx.restore();
    },
  };

  // Draws into `host` (its children replaced): a figure with the canvas and the figures' table.
  function mount(host, kind, title, height, config, table) {
    const old = charts.get(host);
    if (old) old.destroy();
    const canvas = el("canvas", { role: "img", "aria-label": title });
    canvas.textContent = title; // fallback content for a browser without canvas
    const box = el("div", { class: "chart-box" }, canvas);
    box.style.height = `${height}px`; // CSSOM, not a style attribute: fine under the pages' CSP
    const figure = el("figure", { class: "chart", "data-chart": kind }, box, table);
    host.replaceChildren(figure);
    const chart = new Chart(canvas, config);
    charts.set(host, chart);
    figure.dataset.ready = "true";
    return { chart, figure, canvas, table };
  }

  const short = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
  // At most two lines of about n characters, broken between words; the rest cut with "…".
  function wrap(s, n) {
    if (s.length <= n) return s;
    const cut = s.lastIndexOf(" ", n);
    const at = cut > n / 2 ? cut : n;
    return [s.slice(0, at).trim(), short(s.slice(at).trim(), n)];
  }

  // labels: category names; series: [{key, label, color, values}]. Options: horizontal, stacked, format
  // (a value as text, for the table, the tooltips and the bar ends), valueLabels (draw them), height,
  // table ({head, rows}: other figures than the series' values), axisTitle.
  function bar(host, { title, labels, series, horizontal = false, stacked = false, format = num, valueLabels = false,
    height, table, axisTitle, max } = {}) {
    // "A → B" labels go on two lines (Chart.js gives the axis at most a share of the width).
    const split = (l) => { const i = l.indexOf(" → "); return i < 0 ? wrap(l, 32) : [short(l.slice(0, i), 30) + " →", short(l.slice(i + 3), 30)]; };
    const two = labels.some((l) => String(l).includes(" → "));
    const per = horizontal ? Math.max(two ? 34 : 22, series.length * (stacked ? 22 : 13) + 10) : 0;
    const h = height || (horizontal ? 40 + labels.length * per : 260);
    const valueAxis = { beginAtZero: true, stacked, max, grid: { color: COLORS.grid },
      ticks: { precision: format === num ? 0 : undefined, callback: (v) => format(v) }, title: { display: !!axisTitle, text: axisTitle || "" } };
    const catAxis = { stacked, grid: { display: false },
      ticks: { color: COLORS.text, autoSkip: false, callback(v) { return split(String(this.getLabelForValue(v))); } } };
    const config = {
      type: "bar",
      data: {
        labels,
        datasets: series.map((s) => ({
          label: s.label, data: s.values, backgroundColor: s.color, borderRadius: 2, notes: s.notes,
          maxBarThickness: horizontal ? 14 : 48, categoryPercentage: 0.8, barPercentage: 0.9,
        })),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        layout: { padding: { right: valueLabels && horizontal ? 64 : 8, top: valueLabels && !horizontal ? 16 : 0 } },
        scales: horizontal ? { x: valueAxis, y: catAxis } : { x: catAxis, y: valueAxis },
        plugins: {
          legend: { display: series.length > 1, position: "top", align: "start" },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${format(c.raw)}` } },
          ccBarValues: { show: valueLabels, hideZero: series.length > 1, text: (v) => format(v) },
        },
      },
      plugins: [barValues],
    };
    const t = table || { head: ["", ...series.map((s) => s.label)], rows: labels.map((l, i) => [l, ...series.map((s) => format(s.values[i]))]) };
    return mount(host, stacked ? "stacked-bar" : "bar", title, h, config, figuresTable(title, t.head, t.rows));
  }

  // One line (or a few) over a linear x axis: series [{key, label, color, points: [{x, y}]}], area filled
  // under the first. x: {min, max, format}; y: {suggestedMax}. `summary` is the figures as text (a line's
  // points are too many for a table); update(spec) redraws in place (the wallboard's live chart).
  function line(host, spec) {
    const config = {
      type: "line",
      data: { datasets: spec.series.map((s, i) => ({
        label: s.label, data: s.points, borderColor: s.color || COLORS.brand, borderWidth: 2, pointRadius: 0,
        stepped: s.stepped || false, fill: i === 0 ? "origin" : false, backgroundColor: "rgba(37,99,235,.10)",
      })) },
      options: {
        parsing: false,
        scales: {
          x: { type: "linear", min: spec.x.min, max: spec.x.max, grid: { display: false },
            ticks: { stepSize: spec.x.step, maxTicksLimit: 11, callback: (v) => (spec.x.format ? spec.x.format(v) : num(v)) } },
          y: { beginAtZero: true, suggestedMax: spec.y && spec.y.suggestedMax, ticks: { precision: 0, maxTicksLimit: 4 } },
        },
        plugins: { legend: { display: spec.series.length > 1 }, tooltip: { enabled: false } },
      },
    };
    const summary = el("p", { class: "sr-only chart-figures" }, spec.summary || "");
    const handle = mount(host, "line", spec.title, spec.height || 140, config, summary);
    handle.update = (next) => {
      const c = handle.chart;
      next.series.forEach((s, i) => { c.data.datasets[i].data = s.points; });
      c.options.scales.x.min = next.x.min;
      c.options.scales.x.max = next.x.max;
      c.options.scales.x.ticks.stepSize = next.x.step;
      c.options.scales.y.suggestedMax = next.y && next.y.suggestedMax;
      c.update("none");
      summary.textContent = next.summary || "";
    };
    return handle;
  }

  // A funnel as horizontal bars: stages [{key, label, value, note}] (a stage with value null shows its
  // note, "never shown"), each bar's end saying its count and its share of the first stage. `head`: the
  // figures table's column names (what is counted, and what the first stage is).
  function funnel(host, { title, stages, colors = [COLORS.slate, COLORS.sky, COLORS.brand, COLORS.green], height,
    head = ["Stage", "Customers", "Share of the list"] } = {}) {
    const base = Math.max(1, stages[0].value || 0);
    const share = (v, i) => (i === 0 ? num(v) : `${num(v)} · ${Math.round((100 * v) / base)} %`);
    const config = {
      type: "bar",
      data: {
        labels: stages.map((s) => s.label),
        datasets: [{ label: title, data: stages.map((s) => s.value), notes: stages.map((s) => s.note || ""),
          backgroundColor: stages.map((_, i) => colors[i % colors.length]), borderRadius: 3, categoryPercentage: 0.86, barPercentage: 1 }],
      },
      options: {
        indexAxis: "y",
        layout: { padding: { right: 84 } },
        scales: {
          x: { beginAtZero: true, max: base, display: false },
          y: { grid: { display: false }, ticks: { color: COLORS.text } },
        },
        plugins: {
          legend: { display: false },
          title: { display: true, text: title, color: COLORS.text, font: { weight: "600", size: 13 } },
          tooltip: { callbacks: { label: (c) => share(c.raw, c.dataIndex) } },
          ccBarValues: { show: true, text: (v, i) => share(v, i) },
        },
      },
      plugins: [barValues],
    };
    const rows = stages.map((s, i) => [s.label, s.value === null || s.value === undefined ? s.note || "—" : num(s.value),
      s.value === null || s.value === undefined ? "—" : i === 0 ? "100 %" : `${Math.round((100 * s.value) / base)} %`]);
    const handle = mount(host, "funnel", title, height || 48 + stages.length * 40, config,
      figuresTable(title, head, rows));
    stages.forEach((s) => { handle.figure.dataset[`stage${s.key[0].toUpperCase()}${s.key.slice(1)}`] = s.value === null || s.value === undefined ? "" : String(s.value); });
    return handle;
  }

  // Empties `host`, its chart destroyed (a panel that has nothing to show any more).
  function clear(host) {
    const old = charts.get(host);
    if (old) old.destroy();
    charts.delete(host);
    host.replaceChildren();
  }

  return { bar, line, funnel, clear, COLORS, TIERS, num };
})();

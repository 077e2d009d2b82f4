// The campaign funnel, drawn as SVG (no charting library in the project yet): one funnel per group,
// treated beside held out, each stage's bar as wide as its share of the group's list.
"use strict";

window.Funnel = (function () {
  const { svg, num } = window.Planner;
  const W = 360, BAR = 34, GAP = 16, TOP = 30, LABEL = 118;
  const COLORS = ["#94a3b8", "#60a5fa", "#2563eb", "#059669"];

  function one(group, title, x, stages) {
    const g = svg("g", { class: "funnel", transform: `translate(${x},0)`, "data-group": group.key });
    g.append(svg("text", { x: LABEL + (W - LABEL) / 2, y: 16, "text-anchor": "middle", class: "chart-label funnel-title" }, title));
    const full = W - LABEL - 8;
    const base = Math.max(group.figures.targeted, 1);
    let prev = null, prevBottom = 0;
    stages.forEach((st, i) => {
      const v = group.figures[st.key];
      const y = TOP + i * (BAR + GAP);
      const w = st.none ? 0 : Math.max(2, (full * v) / base);
      const cx = LABEL + full / 2;
      if (prev !== null && !st.none) {  // the funnel's neck from the bar above
        g.append(svg("polygon", {
          class: "funnel-neck",
          points: `${cx - prev / 2},${prevBottom} ${cx + prev / 2},${prevBottom} ${cx + w / 2},${y} ${cx - w / 2},${y}`,
        }));
      }
      g.append(svg("text", { x: 0, y: y + BAR / 2 + 4, class: "chart-label" }, st.label));
      if (st.none) {
        prev = null;  // no neck across a stage the group never had
        g.append(svg("text", { x: cx, y: y + BAR / 2 + 4, "text-anchor": "middle", class: "chart-value muted" }, st.none));
      } else {
        const rect = svg("rect", { x: cx - w / 2, y, width: w, height: BAR, rx: 3, fill: COLORS[i], "data-stage": st.key,
          "data-value": v });
        rect.append(svg("title", {}, `${title}: ${st.label} ${num(v)}`));
        g.append(rect);
        const share = i === 0 ? "" : ` · ${group.figures.targeted ? Math.round((100 * v) / group.figures.targeted) : 0} %`;
        // On a bar too narrow for it, the figure goes to the bar's right in dark text.
        const inside = w >= 70;
        g.append(svg("text", {
          x: inside ? cx : cx + w / 2 + 6, y: y + BAR / 2 + 4, "text-anchor": inside ? "middle" : "start",
          class: inside ? "chart-value funnel-value" : "chart-value funnel-value-out",
        }, `${num(v)}${share}`));
        prev = w;
        prevBottom = y + BAR;
      }
    });
    return g;
  }

  // results: the API's ResultsOut. Returns a <div> with one <svg> per group (side by side, stacked when
  // narrow), each with a text summary for screen readers.
  function draw(results) {
    const stages = [
      { key: "targeted", label: "On the list" },
      { key: "contacted", label: "Contacted" },
      { key: "accepted", label: "Accepted" },
      { key: "converted", label: "Converted" },
    ];
    const held = stages.map((s) => (s.key === "accepted" ? { ...s, none: "never shown" } : s));
    const h = TOP + stages.length * (BAR + GAP);
    const t = results.treated, o = results.holdout;
    const labels = [
      `Offered: ${t.targeted} on the list, ${t.contacted} contacted, ${t.accepted} accepted, ${t.converted} converted.`,
      `Held out: ${o.targeted} on the list, ${o.contacted} contacted, ${o.converted} converted.`,
    ];
    const root = document.createElement("div");
    root.className = "funnels";
    [[{ key: "treated", figures: t }, "Offered the campaign", stages], [{ key: "holdout", figures: o }, "Held out", held]]
      .forEach(([group, title, st], i) => {
        const chart = svg("svg", { viewBox: `0 0 ${W} ${h}`, class: "chart funnel-chart", role: "img", "aria-label": labels[i] });
        chart.append(one(group, title, 0, st));
        root.append(chart);
      });
    return root;
  }

  return { draw };
})();

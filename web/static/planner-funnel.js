// The campaign funnel (drawn by charts.js): one funnel per group, offered beside held out, each stage a
// horizontal bar as long as its share of the group's list. The hold-out is never shown the offer, so its
// "Accepted" stage says so instead of a bar.
"use strict";

window.Funnel = (function () {
  const STAGES = [
    { key: "targeted", label: "On the list" },
    { key: "contacted", label: "Contacted" },
    { key: "accepted", label: "Accepted" },
    { key: "converted", label: "Converted" },
  ];

  // host: the funnels' container; results: the API's ResultsOut.
  function draw(host, results) {
    const groups = [
      { key: "treated", title: "Offered the campaign", figures: results.treated },
      { key: "holdout", title: "Held out", figures: results.holdout },
    ];
    const boxes = groups.map((g) => {
      const box = document.createElement("div");
      box.className = "funnel";
      box.dataset.group = g.key;
      return box;
    });
    host.replaceChildren(...boxes);
    groups.forEach((g, i) => {
      const stages = STAGES.map((s) => (g.key === "holdout" && s.key === "accepted"
        ? { ...s, value: null, note: "never shown" } : { ...s, value: g.figures[s.key] }));
      window.Charts.funnel(boxes[i], { title: g.title, stages });
    });
  }

  return { draw };
})();

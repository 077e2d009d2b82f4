// One campaign: what it targets, start / stop / restart, its funnel per group, its written target list; the
// edit form and the history are planner-campaign-edit.js.
"use strict";

(function () {
  const { el, api, num, pct, uplift, date } = window.Planner;
  const $ = (id) => document.getElementById(id);
  const id = $("campaign").dataset.campaignId;
  const base = `/api/campaigns/${encodeURIComponent(id)}`;
  const STATUS = { draft: "Draft", running: "Running", stopped: "Stopped" };
  const VIA = { either: "next products or holdings", ptc: "next products", ptp: "products held" };
  let lastTarget = 0;
  let current = null;

  function fail(err) {
    $("campaign-status").textContent = "";
    $("campaign-error").textContent = err.message;
    $("campaign-error").hidden = false;
  }

  function who(t) {
    const parts = [];
    if (t.tiers.length) parts.push(`tier ${t.tiers.join(" or ")}`);
    if (t.segments.length) parts.push(`segment ${t.segments.join(" or ").replace("_", " ")}`);
    if (t.product) parts.push(`likely to want ${t.product} (from ${VIA[t.product_via]})`);
    if (t.min_attrition_risk !== null) parts.push(`attrition risk ${pct(t.min_attrition_risk)} or more`);
    if (t.consented_only) parts.push("agreed to marketing");
    if (t.exclude_owners) parts.push("not holding the product yet");
    return parts.length ? parts.join("; ") : "every customer";
  }

  function show(c) {
    document.title = `${c.name} · Contact Center`;
    $("campaign-title").textContent = c.name;
    $("campaign-summary").textContent = `${c.id} · by ${c.created_by} · ${date(c.created_at, true)}`;
    $("campaign-state").textContent = STATUS[c.status] || c.status;
    $("campaign-state").dataset.status = c.status;
    $("start-btn").hidden = c.status !== "draft";
    $("stop-btn").hidden = c.status !== "running";
    $("restart-btn").hidden = c.status !== "stopped";
    const facts = [
      ["Who", who(c.target)],
      ["Offers", c.product_sku],
      ["Script", c.script_id],
      ["Period", `${date(c.starts_on)} – ${date(c.ends_on)}`],
      ["Priority", `${c.priority} (of 0–100: a customer on several campaigns is offered the highest first)`],
      ["Hold-out", `${c.holdout_pct} % of the list, never offered it`],
      ["On the list", c.target_size === null ? "written when the campaign starts" : num(c.target_size)],
    ];
    $("campaign-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", null, k), el("dd", null, v)]));
    $("campaign-facts").hidden = false;
    $("campaign-status").textContent = c.status === "running" && c.started_at ? `Running since ${date(c.started_at, true)}` :
      c.status === "stopped" ? `Stopped ${date(c.stopped_at, true)}` : "A draft: nobody is offered it until it starts.";
  }

  // A restart says when, and how many it added (from the history).
  function restarted(events) {
    const last = events.filter((e) => e.action === "restarted").pop();
    const c = current;
    if (c && c.status === "running" && last) {
      $("campaign-status").textContent = `Running since ${date(c.started_at, true)}; restarted ${date(last.at, true)} ` +
        `by ${last.by} (${num(last.detail.added)} added)`;
    }
  }

  function groupRow(name, g) {
    return el("tr", { "data-group": name === "Offered" ? "treated" : "holdout" },
      el("th", { scope: "row" }, name), el("td", { class: "num" }, num(g.targeted)),
      el("td", { class: "num" }, num(g.contacted)), el("td", { class: "num" }, name === "Offered" ? num(g.accepted) : "—"),
      el("td", { class: "num" }, num(g.converted)), el("td", { class: "num" }, pct(g.conversion_rate)),
      el("td", { class: "num" }, `${num(g.ordered)} (${pct(g.order_rate)})`));
  }

  async function results(c) {
    if (c.status === "draft") return;
    const r = await api(`${base}/results`);
    window.Funnel.draw($("funnel"), r);
    $("results").querySelector("tbody").replaceChildren(groupRow("Offered", r.treated), groupRow("Held out", r.holdout));
    $("uplift").textContent = r.uplift === null
      ? "No uplift yet: it needs contacted customers in both groups."
      : `Uplift against the hold-out: ${uplift(r.uplift)} in conversion of contacted customers` +
        (r.order_uplift === null ? "." : `, ${uplift(r.order_uplift)} in orders of everyone on the list.`);
    $("results-note").textContent = "Contacted on any channel while the campaign ran; converted at wrap-up or by an order. " +
      "A restart keeps every figure.";
    $("results-panel").hidden = false;
  }

  async function targets(more) {
    const { targets: rows } = await api(`${base}/targets?after=${more ? lastTarget : 0}&limit=50`);
    const body = $("targets").querySelector("tbody");
    const trs = rows.map((t) => el("tr", null,
      el("td", null, el("a", { href: `/staff/customers/${t.customer_id}` }, t.name)),
      el("td", null, t.held_out ? "Held out" : "Offered")));
    if (more) body.append(...trs); else body.replaceChildren(...trs);
    if (rows.length) lastTarget = rows[rows.length - 1].customer_id;
    $("more-btn").hidden = rows.length < 50;
    $("targets-panel").hidden = false;
  }

  async function load() {
    try {
      const c = await api(base);
      current = c;
      show(c);
      await window.CampaignEdit.show(c);
      restarted(await window.CampaignEdit.history(c));
      await results(c);
      if (c.status !== "draft") await targets(false);
    } catch (err) {
      fail(err);
    }
  }

  async function act(what, button) {
    button.disabled = true;
    $("campaign-error").hidden = true;
    try {
      await api(`${base}/${what}`, { method: "POST" });
      await load();
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  }

  $("start-btn").addEventListener("click", (ev) => act("start", ev.currentTarget));
  $("stop-btn").addEventListener("click", (ev) => {
    if (window.confirm("Stop the campaign? Agents will no longer be shown it; its results stay.")) act("stop", ev.currentTarget);
  });
  $("restart-btn").addEventListener("click", (ev) => {
    const ask = "Restart the campaign? Everyone on its list stays, in the same group, with their results; " +
      "customers its target takes now are added.";
    if (window.confirm(ask)) act("restart", ev.currentTarget);
  });
  $("more-btn").addEventListener("click", () => targets(true).catch(fail));
  window.CampaignEdit.bind(load);
  load();
})();

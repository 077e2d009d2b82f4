// The campaign page's edit form and history. A draft changes freely; a running campaign its name, script,
// end date and priority (who it targets needs a stop); a stopped one those and its target, applied to the
// customers a restart adds.
"use strict";

window.CampaignEdit = (function () {
  const { el, api, num, date } = window.Planner;
  const $ = (id) => document.getElementById(id);
  const form = $("edit-form");
  const FIELDS = {
    name: "the name", script_id: "the script", ends_on: "the end date", priority: "the priority",
    target: "who it targets", product_sku: "the product", starts_on: "the start date", holdout_pct: "the hold-out",
  };
  const NOTE = {
    draft: "A draft: nothing is offered yet. Once it starts, the product, the start date and the hold-out are fixed.",
    running: "Running: the name, script, end date and priority change at once. Who it targets can't change while " +
      "it runs (its list is written): stop it, change the target, then restart it. Customers already on the " +
      "list stay, with their results.",
    stopped: "Stopped: a new target applies when it restarts. Customers who match then are added; those already " +
      "on the list stay, in the same group, with their results.",
  };
  let current = null;
  let choices = null;

  async function loadChoices() {
    if (!choices) {
      choices = Promise.all([api("/api/products"), api("/api/scripts")]).then(([products, scripts]) => {
        $("c-likely").append(...products.map((p) => el("option", { value: p.sku }, `${p.name} (${p.sku})`)));
        $("e-script").append(...scripts.scripts.map((s) => el("option", { value: s.id }, s.title || s.id)));
      });
    }
    return choices;
  }

  async function show(c) {
    current = c;
    await loadChoices();
    const f = form.elements;
    f.name.value = c.name;
    f.script_id.value = c.script_id;
    f.ends_on.value = c.ends_on;
    f.priority.value = String(c.priority);
    window.CampaignCriteria.fill(form, c.target);
    window.CampaignCriteria.lock(form, c.status === "running");
    $("criteria-note").textContent = NOTE[c.status] || "";
    $("edit-note").textContent = c.status === "running" ? "Changes reach agents with the next contact." : "";
    $("edit-error").hidden = true;
    $("edit-panel").hidden = false;
  }

  function body() {
    const f = form.elements;
    return {
      id: current.id, name: f.name.value.trim(), script_id: f.script_id.value, ends_on: f.ends_on.value,
      priority: f.priority.value === "" ? null : Number(f.priority.value),
      target: current.status === "running" ? current.target : window.CampaignCriteria.read(form),
      product_sku: current.product_sku, starts_on: current.starts_on, holdout_pct: current.holdout_pct,
    };
  }

  function bind(reload) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("edit-error").hidden = true;
      $("save-btn").disabled = true;
      $("edit-status").textContent = "Saving…";
      try {
        await api(`/api/campaigns/${encodeURIComponent(current.id)}`, { method: "PUT", json: body() });
        await reload();
        $("edit-status").textContent = "Saved.";
      } catch (err) {
        $("edit-status").textContent = "";
        const fields = err.body && Array.isArray(err.body.detail);
        $("edit-error").textContent = (fields ? "Please check the form: " : "") + err.message;
        $("edit-error").hidden = false;
      } finally {
        $("save-btn").disabled = false;
      }
    });
  }

  function said(e) {
    const d = e.detail || {};
    if (e.action === "created") return "created it";
    if (e.action === "stopped") return "stopped it";
    if (e.action === "started") return `started it: ${num(d.size)} on the list`;
    if (e.action === "restarted") return `restarted it: ${num(d.added)} added, ${num(d.size)} on the list`;
    const what = (d.changed || []).map((k) => FIELDS[k] || k);
    return `changed ${what.join(", ") || "it"}`;
  }

  async function history(c) {
    const { events } = await api(`/api/campaigns/${encodeURIComponent(c.id)}/history`);
    $("history").replaceChildren(...events.map((e) => el("li", { "data-action": e.action },
      el("time", { datetime: e.at }, date(e.at, true)), " · ", el("strong", null, e.by), ` ${said(e)}`)));
    $("history-panel").hidden = events.length === 0;
    return events;
  }

  return { show, bind, history };
})();

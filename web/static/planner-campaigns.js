// Campaigns list (with each one's priority) and the new-campaign form: the planner picks criteria, previews
// the list, saves a draft.
"use strict";

(function () {
  const { el, api, num, pct, date } = window.Planner;
  const $ = (id) => document.getElementById(id);
  const form = $("new-form");
  const STATUS = { draft: "Draft", running: "Running", stopped: "Stopped" };

  function campaignRow(c) {
    const href = `/staff/planner/campaigns/${encodeURIComponent(c.id)}`;
    return el(
      "tr",
      { "data-campaign-id": c.id },
      el("td", { class: "name-cell" }, el("a", { href, class: "campaign-link" }, c.name),
        el("span", { class: "muted small" }, c.id)),
      el("td", null, el("span", { class: "badge state", "data-status": c.status }, STATUS[c.status] || c.status)),
      el("td", null, el("code", null, c.product_sku)),
      el("td", null, `${date(c.starts_on)} – ${date(c.ends_on)}`),
      el("td", { class: "num priority" }, String(c.priority)),
      el("td", { class: "num" }, `${c.holdout_pct} %`),
      el("td", { class: "num size" }, c.target_size === null ? "not started" : num(c.target_size)),
    );
  }

  async function loadList() {
    try {
      const { campaigns } = await api("/api/campaigns");
      $("campaigns-status").textContent = campaigns.length === 1 ? "1 campaign" : `${campaigns.length} campaigns`;
      $("campaigns-empty").hidden = campaigns.length > 0;
      $("campaigns").hidden = campaigns.length === 0;
      $("campaigns").querySelector("tbody").replaceChildren(...campaigns.map(campaignRow));
    } catch (err) {
      $("campaigns-status").textContent = "";
      $("campaigns-error").textContent = err.message;
      $("campaigns-error").hidden = false;
    }
  }

  async function loadChoices() {
    const [products, scripts] = await Promise.all([api("/api/products"), api("/api/scripts")]);
    const opts = products.map((p) => el("option", { value: p.sku }, `${p.name} (${p.sku})`));
    $("c-likely").append(...opts.map((o) => o.cloneNode(true)));
    $("c-product").append(...opts);
    $("c-script").append(...scripts.scripts.map((s) => el("option", { value: s.id }, s.title || s.id)));
    const today = new Date();
    const later = new Date(today.getTime() + 30 * 86400000);
    $("c-start").value = today.toISOString().slice(0, 10);
    $("c-end").value = later.toISOString().slice(0, 10);
  }

  function campaignBody() {
    const f = form.elements;
    return {
      id: f.id.value.trim(), name: f.name.value.trim(), target: window.CampaignCriteria.read(form),
      product_sku: f.product_sku.value, script_id: f.script_id.value, starts_on: f.starts_on.value,
      ends_on: f.ends_on.value, holdout_pct: Number(f.holdout_pct.value),
      priority: f.priority.value === "" ? null : Number(f.priority.value),
    };
  }

  function showError(err) {
    const fields = err.body && Array.isArray(err.body.detail);
    $("form-error").textContent = (fields ? "Please check the form: " : "") + err.message;
    $("form-error").hidden = false;
  }

  async function preview() {
    $("form-error").hidden = true;
    const b = campaignBody();
    const body = { target: b.target, product_sku: b.product_sku, holdout_pct: b.holdout_pct };
    if (/^[a-z0-9][a-z0-9-]*$/.test(b.id)) body.id = b.id;
    $("form-status").textContent = "Counting…";
    try {
      const p = await api("/api/campaigns/preview", { method: "POST", json: body });
      $("preview-size").textContent = p.size === 1 ? "1 customer on the list" : `${num(p.size)} customers on the list`;
      $("preview-split").textContent = p.size ? `· ${num(p.treated)} offered, ${num(p.held_out)} held out` +
        (p.size > p.sample.length ? ` · the first ${p.sample.length} below` : "") : "· nobody matches these choices";
      $("preview").querySelector("tbody").replaceChildren(...p.sample.map((r) => el("tr", null,
        el("td", null, el("a", { href: `/staff/customers/${r.customer_id}` }, r.name)),
        el("td", null, r.segment || "—"), el("td", null, r.tier || "—"),
        el("td", { class: "num" }, pct(r.attrition_risk)))));
      $("preview").hidden = false;
      $("form-status").textContent = "";
    } catch (err) {
      $("form-status").textContent = "";
      showError(err);
    }
  }

  async function save(ev) {
    ev.preventDefault();
    $("form-error").hidden = true;
    try {
      const c = await api("/api/campaigns", { method: "POST", json: campaignBody() });
      window.location.assign(`/staff/planner/campaigns/${encodeURIComponent(c.id)}`);
    } catch (err) {
      showError(err);
    }
  }

  // The short name follows the name until the planner types one.
  let idTouched = false;
  form.elements.id.addEventListener("input", () => { idTouched = true; });
  form.elements.name.addEventListener("input", () => {
    if (!idTouched) {
      form.elements.id.value = form.elements.name.value.toLowerCase().normalize("NFKD")
        .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48);
    }
  });
  $("preview-btn").addEventListener("click", preview);
  form.addEventListener("submit", save);
  loadList();
  loadChoices().catch(showError);
})();

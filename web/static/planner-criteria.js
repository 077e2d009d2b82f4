// A campaign's "who is it for" fieldset (_campaign_criteria.html) as the API's target, and back: the
// new-campaign form and the campaign page's edit form share it. The planner never sees JSON.
"use strict";

window.CampaignCriteria = (function () {
  function read(form) {
    const checked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
    const risk = form.elements.min_attrition_risk.value;
    return {
      tiers: checked("tiers"),
      segments: checked("segments"),
      product: form.elements.product.value || null,
      product_via: form.elements.product_via.value,
      min_attrition_risk: risk === "" ? null : Number(risk),
      consented_only: form.elements.consented_only.checked,
      exclude_owners: form.elements.exclude_owners.checked,
    };
  }

  function fill(form, t) {
    for (const name of ["tiers", "segments"]) {
      for (const box of form.querySelectorAll(`input[name=${name}]`)) box.checked = t[name].includes(box.value);
    }
    form.elements.product.value = t.product || "";
    form.elements.product_via.value = t.product_via;
    const risk = form.elements.min_attrition_risk;
    risk.value = t.min_attrition_risk === null ? "" : String(t.min_attrition_risk);
    if (risk.value === "" && t.min_attrition_risk !== null) {  // a value set through the API: keep it choosable
      risk.append(new Option(`${Math.round(t.min_attrition_risk * 100)} %`, String(t.min_attrition_risk)));
      risk.value = String(t.min_attrition_risk);
    }
    form.elements.consented_only.checked = t.consented_only;
    form.elements.exclude_owners.checked = t.exclude_owners;
  }

  // The criteria can change on a draft or a stopped campaign, not on a running one (its list was written).
  function lock(form, locked) {
    const set = form.querySelector("fieldset.criteria");
    if (set) set.disabled = locked;
  }

  return { read, fill, lock };
})();

// Invitations page, the rule table: the invitation rules in force (/api/engage/rules) as rows a planner edits,
// adds, removes and reorders (the first matching row wins), published as a new version with PUT. The
// server's refusals are shown under the row they concern; nothing is checked here that the server checks.
"use strict";

(function () {
  const { el, api, date } = window.Planner;
  const $ = (id) => document.getElementById(id);
  const tbody = $("invite-rules").querySelector("tbody");
  const form = $("rules-form");
  const COLS = 9;
  // Column names as the page shows them, for the server's messages ("min_seconds" means nothing to a planner).
  const LABELS = {
    enabled: "On", name: "Rule name", page: "Page address", min_seconds: "Seconds on the page",
    min_visits: "Visits to the page", cart_left: "Shopping cart", topic: "Topic", id: "Rule",
  };
  let loaded = null; // the rule set as the server last gave it

  function setDirty(dirty) {
    form.dataset.dirty = dirty ? "true" : "false";
    $("discard").hidden = !dirty;
    if (dirty) $("publish-status").textContent = "Changes not published yet.";
    $("publish-status").className = "status";
  }

  function renumber() {
    const rows = [...tbody.querySelectorAll("tr.rule-row")];
    rows.forEach((tr, i) => {
      const n = i + 1;
      tr.querySelector(".order-n").textContent = String(n);
      tr.querySelector(".up").disabled = i === 0;
      tr.querySelector(".down").disabled = i === rows.length - 1;
      for (const input of tr.querySelectorAll("[data-field]")) input.setAttribute("aria-label", `${LABELS[input.dataset.field]}, rule ${n}`);
      tr.querySelector(".up").setAttribute("aria-label", `Move rule ${n} up`);
      tr.querySelector(".down").setAttribute("aria-label", `Move rule ${n} down`);
      tr.querySelector(".remove").setAttribute("aria-label", `Remove rule ${n}`);
    });
    $("rules-empty").hidden = rows.length > 0;
  }

  function cell(label, ...children) {
    return el("td", { "data-label": label }, ...children);
  }

  function textInput(field, value, attrs) {
    return el("input", { type: "text", "data-field": field, value: value || "", ...attrs });
  }

  function numberInput(field, value) {
    return el("input", { type: "number", "data-field": field, inputmode: "numeric", step: "1", min: "1", class: "input-num",
      value: value === null || value === undefined ? "" : String(value) });
  }

  function row(rule) {
    const cart = el("select", { "data-field": "cart_left" },
      el("option", { value: "" }, "Not asked"),
      el("option", { value: "true" }, "Left unfinished"),
      el("option", { value: "false" }, "Not left"));
    cart.value = rule.cart_left === true ? "true" : rule.cart_left === false ? "false" : "";
    const on = el("input", { type: "checkbox", "data-field": "enabled" });
    on.checked = rule.enabled !== false;
    const tr = el("tr", { class: "rule-row", "data-rule-id": rule.id || "" },
      el("td", { class: "order-cell", "data-label": "Order" },
        el("span", { class: "order-n" }),
        el("button", { type: "button", class: "btn btn-small up" }, "↑"),
        el("button", { type: "button", class: "btn btn-small down" }, "↓")),
      cell("On", on),
      cell("Rule name", textInput("name", rule.name, { maxlength: "120", placeholder: "Name this rule" })),
      cell("Page address", textInput("page", rule.page, { maxlength: "200", placeholder: "any page", spellcheck: "false" })),
      cell("Seconds on the page", numberInput("min_seconds", rule.min_seconds)),
      cell("Visits to the page", numberInput("min_visits", rule.min_visits)),
      cell("Shopping cart", cart),
      cell("Topic", textInput("topic", rule.topic, { maxlength: "120", placeholder: "e.g. pricing" })),
      el("td", { class: "remove-cell" }, el("button", { type: "button", class: "btn btn-small remove" }, "Remove")));
    return tr;
  }

  function render(set) {
    loaded = set;
    tbody.replaceChildren(...set.rules.map(row));
    renumber();
    $("publish-error").hidden = true;
    const when = set.created_at ? `, published ${date(set.created_at, true)}` : "";
    $("version").textContent = set.version
      ? `Version ${set.version} is in force${when}${set.comment ? `: “${set.comment}”` : "."}`
      : "The built-in rules are in force: no version has been published yet.";
    $("version").dataset.version = String(set.version);
    setDirty(false);
    $("publish-status").textContent = "";
  }

  function clearProblems() {
    for (const tr of tbody.querySelectorAll("tr.row-problem")) tr.remove();
    for (const input of tbody.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    $("publish-error").hidden = true;
  }

  function problem(tr, text, field) {
    let box = tr.nextElementSibling;
    if (!box || !box.classList.contains("row-problem")) {
      box = el("tr", { class: "row-problem" }, el("td", { colspan: String(COLS) }, el("ul", { class: "problem-list" })));
      tr.after(box);
    }
    box.querySelector("ul").append(el("li", null, text));
    const input = field && tr.querySelector(`[data-field="${field}"]`);
    if (input) input.setAttribute("aria-invalid", "true");
  }

  // Pydantic's sentences, as a planner would say them.
  function plain(msg) {
    let m;
    if ((m = /greater than or equal to (\d+)/.exec(msg))) return `must be ${m[1]} or more`;
    if ((m = /less than or equal to (\d+)/.exec(msg))) return `must be ${m[1]} or less`;
    if (/at least 1 character/.test(msg)) return "must not be empty";
    if ((m = /at most (\d+) characters/.exec(msg))) return `must be at most ${m[1]} characters`;
    if (/valid integer/.test(msg)) return "must be a whole number";
    return msg;
  }

  function showRefusal(err, rows) {
    const general = [];
    const detail = err.body && err.body.detail;
    if (err.body && err.body.error === "invalid_request" && Array.isArray(detail)) {
      for (const d of detail) {
        const loc = d.loc || [];
        const i = loc[1] === "rules" && typeof loc[2] === "number" ? loc[2] : -1;
        if (i >= 0 && rows[i]) problem(rows[i], loc[3] ? `${LABELS[loc[3]] || loc[3]}: ${plain(d.msg)}` : plain(d.msg), loc[3]);
        else general.push(`${loc.slice(-1)[0] || "request"}: ${plain(d.msg)}`);
      }
    } else if (err.body && err.body.error === "invalid_rules" && Array.isArray(detail)) {
      for (const text of detail) {
        const m = /^rule ([a-z0-9-]+): (.*)$/.exec(String(text));
        const tr = m && rows.find((r) => r.dataset.ruleId === m[1]);
        if (tr) problem(tr, m[2].startsWith("a page pattern") ? `${LABELS.page}: ${m[2]}` : m[2], m[2].startsWith("a page pattern") ? "page" : null);
        else general.push(String(text));
      }
    } else {
      general.push(err.message);
    }
    const box = $("publish-error");
    box.textContent = general.length
      ? `Nothing was published: ${general.join("; ")}`
      : "Nothing was published: see the rules marked above.";
    box.hidden = false;
    const first = tbody.querySelector("[aria-invalid]");
    if (first) first.focus();
  }

  const slug = (s) => s.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48);

  // The rows as the API takes them; a new row gets an id from its name (unique in the table).
  function collect(rows) {
    const taken = new Set(rows.map((tr) => tr.dataset.ruleId).filter(Boolean));
    return rows.map((tr) => {
      if (!tr.dataset.ruleId) {
        const base = slug(tr.querySelector('[data-field="name"]').value) || "rule";
        let id = base;
        for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
        taken.add(id);
        tr.dataset.ruleId = id;
      }
      const v = (f) => tr.querySelector(`[data-field="${f}"]`);
      const count = (f) => (v(f).value.trim() === "" ? null : Number(v(f).value));
      const cart = v("cart_left").value;
      return {
        id: tr.dataset.ruleId, name: v("name").value.trim(), enabled: v("enabled").checked, page: v("page").value.trim(),
        min_seconds: count("min_seconds"), min_visits: count("min_visits"),
        cart_left: cart === "" ? null : cart === "true", topic: v("topic").value.trim(),
      };
    });
  }

  async function publish(ev) {
    ev.preventDefault();
    clearProblems();
    const rows = [...tbody.querySelectorAll("tr.rule-row")];
    const button = $("publish");
    button.disabled = true;
    $("publish-status").textContent = "Publishing…";
    try {
      const body = { rules: collect(rows), comment: $("publish-comment").value.trim() };
      const set = await api("/api/engage/rules", { method: "PUT", json: body });
      render(set);
      $("publish-comment").value = "";
      $("publish-status").textContent = `Published: version ${set.version} is in force.`;
      $("publish-status").className = "status ok";
    } catch (err) {
      $("publish-status").textContent = "";
      showRefusal(err, rows);
    } finally {
      button.disabled = false;
    }
  }

  tbody.addEventListener("click", (ev) => {
    const button = ev.target.closest("button");
    if (!button) return;
    const tr = button.closest("tr.rule-row");
    clearProblems();
    if (button.classList.contains("remove")) {
      const next = tr.nextElementSibling || tr.previousElementSibling;
      tr.remove();
      (next ? next.querySelector(".remove") : $("add-rule")).focus();
    } else if (button.classList.contains("up") && tr.previousElementSibling) {
      tr.previousElementSibling.before(tr);
    } else if (button.classList.contains("down") && tr.nextElementSibling) {
      tr.nextElementSibling.after(tr);
    } else {
      return;
    }
    renumber();
    if (!button.disabled && button.isConnected) button.focus();
    setDirty(true);
  });
  tbody.addEventListener("input", () => setDirty(true));
  tbody.addEventListener("change", () => setDirty(true));
  $("add-rule").addEventListener("click", () => {
    const tr = row({ enabled: true, name: "", page: "", topic: "" });
    tbody.append(tr);
    renumber();
    setDirty(true);
    tr.querySelector('[data-field="name"]').focus();
  });
  $("discard").addEventListener("click", () => { clearProblems(); render(loaded); });
  form.addEventListener("submit", publish);

  api("/api/engage/rules").then(render).catch((err) => {
    $("version").textContent = "";
    $("rules-error").textContent = `Could not load the invitation rules: ${err.message}`;
    $("rules-error").hidden = false;
  });
})();

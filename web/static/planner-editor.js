// Rule editor page: the decision-table editor (a lazily loaded React bundle), publish, test, versions,
// hold-out and per-version figures. Plain JS around the editor; all data goes in with textContent.
"use strict";

(function () {
  const { el, api, ApiError, num, pct, uplift, date, barChart } = window.Planner;
  const root = document.getElementById("planner-app");
  const ruleId = root.dataset.ruleId;
  const base = `/api/rules/${encodeURIComponent(ruleId)}`;
  const BUNDLE = "/static/planner/dist/editor.js";
  const BUNDLE_CSS = "/static/planner/dist/editor.css";
  const $ = (id) => document.getElementById(id);

  const state = {
    rule: null, // the rule as last loaded: the version in force
    draft: null, // the JDM in the editor
    baseline: "", // canonical JSON of what was loaded into the editor
    viewing: null, // a version number other than the one in force, when one is loaded for a look
    editor: null, // the mounted editor's handle
    customer: null, // {id, name} chosen for the test
  };

  // Compare graphs by what the engine reads, not by editor bookkeeping (selection, positions).
  function canonical(jdm) {
    const strip = (obj) => {
      if (Array.isArray(obj)) return obj.map(strip);
      if (obj && typeof obj === "object") {
        const out = {};
        for (const k of Object.keys(obj).sort()) {
          if (k === "position" || k === "selected" || k === "dragging" || k === "_diff" || k.startsWith("__")) continue;
          out[k] = strip(obj[k]);
        }
        return out;
      }
      return obj;
    };
    return JSON.stringify(strip({ nodes: jdm?.nodes || [], edges: jdm?.edges || [] }));
  }

  // The editor hands edits over after two 100 ms debounces: let the last keystrokes arrive before reading.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 350));

  const isDirty = () => state.draft !== null && canonical(state.draft) !== state.baseline;
  const hasFunctionNode = (jdm) => (jdm?.nodes || []).some((n) => n.type === "functionNode");

  function showDraftState() {
    const badge = $("draft-state");
    badge.hidden = false;
    if (isDirty()) {
      badge.textContent = state.viewing ? `Draft from version ${state.viewing}` : "Unpublished changes";
      badge.dataset.state = "dirty";
    } else {
      badge.textContent = state.viewing ? `Viewing version ${state.viewing}` : "Same as the version in force";
      badge.dataset.state = "clean";
    }
    $("function-warning").hidden = !hasFunctionNode(state.draft);
  }

  function onEdit(next) {
    state.draft = { ...(state.draft || {}), nodes: next.nodes, edges: next.edges };
    showDraftState();
  }

  // ---- Loading the rule and the editor -------------------------------------------------------------

  function renderHead(rule) {
    document.title = `${rule.name || rule.id} · Rules · Contact Center`;
    $("rule-name").textContent = rule.name || rule.id;
    $("crumb-rule").textContent = rule.name || rule.id;
    const current = (rule.versions || []).find((v) => v.version === rule.version) || {};
    const parts = [`Version ${rule.version} in force`];
    if (current.published_at) parts.push(`published ${date(current.published_at, true)}`);
    if (current.author) parts.push(`by ${current.author}`);
    $("rule-meta").textContent = parts.join(" · ") + (current.comment ? ` — “${current.comment}”` : "");
  }

  async function loadEditor(content) {
    if (state.editor) {
      state.editor.setValue(content);
      return;
    }
    const graph = $("graph");
    if (!document.querySelector(`link[href="${BUNDLE_CSS}"]`)) {
      document.head.append(el("link", { rel: "stylesheet", href: BUNDLE_CSS }));
    }
    try {
      const mod = await import(BUNDLE);
      graph.replaceChildren();
      state.editor = mod.mount(graph, { value: content, onChange: onEdit });
      graph.removeAttribute("aria-busy");
      graph.dataset.ready = "true";
    } catch (err) {
      console.warn("editor bundle failed to load", err);
      $("graph-status").textContent =
        "The decision table editor could not be loaded. Reload the page; if it keeps failing, ask an administrator to run “make run” again, which builds it.";
      $("graph-status").classList.add("alert", "alert-error");
    }
  }

  function setDraft(content, { viewing = null } = {}) {
    state.draft = content;
    state.baseline = canonical(state.rule.content);
    state.viewing = viewing;
    const note = $("viewing-note");
    if (viewing) {
      note.replaceChildren(
        `You are looking at version ${viewing}. Publishing it makes it the newest version. `,
        el("button", { type: "button", class: "linklike", id: "back-to-current" }, "Back to the version in force"),
      );
      note.querySelector("button").addEventListener("click", () => setDraft(state.rule.content));
      note.hidden = false;
    } else {
      note.hidden = true;
    }
    loadEditor(content);
    showDraftState();
    renderVersions();
  }

  async function loadRule({ keepDraft = false } = {}) {
    let rule;
    try {
      rule = await api(base);
    } catch (err) {
      const msg = err.status === 404 ? "There is no rule with this name. It may have been renamed or removed." : err.message;
      $("rule-error").replaceChildren(`Could not load the rule: ${msg} `, el("a", { href: "/staff/planner" }, "Back to all rules"));
      $("rule-error").hidden = false;
      $("rule-name").textContent = "Rule not available";
      $("graph-status").textContent = "";
      $("graph").removeAttribute("aria-busy");
      return false;
    }
    state.rule = rule;
    renderHead(rule);
    $("holdout-pct").value = String(rule.holdout_pct ?? 0);
    if (keepDraft) {
      state.baseline = canonical(rule.content);
      renderVersions();
      showDraftState();
    } else {
      setDraft(rule.content);
    }
    return true;
  }

  // ---- Versions and rollback ------------------------------------------------------------------------

  function renderVersions() {
    const rule = state.rule;
    if (!rule) return;
    const versions = [...(rule.versions || [])].sort((a, b) => b.version - a.version);
    $("versions-status").textContent = versions.length ? "" : "No versions published yet.";
    $("versions").replaceChildren(...versions.map((v) => versionItem(v, rule.version)));
  }

  function versionItem(v, inForce) {
    const li = el("li", { class: "version", "data-version": v.version });
    const head = el("div", { class: "version-head" },
      el("strong", null, `Version ${v.version}`),
      v.version === inForce ? el("span", { class: "badge badge-ok" }, "in force") : null,
      state.viewing === v.version ? el("span", { class: "badge" }, "in the editor") : null);
    const meta = el("div", { class: "muted small" }, [date(v.published_at, true), v.author ? `by ${v.author}` : ""].filter(Boolean).join(" · "));
    li.append(head, meta);
    if (v.comment) li.append(el("div", { class: "version-comment" }, v.comment));
    const actions = el("div", { class: "version-actions" });
    if (v.version !== inForce && state.viewing !== v.version) {
      const view = el("button", { type: "button", class: "btn btn-small version-view" }, "Open in editor");
      view.addEventListener("click", () => viewVersion(v.version, view));
      const back = el("button", { type: "button", class: "btn btn-small version-rollback" }, "Roll back to this");
      back.addEventListener("click", () => confirmRollback(li, v.version));
      actions.append(view, back);
    }
    if (actions.childElementCount) li.append(actions);
    return li;
  }

  async function viewVersion(version, button) {
    if (isDirty() && !window.confirm("Replace your unpublished changes with this version?")) return;
    button.disabled = true;
    try {
      const data = await api(`${base}/versions/${version}`);
      setDraft(data.content, { viewing: version });
    } catch (err) {
      $("versions-status").textContent = `Could not open version ${version}: ${err.message}`;
      button.disabled = false;
    }
  }

  function confirmRollback(li, version) {
    li.querySelector(".rollback-form")?.remove();
    const input = el("input", { type: "text", maxlength: 500, class: "rollback-comment", placeholder: "Why roll back?", "aria-label": "Why roll back?" });
    const ok = el("button", { type: "submit", class: "btn btn-primary btn-small" }, `Roll back to version ${version}`);
    const cancel = el("button", { type: "button", class: "btn btn-small" }, "Cancel");
    const err = el("p", { class: "field-error", hidden: true });
    const form = el("form", { class: "rollback-form", novalidate: true }, input, el("div", { class: "inline" }, ok, cancel), err);
    cancel.addEventListener("click", () => form.remove());
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const comment = input.value.trim();
      if (!comment) {
        err.textContent = "Say why, so others know what happened.";
        err.hidden = false;
        input.focus();
        return;
      }
      ok.disabled = true;
      try {
        await api(`${base}/rollback`, { method: "POST", json: { version, comment } });
        await loadRule();
        $("publish-status").textContent = `Rolled back: version ${version}'s table is now in force as version ${state.rule.version}.`;
        $("publish-status").className = "status ok";
        loadStats();
      } catch (e) {
        err.textContent = `Not rolled back: ${e.message}`;
        err.hidden = false;
        ok.disabled = false;
      }
    });
    li.append(form);
    input.focus();
  }

  // ---- Publish --------------------------------------------------------------------------------------

  // "Row 3: unknown fact 'customer.shoe_size'": the row as planners count it; the file path only when
  // there is no row and it says more than the rule's own name.
  function problemText(p) {
    let msg = String(p.message ?? "");
    const hasRow = p.row !== null && p.row !== undefined && p.row !== "";
    if (hasRow) msg = msg.replace(new RegExp(`^row ${p.row}:\\s*`, "i"), "");
    const where = hasRow ? `Row ${p.row}` : p.path && p.path !== ruleId ? String(p.path) : "";
    return where ? `${where}: ${msg}` : msg;
  }

  function showProblems(items) {
    $("publish-problem-list").replaceChildren(...items.map((t) => el("li", null, t)));
    $("publish-problems").hidden = false;
  }

  $("publish-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const status = $("publish-status");
    const comment = $("publish-comment").value.trim();
    const commentErr = $("publish-comment-error");
    $("publish-problems").hidden = true;
    status.className = "status muted";
    if (!state.rule || !state.draft) return;
    const button = $("publish");
    button.disabled = true;
    await settle();
    button.disabled = false;
    if (!isDirty()) {
      status.textContent = "Nothing to publish: the table is the same as the version in force.";
      return;
    }
    if (!comment) {
      commentErr.textContent = "Say what changed and why, so others can follow the history.";
      commentErr.hidden = false;
      $("publish-comment").setAttribute("aria-invalid", "true");
      $("publish-comment").focus();
      return;
    }
    commentErr.hidden = true;
    $("publish-comment").removeAttribute("aria-invalid");
    button.disabled = true;
    button.classList.add("loading");
    status.textContent = "Publishing…";
    try {
      const created = await api(`${base}/publish`, { method: "POST", json: { content: state.draft, comment } });
      $("publish-comment").value = "";
      await loadRule({ keepDraft: true });
      state.viewing = null;
      $("viewing-note").hidden = true;
      renderVersions();
      showDraftState();
      status.textContent = `Published version ${created.version ?? state.rule.version}. Agents see it on their next contact.`;
      status.className = "status ok";
      loadStats();
    } catch (err) {
      status.textContent = "";
      if (err instanceof ApiError && Array.isArray(err.body.problems) && err.body.problems.length) {
        showProblems(err.body.problems.map(problemText));
      } else {
        showProblems([err.message]);
      }
    } finally {
      button.disabled = false;
      button.classList.remove("loading");
    }
  });

  window.addEventListener("beforeunload", (ev) => {
    if (isDirty()) {
      ev.preventDefault();
      ev.returnValue = "";
    }
  });

  // ---- Hold-out -------------------------------------------------------------------------------------

  $("holdout-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("holdout-pct");
    const status = $("holdout-status");
    const value = Number(input.value);
    if (input.value === "" || !Number.isFinite(value) || value < 0 || value > 50) {
      status.textContent = "Enter a whole number from 0 to 50.";
      status.className = "status field-error";
      input.setAttribute("aria-invalid", "true");
      return;
    }
    input.removeAttribute("aria-invalid");
    $("holdout-save").disabled = true;
    try {
      await api(`${base}/holdout`, { method: "PUT", json: { holdout_pct: value } });
      status.textContent = value ? `Saved: ${value} % of matching contacts are held out.` : "Saved: no contacts are held out.";
      status.className = "status ok";
      if (state.rule) state.rule.holdout_pct = value;
    } catch (err) {
      status.textContent = `Not saved: ${err.message}`;
      status.className = "status field-error";
    } finally {
      $("holdout-save").disabled = false;
    }
  });

  // ---- Stats ----------------------------------------------------------------------------------------

  async function loadStats() {
    try {
      const { versions } = await api(`${base}/stats`);
      $("stats-error").hidden = true;
      const rows = [...versions].sort((a, b) => a.version - b.version);
      const any = rows.some((v) => (v.shown || 0) + (v.holdout || 0) > 0);
      $("stats-empty").hidden = any;
      $("stats-table").hidden = !any;
      if (!any) {
        window.Charts.clear($("stats-chart"));
        return;
      }
      const groups = rows.map((v) => ({ label: `Version ${v.version}`, values: v }));
      barChart($("stats-chart"), groups, { title: "Suggestions shown, accepted, dismissed and converted, by version" });
      $("stats-table").querySelector("tbody").replaceChildren(...rows.map((v) => el("tr", { "data-version": v.version },
        el("td", null, `Version ${v.version}`),
        el("td", { class: "num" }, num(v.shown)),
        el("td", { class: "num" }, num(v.accepted)),
        el("td", { class: "num" }, num(v.dismissed)),
        el("td", { class: "num" }, num(v.converted)),
        el("td", { class: "num" }, pct(v.conversion_rate)),
        el("td", { class: "num" }, uplift(v.uplift)))));
    } catch (err) {
      $("stats-error").textContent = `Could not load the figures: ${err.message}`;
      $("stats-error").hidden = false;
    }
  }

  // ---- Test the draft -------------------------------------------------------------------------------

  const who = () => document.querySelector('input[name="who"]:checked').value;
  for (const radio of document.querySelectorAll('input[name="who"]')) {
    radio.addEventListener("change", () => {
      $("who-customer").hidden = who() !== "customer";
      $("who-sample").hidden = who() !== "sample";
    });
  }

  let searchTimer = null;
  let searchSeq = 0;
  const results = $("customer-results");
  $("customer-q").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(searchCustomers, 250);
  });
  $("customer-q").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      clearTimeout(searchTimer);
      searchCustomers();
    }
  });

  async function searchCustomers() {
    const q = $("customer-q").value.trim();
    const seq = ++searchSeq;
    if (!q) {
      results.hidden = true;
      return;
    }
    try {
      const found = await api(`/api/customers?q=${encodeURIComponent(q)}&limit=8`);
      if (seq !== searchSeq) return;
      results.replaceChildren(
        ...(found.length
          ? found.map((c) => {
              const b = el("button", { type: "button", class: "picker-item", "data-customer-id": c.id },
                el("span", { class: "picker-name" }, c.display_name),
                c.segment ? el("span", { class: "segment", "data-segment": c.segment.toLowerCase() }, c.segment) : null,
                el("span", { class: "muted small" }, `#${c.id}`));
              b.addEventListener("click", () => chooseCustomer(c));
              return el("li", { role: "option" }, b);
            })
          : [el("li", { class: "muted small picker-none" }, `No customers match “${q}”.`)]),
      );
      results.hidden = false;
    } catch (err) {
      if (seq !== searchSeq) return;
      results.replaceChildren(el("li", { class: "field-error" }, `Search failed: ${err.message}`));
      results.hidden = false;
    }
  }

  function chooseCustomer(c) {
    state.customer = { id: c.id, name: c.display_name };
    results.hidden = true;
    $("customer-q").value = c.display_name;
    const chosen = $("customer-chosen");
    chosen.textContent = `Testing with ${c.display_name} (#${c.id})${c.segment ? ` · ${c.segment}` : ""}.`;
    chosen.classList.remove("field-error");
  }

  // Only the fields the planner filled in: the server has its own defaults for the rest.
  function contact() {
    const c = {};
    for (const key of ["channel", "queue", "topic", "page"]) {
      const v = $(`contact-${key}`).value.trim();
      if (v) c[key] = v;
    }
    return Object.keys(c).length ? c : null;
  }

  // The server renders scripts to HTML; rebuild it from an allowlist of tags (no attributes) so nothing
  // else from a template can reach the page.
  const SCRIPT_TAGS = new Set(["P", "BR", "STRONG", "EM", "B", "I", "UL", "OL", "LI", "H1", "H2", "H3", "H4", "BLOCKQUOTE", "CODE", "HR"]);
  function scriptNode(source) {
    const doc = new DOMParser().parseFromString(`<body>${source}</body>`, "text/html");
    const out = el("div", { class: "script" });
    let hasTags = false;
    const copy = (from, to) => {
      for (const node of from.childNodes) {
        if (node.nodeType === Node.TEXT_NODE) to.append(node.textContent);
        else if (node.nodeType === Node.ELEMENT_NODE) {
          if (SCRIPT_TAGS.has(node.tagName)) {
            hasTags = true;
            copy(node, to.appendChild(document.createElement(node.tagName.toLowerCase())));
          } else if (!["SCRIPT", "STYLE", "TEMPLATE"].includes(node.tagName)) copy(node, to);
        }
      }
    };
    copy(doc.body, out);
    if (!hasTags) out.classList.add("script-text");
    return out;
  }

  function outputsList(outputs) {
    const entries = Object.entries(outputs || {});
    if (!entries.length) return el("span", { class: "muted" }, "—");
    return el("dl", { class: "outputs" }, ...entries.flatMap(([k, v]) => [
      el("dt", null, k.replaceAll("_", " ")),
      el("dd", null, v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v)),
    ]));
  }

  function resultCard(r) {
    const card = el("article", { class: "test-result", "data-customer-id": r.customer_id, "data-matched": r.matched ? "true" : "false" });
    card.append(el("header", { class: "test-result-head" },
      el("a", { href: `/staff/customers/${encodeURIComponent(r.customer_id)}`, class: "customer-link", target: "_blank", rel: "noopener" }, r.customer_name || `Customer #${r.customer_id}`),
      el("span", { class: `badge ${r.matched ? "badge-ok" : "badge-muted"}` }, r.matched ? "Matches" : "No match")));
    const rows = r.rows || [];
    if (rows.length) {
      card.append(el("table", { class: "table rows-table" },
        el("thead", null, el("tr", null, el("th", null, "Row"), el("th", null, "Suggestion"), el("th", null, "Why"))),
        el("tbody", null, ...rows.map((row) => el("tr", { "data-row-id": row.row_id ?? "" },
          el("td", { class: "row-index" }, `Row ${row.index}`),
          el("td", null, outputsList(row.outputs)),
          el("td", { class: "row-reason" }, row.reason || "—"))))));
    } else {
      card.append(el("p", { class: "muted small" }, "No row of the table matches this customer."));
    }
    if (r.script) {
      card.append(el("div", { class: "script-label" }, "Sales script the agent would see"), scriptNode(r.script));
    }
    return card;
  }

  $("test-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const status = $("test-status");
    const out = $("test-results");
    $("test-error").hidden = true;
    if (!state.draft) return;
    await settle();
    const body = { content: state.draft, customer_id: null, sample: null, contact: contact() };
    if (who() === "customer") {
      if (!state.customer) {
        $("customer-chosen").textContent = "Search for a customer and pick one from the list first.";
        $("customer-chosen").classList.add("field-error");
        $("customer-q").focus();
        return;
      }
      body.customer_id = state.customer.id;
    } else {
      const n = Number($("sample-n").value);
      if (!Number.isInteger(n) || n < 1 || n > 100) {
        status.textContent = "Choose a sample of 1 to 100 customers.";
        return;
      }
      body.sample = n;
    }
    const button = $("test-run");
    button.disabled = true;
    button.classList.add("loading");
    status.textContent = "Testing…";
    try {
      const { results: rs } = await api(`${base}/test`, { method: "POST", json: body });
      const matched = rs.filter((r) => r.matched).length;
      status.textContent = rs.length
        ? `${matched} of ${rs.length} ${rs.length === 1 ? "customer matches" : "customers match"}.`
        : "There are no customers to test with yet.";
      out.replaceChildren(...rs.map(resultCard));
    } catch (err) {
      status.textContent = "";
      out.replaceChildren();
      const problems = err instanceof ApiError && Array.isArray(err.body.problems) ? err.body.problems.map(problemText) : [];
      $("test-error").replaceChildren(
        problems.length ? "The draft cannot be tested yet:" : `Test failed: ${err.message}`,
        ...(problems.length ? [el("ul", null, ...problems.map((t) => el("li", null, t)))] : []),
      );
      $("test-error").hidden = false;
    } finally {
      button.disabled = false;
      button.classList.remove("loading");
    }
  });

  loadRule().then((ok) => ok && loadStats());
})();

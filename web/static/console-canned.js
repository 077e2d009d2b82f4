// Agent console, canned replies: the picker in the composer ("/" + shortcut, or the button) and, for
// supervisors and admins, a small manager dialog (list, add / edit, delete).
"use strict";

(function (CC) {
  const { el, $ } = CC;
  const box = $("canned-picker");
  const input = $("composer-input");
  const P = { open: false, items: [], active: 0, start: 0, end: 0, query: "" };
  let replies = [];
  let loadedAt = 0;

  async function load(force) {
    if (!force && Date.now() - loadedAt < 10000) return;
    loadedAt = Date.now();
    try {
      replies = await CC.api("/api/chat/canned");
      if (P.open) render();
      CC.emit("canned", replies);
    } catch (_) {
      loadedAt = 0;
    }
  }

  function filter(q) {
    const starts = replies.filter((r) => r.shortcut.startsWith(q));
    const rest = replies.filter((r) => !r.shortcut.startsWith(q) &&
      (r.shortcut.includes(q) || r.title.toLowerCase().includes(q)));
    return [...starts, ...rest];
  }

  function render() {
    P.items = filter(P.query);
    P.active = Math.min(P.active, Math.max(0, P.items.length - 1));
    const rows = P.items.map((r, i) => {
      const opt = el("li", { role: "option", id: `canned-opt-${i}`, class: "canned-opt", "aria-selected": String(i === P.active) },
        el("span", { class: "canned-key" }, `/${r.shortcut}`),
        el("span", { class: "canned-title" }, r.title),
        el("span", { class: "canned-body" }, r.body));
      opt.addEventListener("mousedown", (ev) => ev.preventDefault()); // keep the caret in the composer
      opt.addEventListener("click", () => choose(i));
      return opt;
    });
    if (!rows.length) {
      rows.push(el("li", { class: "canned-none" },
        replies.length ? `No canned reply matches /${P.query}` : "No canned replies yet."));
    }
    $("canned-list").replaceChildren(...rows);
    $("canned-hint").textContent = P.items.length ? "↑↓ to choose · Enter or Tab to insert · Esc to close" : "";
    box.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (P.items.length) input.setAttribute("aria-activedescendant", `canned-opt-${P.active}`);
    else input.removeAttribute("aria-activedescendant");
    $(`canned-opt-${P.active}`)?.scrollIntoView({ block: "nearest" });
  }

  function close() {
    P.open = false;
    box.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function open(start, end, query) {
    const q = query.toLowerCase();
    Object.assign(P, { active: P.open && P.query === q ? P.active : 0, open: true, start, end, query: q });
    render();
    load(false);
  }

  function choose(i) {
    const r = P.items[i];
    if (!r) return;
    const v = input.value;
    input.value = v.slice(0, P.start) + r.body + v.slice(P.end);
    const caret = P.start + r.body.length;
    input.setSelectionRange(caret, caret);
    close();
    input.focus();
    input.dispatchEvent(new Event("input"));
  }

  CC.picker = {
    close,
    update(field) {
      const caret = field.selectionStart;
      const m = field.value.slice(0, caret).match(/(?:^|\s)\/([a-z0-9_-]*)$/i);
      if (m) open(caret - m[1].length - 1, caret, m[1]);
      else if (P.open) close();
    },
    key(ev) {
      if (!P.open) return false;
      const n = P.items.length;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        if (n) P.active = (P.active + (ev.key === "ArrowDown" ? 1 : n - 1)) % n;
        render();
      } else if ((ev.key === "Enter" || ev.key === "Tab") && !ev.shiftKey && n) {
        choose(P.active);
      } else if (ev.key === "Escape") {
        close();
      } else {
        return false;
      }
      ev.preventDefault();
      return true;
    },
  };

  $("canned-btn").addEventListener("click", () => {
    if (P.open) return close();
    const caret = input.selectionStart ?? input.value.length;
    open(caret, caret, "");
    input.focus();
  });
  document.addEventListener("click", (ev) => {
    if (P.open && !box.contains(ev.target) && ev.target !== input && !$("canned-btn").contains(ev.target)) close();
  });
  load(true);

  // ---- manager (supervisors and admins) ----
  const dialog = $("canned-dialog");
  if (!dialog) return;
  const form = $("canned-form");
  const f = { shortcut: $("cf-shortcut"), title: $("cf-title"), body: $("cf-body") };

  function rows() {
    const tbody = $("canned-rows");
    $("canned-empty").hidden = replies.length > 0;
    tbody.replaceChildren(...replies.map((r) => {
      const del = el("button", { type: "button", class: "btn btn-small btn-quiet", "aria-label": `Delete /${r.shortcut}` }, "Delete");
      del.addEventListener("click", () => remove(r, del));
      return el("tr", { "data-shortcut": r.shortcut },
        el("td", { class: "mono" }, `/${r.shortcut}`),
        el("td", {}, el("strong", {}, r.title), el("div", { class: "canned-preview" }, r.body)),
        el("td", { class: "actions" },
          el("button", { type: "button", class: "btn btn-small", "aria-label": `Edit /${r.shortcut}`, onclick: () => edit(r) }, "Edit"),
          del));
    }));
  }

  function edit(r) {
    f.shortcut.value = r ? r.shortcut : "";
    f.shortcut.readOnly = !!r;
    f.title.value = r ? r.title : "";
    f.body.value = r ? r.body : "";
    $("cf-heading").textContent = r ? `Edit /${r.shortcut}` : "Add a canned reply";
    $("cf-error").hidden = true;
    (r ? f.title : f.shortcut).focus();
  }

  async function remove(r, btn) {
    if (!btn.dataset.armed) {
      btn.dataset.armed = "1";
      btn.textContent = "Confirm delete";
      btn.classList.add("armed");
      setTimeout(() => btn.isConnected && rows(), 4000);
      return;
    }
    try {
      await CC.api(`/api/chat/canned/${encodeURIComponent(r.shortcut)}`, { method: "DELETE" });
      $("cf-status").textContent = `Deleted /${r.shortcut}.`;
    } catch (err) {
      $("cf-status").textContent = `Not deleted: ${err.message}`;
    }
    await load(true);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const shortcut = f.shortcut.value.trim().replace(/^\//, "").toLowerCase();
    const body = { shortcut, title: f.title.value.trim(), body: f.body.value.trim() };
    const err = $("cf-error");
    err.hidden = true;
    let problem = null;
    if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(shortcut)) problem = "Shortcut: letters, digits, - and _ (up to 40), no spaces.";
    else if (!body.title) problem = "Give the reply a title.";
    else if (!body.body) problem = "Write the reply text.";
    if (problem) {
      err.textContent = problem;
      err.hidden = false;
      return;
    }
    try {
      await CC.api(`/api/chat/canned/${encodeURIComponent(shortcut)}`, { method: "PUT", json: body });
      $("cf-status").textContent = `Saved /${shortcut}.`;
      edit(null);
      await load(true);
    } catch (e) {
      err.textContent = `Not saved: ${e.message}`;
      err.hidden = false;
    }
  });

  $("cf-new").addEventListener("click", () => edit(null));
  $("canned-manage").addEventListener("click", () => {
    rows();
    edit(null);
    $("cf-status").textContent = "";
    dialog.showModal();
    load(true);
  });
  $("canned-close").addEventListener("click", () => dialog.close());
  CC.on("canned", () => dialog.open && rows());
})(window.CC);

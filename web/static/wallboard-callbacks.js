// Wallboard, callbacks panel: promise kept over the last 7 days (callbacks started within their window) and
// every callback still to make, with its number, slot and attempts; a supervisor can cancel one.
// Refreshed whenever the board refreshes (the "wb:refresh" event of wallboard.js).
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const body = document.querySelector("#callbacks tbody");
  const empty = document.getElementById("callbacks-empty");
  const err = document.getElementById("callbacks-error");
  let busy = false;

  const fmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  const when = (iso) => fmt.format(new Date(iso));

  function cell(text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  function row(cb) {
    const tr = document.createElement("tr");
    tr.dataset.callbackId = cb.id;
    tr.dataset.status = cb.status;
    const slot = cb.slot_start ? `${when(cb.slot_start)}` : `As soon as possible (asked ${when(cb.created_at)})`;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-small";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => drop(cb, cancel));
    const action = document.createElement("td");
    action.append(cancel);
    tr.append(
      cell(cb.reference, "mono"), cell(cb.name), cell(cb.mode === "browser" ? "in the browser" : cb.phone || "—"),
      cell(cb.topic || "—"), cell(slot), cell(String(cb.attempts), "num"), cell(cb.status.replace("_", " ")), action,
    );
    return tr;
  }

  async function drop(cb, btn) {
    if (!window.confirm(`Cancel the callback ${cb.reference} for ${cb.name}?`)) return;
    btn.disabled = true;
    const res = await fetch(`/api/callback/requests/${encodeURIComponent(cb.id)}/cancel`, {
      method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
    });
    err.hidden = res.ok;
    if (!res.ok) {
      btn.disabled = false;
      err.textContent = `Could not cancel ${cb.reference}: ${(await res.json().catch(() => ({}))).detail || res.status}`;
    }
    refresh();
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const [promise, pending] = await Promise.all(
        ["/api/callback/promise?days=7", "/api/callback/requests"].map(async (p) => {
          const res = await fetch(p, { headers: { Accept: "application/json" } });
          if (!res.ok) throw new Error(String(res.status));
          return res.json();
        }));
      const kpi = document.getElementById("k-promise");
      kpi.textContent = promise.kept_pct === null ? "–" : `${Math.round(promise.kept_pct)} %`;
      kpi.closest(".kpi").classList.toggle("warn", promise.kept_pct !== null && promise.kept_pct < 90);
      document.getElementById("k-promise-sub").textContent = promise.due
        ? `${promise.kept} of ${promise.due} started in time, 7 days` : "no callback due yet";
      body.replaceChildren(...pending.map(row));
      empty.hidden = pending.length > 0;
    } catch (_) {
      /* the board's own refresh reports signed-out / no access; the next refresh tries again */
    } finally {
      busy = false;
    }
  }

  document.addEventListener("wb:refresh", refresh);
})();

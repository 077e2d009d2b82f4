// Webhooks admin page: subscribers (add, pause, remove), the secret shown once, dead deliveries with Replay.
// Plain JS on the JSON API (docs/api.md); data goes in with textContent only.
"use strict";

(function () {
  const { el, api, num, date } = window.Planner;
  const $ = (id) => document.getElementById(id);
  const statusEl = $("hooks-status");
  const errorEl = $("hooks-error");
  const table = $("hooks");
  const deadPanel = $("dead-panel");
  const deadBody = $("dead").querySelector("tbody");

  function fail(err, what) {
    errorEl.textContent = `Could not ${what}: ${err.message}`;
    errorEl.hidden = false;
  }

  function button(label, attrs, onClick) {
    const b = el("button", { type: "button", class: "btn", ...attrs }, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      errorEl.hidden = true;
      try {
        await onClick();
      } catch (err) {
        fail(err, label.toLowerCase());
      } finally {
        b.disabled = false;
      }
    });
    return b;
  }

  function subscriberRow(s) {
    return el(
      "tr",
      { "data-subscriber-id": s.id },
      el("td", { class: "url-cell" }, el("span", { class: "stack" },
        el("span", null, s.url), s.description ? el("span", { class: "muted small" }, s.description) : null)),
      el("td", null, el("span", { class: "types" }, s.event_types.map((t) => el("code", null, t)))),
      el("td", null, el("span", { class: "badge state", "data-active": String(s.active) }, s.active ? "active" : "paused")),
      el("td", { class: "num pending-count" }, num(s.pending)),
      el("td", { class: "num dead-count", "data-some": String(s.dead > 0) }, num(s.dead)),
      el("td", null, el("span", { class: "row-actions" },
        button(s.active ? "Pause" : "Resume", { "data-action": "toggle" }, async () => {
          await api(`/api/webhooks/subscribers/${s.id}`, { method: "PATCH", json: { active: !s.active } });
          await load();
        }),
        button("Remove", { "data-action": "remove" }, async () => {
          if (!window.confirm(`Remove ${s.url} and its deliveries?`)) return;
          await api(`/api/webhooks/subscribers/${s.id}`, { method: "DELETE" });
          await load();
        }))),
    );
  }

  function deadRow(d, url) {
    const last = d.last_status ? `HTTP ${d.last_status}` : d.last_error || "no answer";
    return el(
      "tr",
      { "data-delivery-id": d.id },
      el("td", { class: "url-cell" }, url),
      el("td", null, el("code", null, d.event_type)),
      el("td", null, date(d.created_at, true)),
      el("td", { class: "num" }, num(d.attempts)),
      el("td", { class: "error" }, last),
      el("td", null, el("span", { class: "row-actions" },
        button("Replay", { class: "btn btn-primary", "data-action": "replay" }, async () => {
          await api(`/api/webhooks/deliveries/${d.id}/replay`, { method: "POST" });
          statusEl.textContent = `Delivery ${d.msg_id} is back in the outbox.`;
          await load(false);
        }))),
    );
  }

  async function load(setStatus = true) {
    try {
      const subs = await api("/api/webhooks/subscribers");
      if (setStatus) statusEl.textContent = subs.length === 1 ? "1 subscriber" : `${subs.length} subscribers`;
      $("hooks-empty").hidden = subs.length > 0;
      table.hidden = subs.length === 0;
      table.querySelector("tbody").replaceChildren(...subs.map(subscriberRow));
      const dead = [];
      for (const s of subs.filter((x) => x.dead > 0)) {
        const { items } = await api(`/api/webhooks/subscribers/${s.id}/deliveries?status=dead&limit=50`);
        dead.push(...items.map((d) => deadRow(d, s.url)));
      }
      deadBody.replaceChildren(...dead);
      deadPanel.hidden = dead.length === 0;
    } catch (err) {
      statusEl.textContent = "";
      fail(err, "load the subscribers");
    }
  }

  $("add-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const errEl = $("add-error");
    errEl.hidden = true;
    const types = [...form.querySelectorAll("input[name=event_types]:checked")].map((i) => i.value);
    const body = { url: form.url.value.trim(), description: form.description.value.trim(), event_types: types };
    $("add-submit").disabled = true;
    try {
      const made = await api("/api/webhooks/subscribers", { method: "POST", json: body });
      $("secret-value").textContent = made.secret;
      $("secret-box").hidden = false;
      form.url.value = "";
      form.description.value = "";
      await load();
    } catch (err) {
      errEl.textContent = err.message;
      errEl.hidden = false;
    } finally {
      $("add-submit").disabled = false;
    }
  });

  load();
})();

// Agent console, customer panel: the customer's orders as the back office has them now, and a product's
// stock on demand (GET /api/customers/{id}/backoffice/orders, /api/products/{sku}/stock; docs/integration.md).
// When the back office does not answer, the last known answer is shown with its time and a warning: never
// an empty list that would read as "no orders".
"use strict";

(function (CC) {
  const { el, $ } = CC;
  let shownFor = null;
  let token = 0;

  const money = (v) => {
    const n = Number(v);
    return Number.isFinite(n) ? n.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : String(v);
  };
  const when = (iso) => {
    const d = CC.parse(iso);
    return `${CC.dayLabel(d)} ${CC.hm(d)}`;
  };

  async function stock(btn, sku) {
    btn.disabled = true;
    btn.textContent = "Checking…";
    try {
      const s = await CC.api(`/api/products/${encodeURIComponent(sku)}/stock`);
      const level = s.available === null ? "stock unknown" : `${s.available} in stock`;
      btn.replaceWith(el("span", { class: "bo-stock", "data-status": s.status },
        s.status === "ok" ? level : `${level} · last known ${s.fetched_at ? when(s.fetched_at) : "never"}`,
        s.error ? el("span", { class: "muted" }, ` (${s.error})`) : null));
    } catch (err) {
      btn.disabled = false;
      btn.textContent = "Stock";
      btn.title = `Could not check the stock: ${err.message}`;
    }
  }

  function order(o) {
    const btn = el("button", { type: "button", class: "linkish small bo-stock-btn" }, "Stock");
    btn.addEventListener("click", () => stock(btn, o.sku));
    return el("li", { class: "order bo-order", "data-ref": o.ref },
      el("span", { class: "order-name" }, o.product_name || o.sku),
      el("span", { class: "order-amount" }, money(o.amount)),
      el("span", { class: "order-meta" }, `${o.ref} · ${CC.yearFmt.format(CC.parse(o.placed_at))} · `, btn),
      el("span", { class: "status-pill", "data-status": o.status }, o.status));
  }

  async function load(cid) {
    const t = ++token;
    const box = $("cp-bo");
    $("cp-bo-orders").replaceChildren(el("li", { class: "muted" }, "Asking the order system…"));
    let live;
    try {
      live = await CC.api(`/api/customers/${cid}/backoffice/orders`);
    } catch (err) {
      if (t !== token) return;
      box.hidden = false;
      $("cp-bo-orders").replaceChildren(el("li", { class: "panel-error" }, `Could not load the order system's orders: ${err.message}`));
      return;
    }
    if (t !== token) return;
    if (live.status === "not_configured") {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.dataset.status = live.status;
    const warn = $("cp-bo-warning");
    warn.hidden = live.status === "ok";
    warn.textContent = live.status === "ok" ? ""
      : `${live.error} ${live.fetched_at ? `Last known at ${when(live.fetched_at)}.` : "Nothing known yet."}`;
    $("cp-bo-when").textContent = live.status === "ok" ? `live · ${CC.hm(CC.parse(live.fetched_at))}` : "";
    const items = live.orders.map(order);
    if (!items.length) {
      items.push(el("li", { class: "muted" }, live.status === "ok" ? "No orders in the order system." : "No earlier answer to show."));
    }
    $("cp-bo-orders").replaceChildren(...items);
  }

  CC.on("selected", (rec) => {
    const cid = rec.info.customer_id;
    if (cid === shownFor) return;
    shownFor = cid;
    load(cid);
  });
  $("cp-bo-refresh").addEventListener("click", () => shownFor !== null && load(shownFor));
})(window.CC);

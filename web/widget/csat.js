/* Customer satisfaction in the widget: when a conversation closes the server sends csat_ask and this card
 * asks the customer to rate it: five stars, an optional comment, Send or "No thanks". The answer goes to
 * POST /api/csat/ratings with the visitor's token (one rating per conversation: a second is 409, which the
 * card takes as done); "No thanks" is stored too (POST /api/csat/conversations/{id}/decline). After the page
 * was away, check(id) asks the server whether a closed conversation is still to be rated (not declined). Served between voice.js and widget.js inside the same function: nothing is global. */
const CSAT_CSS = `
.csat{margin:10px 2px 6px;padding:14px 16px;border-radius:14px;background:#fff;border:1px solid var(--line);text-align:center}
.csat strong{display:block;font-size:16px;margin-bottom:2px}
.csat p{margin:0 0 8px;color:var(--muted);font-size:14px}
.csat-stars{display:flex;justify-content:center;gap:4px;margin:4px 0 2px}
.csat-star{width:44px;height:44px;border:0;border-radius:10px;background:none;font-size:30px;line-height:1;color:#c4ccd8;padding:0}
.csat-star.on{color:#f2a900}
.csat-star:hover{background:var(--bg)}
.csat-scale{font-size:12px;color:var(--muted);margin-bottom:8px}
.csat textarea{display:block;width:100%;min-height:64px;max-height:140px;resize:vertical;margin:0 0 10px;padding:9px 11px;border:1px solid #cfd6e0;border-radius:12px;font-size:15px;background:#fff}
.csat .row{flex-direction:column}.csat .row>*{flex:none;width:100%}
.csat-status{font-size:13px;min-height:18px;margin:0 0 6px;color:#b42318}
.csat-status:empty{display:none}
.csat.done p{color:#14532d;margin:0}
`;

function makeCsat(o) {
  // o: the parts' context (parts.js)
  const { t, h } = o;
  const done = new Set(); // conversations answered or declined while this page is open
  let cur = null; // the csat_ask being answered
  let score = 0;
  const ui = {};

  function build() {
    if (ui.box) return;
    ui.heading = h("strong", { id: "ccw-csat-h", text: t("csat.heading") });
    ui.text = h("p");
    ui.stars = [1, 2, 3, 4, 5].map((n) =>
      h("button", {
        class: "csat-star",
        type: "button",
        role: "radio",
        "aria-checked": "false",
        "aria-label": t("csat.star", { count: n }),
        "data-score": n,
        text: "★",
        onclick: () => choose(n),
        onkeydown: (e) => {
          if (e.key === "ArrowRight" || e.key === "ArrowUp") (e.preventDefault(), choose(Math.min(5, (score || 0) + 1), true));
          else if (e.key === "ArrowLeft" || e.key === "ArrowDown") (e.preventDefault(), choose(Math.max(1, (score || 2) - 1), true));
        },
      })
    );
    ui.group = h("div", { class: "csat-stars", role: "radiogroup", "aria-label": t("csat.stars") }, ui.stars);
    ui.comment = h("textarea", { id: "ccw-csat-comment", rows: 2, maxlength: 1000, placeholder: t("csat.comment"), "aria-label": t("csat.comment") });
    ui.status = h("p", { class: "csat-status", role: "status" });
    ui.send = h("button", { class: "primary", type: "button", text: t("csat.send"), onclick: send });
    ui.decline = h("button", { class: "secondary", type: "button", text: t("csat.decline"), onclick: decline });
    ui.form = h("div", {}, ui.group, h("div", { class: "csat-scale", text: t("csat.scale") }), ui.comment, ui.status, h("div", { class: "row" }, ui.send, ui.decline));
    ui.box = h("section", { class: "csat", hidden: true, "aria-labelledby": "ccw-csat-h" }, ui.heading, ui.text, ui.form);
  }
  function choose(n, focus) {
    score = n;
    ui.stars.forEach((b, i) => {
      b.classList.toggle("on", i < n);
      b.setAttribute("aria-checked", String(i + 1 === n));
      b.tabIndex = i + 1 === (n || 1) ? 0 : -1;
    });
    ui.status.textContent = "";
    if (focus) ui.stars[n - 1].focus();
  }
  function show(ask) {
    if (done.has(ask.conversation_id) || (cur && cur.conversation_id === ask.conversation_id)) return;
    build();
    cur = ask;
    score = 0;
    choose(0);
    ui.box.classList.remove("done");
    ui.heading.textContent = t("csat.heading");
    ui.text.textContent = ask.agent_name ? t("csat.text", { name: ask.agent_name }) : t("csat.textNoName");
    ui.comment.value = "";
    ui.form.hidden = false;
    ui.send.disabled = false;
    o.mount(ui.box, ask.channel !== "chat" ? "top" : "ended"); // a chat's card sits in its "Chat ended" view
    ui.box.hidden = false;
    if (ui.box.scrollIntoView) ui.box.scrollIntoView({ block: "nearest" });
  }
  function finish(text) {
    done.add(cur.conversation_id);
    ui.box.classList.add("done");
    ui.form.hidden = true;
    ui.heading.textContent = t("csat.thanksHeading");
    ui.text.textContent = text;
  }
  async function send() {
    if (!cur) return;
    if (!score) {
      ui.status.textContent = t("csat.choose");
      return ui.stars[0].focus();
    }
    ui.send.disabled = true;
    try {
      await o.api("POST", "/api/csat/ratings", { conversation_id: cur.conversation_id, score, comment: ui.comment.value.trim() });
      finish(t("csat.thanks"));
    } catch (err) {
      if (err.code === "already_rated") return finish(t("csat.thanks"));
      ui.send.disabled = false;
      ui.status.textContent = t("csat.failed", { error: err.message });
    }
  }
  function decline() {
    // Stored once on the server (POST .../decline): the card is not shown again for this conversation.
    if (cur) {
      done.add(cur.conversation_id);
      o.api("POST", "/api/csat/conversations/" + encodeURIComponent(cur.conversation_id) + "/decline").catch(() => {});
    }
    hide();
  }
  function hide() {
    cur = null;
    if (ui.box) ui.box.hidden = true;
  }
  async function check(conversationId) {
    if (done.has(conversationId)) return;
    try {
      const a = await o.api("GET", "/api/csat/conversations/" + encodeURIComponent(conversationId));
      if (a && a.score == null && a.declined_at == null) show({ conversation_id: a.conversation_id, channel: a.channel, agent_name: a.agent_name });
    } catch (e) {
      /* nothing to rate (an open, unanswered or old conversation): no card */
    }
  }
  return {
    frame: (f) => f.type === "csat_ask" && show(f),
    closedAway: check, // its csat_ask went while the page was away
    // A new chat starts: an unanswered card goes (the customer moved on).
    reset: () => cur && cur.channel === "chat" && hide(),
  };
}
registerPart({ name: "csat", frames: ["csat_ask"], css: CSAT_CSS, make: makeCsat });

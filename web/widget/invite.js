/* Proactive invitations in the widget (issue 17 item 3, decision 54): with "browsing" consent only, the
 * widget tells the server the page it is on and the seconds there (POST /api/engage/check with the visitor
 * token); the server answers with an invitation when one of the planner's rules says so, else when to ask
 * again. The card says what the centre can do now: chat (an agent is free), a callback at the next free
 * slot (chosen already in the callback form it opens), or help articles; Dismiss puts it away. The answer goes to /api/engage/invitations/{id}/answer.
 * A widget part (parts.js): it starts when browsing consent is given, and steps aside when a chat starts. */
const INVITE_CSS = `
.invite{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:320px;max-width:calc(100vw - 40px);background:#fff;border-radius:16px;padding:16px 16px 14px;box-shadow:0 12px 40px rgba(15,30,60,.28);border:1px solid var(--line);animation:pop .18s ease-out}
.invite strong{display:block;font-size:16px;margin:0 28px 4px 0}
.invite p{margin:0 0 12px;color:var(--muted);font-size:14px}
.invite .row{display:flex;gap:8px;flex-wrap:wrap}
.invite .row .primary{flex:1 1 auto;width:auto}
.invite-x{position:absolute;top:8px;right:8px;width:32px;height:32px;border:0;border-radius:8px;background:none;font-size:20px;line-height:1;color:var(--muted)}
.invite-x:hover{background:var(--bg)}
.invite-list{list-style:none;margin:0 0 10px;padding:0}
.invite-list li{margin:0 0 6px}
.invite-list button{width:100%;text-align:left;min-height:40px;padding:6px 12px;border:1px solid var(--line);border-radius:10px;background:var(--bg);font-size:14px;color:var(--ink)}
@media (max-width:479px){.invite{right:12px;left:12px;width:auto;max-width:none;bottom:88px}}
`;

function makeInvite(o) {
  // o: the parts' context (parts.js): t, h, lang, api, mount, browsing, chatting, pageSeconds, sendViews,
  //    openChat(topic), openCallback(slotStart), openArticle(slug), slotText(iso)
  const { t, h } = o;
  const post = (path, body) => o.api("POST", path, body);
  const may = () => o.browsing() && !o.chatting();
  let timer = 0;
  let cur = null;
  let stopped = false;
  let box = null;

  async function check() {
    timer = 0;
    if (stopped || cur || !may()) return;
    const url = (location.origin + location.pathname).slice(0, 2000);
    let r;
    try {
      r = await post("/api/engage/check", { url, seconds: Math.min(86400, Math.round(o.pageSeconds())), lang: o.lang });
    } catch (e) {
      stopped = true; // no consent under this policy, too many checks, the server away: quiet for this page
      return;
    }
    if (r && r.invitation) show(r.invitation);
    else if (r && r.next_check_s) timer = setTimeout(check, Math.max(1, r.next_check_s) * 1000);
  }
  function text(inv) {
    if (inv.offer === "chat") return [t("invite.chatHeading"), t("invite.chatText")];
    if (inv.offer === "callback") return [t("invite.callbackHeading"), t("invite.callbackText", { when: o.slotText(inv.slot_start) })];
    return [t("invite.articlesHeading"), t(inv.articles.length ? "invite.articlesText" : "invite.articlesNone")];
  }
  function show(inv) {
    cur = inv;
    const [heading, body] = text(inv);
    const buttons = [];
    if (inv.offer === "chat") buttons.push(h("button", { class: "primary", type: "button", text: t("invite.chat"), onclick: () => accept(() => o.openChat(inv.topic)) }));
    if (inv.offer === "callback") buttons.push(h("button", { class: "primary", type: "button", text: t("invite.callback"), onclick: () => accept(() => o.openCallback(inv.slot_start)) }));
    const list =
      inv.offer === "articles" && inv.articles.length
        ? h("ul", { class: "invite-list" }, ...inv.articles.map((a) => h("li", {}, h("button", { type: "button", text: t("invite.read", { title: a.title }), onclick: () => accept(() => o.openArticle(a.slug)) }))))
        : null;
    buttons.push(h("button", { class: "secondary", type: "button", text: t("invite.dismiss"), onclick: dismiss }));
    box = h(
      "section",
      { class: "invite", role: "dialog", "aria-labelledby": "ccw-invite-h", "data-offer": inv.offer },
      h("button", { class: "invite-x", type: "button", "aria-label": t("invite.dismiss"), text: "×", onclick: dismiss }),
      h("strong", { id: "ccw-invite-h", text: heading }),
      h("p", { text: body }),
      list,
      h("div", { class: "row" }, ...buttons)
    );
    o.mount(box, "overlay");
  }
  function answer(value) {
    const inv = cur;
    if (box) box.remove();
    box = null;
    stopped = true; // one invitation per page
    if (inv) post(`/api/engage/invitations/${encodeURIComponent(inv.id)}/answer`, { answer: value }).catch(() => {});
  }
  function accept(then) {
    answer("accepted");
    o.sendViews(); // the page the visitor is on reaches the timeline before the agent looks
    then();
  }
  function dismiss() {
    answer("dismissed");
  }
  return {
    consented: () => !timer && !cur && !stopped && check(),
    // A chat started some other way: the invitation is moot.
    chatStarting: () => box && (box.remove(), (box = null), (stopped = true)),
  };
}

registerPart({ name: "invite", css: INVITE_CSS, make: makeInvite });

/* The widget's plug-in point (decision 58). A capability's part (a file its plugin declares with
 * widget_parts, served after this one and before widget.js, inside the same function) registers itself:
 *
 *   registerPart({ name, frames: ["my_frame", ...], channels: ["my_channel"], css: "...", make(ctx) { ... } });
 *
 * `channels`: conversations of these channels are the part's (a call is not the chat): the chat ignores
 * them in welcome and conversation frames.
 *
 * widget.js calls make(ctx) once, when the widget is built, with the same context for every part:
 *   ctx.origin, ctx.lang (the page's language tag), ctx.t(key, vars), ctx.h(tag, attrs, ...children),
 *   ctx.token() (the visitor's token), ctx.send(frame) (over the widget's socket), ctx.api(method, path, body),
 *   ctx.notice(text), ctx.hideNotice(), ctx.isReady() (the socket is welcomed), ctx.connect() (open it now,
 *   with a visitor token), ctx.busy(on) (the pre-chat form steps aside, e.g. during a call),
 *   ctx.action(label, className, onclick) (a button in the pre-chat form, above its fine print),
 *   ctx.name() (the name typed in the pre-chat form, or null), ctx.browsing() (browsing consent given, a
 *   visitor token held), ctx.chatting() (a chat is on or starting), ctx.pageSeconds() (time on this page),
 *   ctx.sendViews() (the page-view beacon, now), ctx.openChat(topic), ctx.openCallback(slotStart),
 *   ctx.openArticle(slug) (open the panel on one of those), ctx.slotText(iso) (a slot as the widget shows
 *   it), ctx.mount(node, where): "overlay" (over the page, in the widget's shadow root),
 *   "top" (the panel's top), "chat" (the chat's end, above the typing line) or "ended" (in the "Chat
 *   ended" view, above its text), ctx.agentName() (of the chat's agent), ctx.mayStore() (false after
 *   "No thanks" to storage: keep nothing past the page);
 * and then calls what the part returns, each optional:
 *   frame(f)        a frame whose type is one of `frames`
 *   error(f) -> true when the error frame was the part's (nobody else shows it)
 *   ready(openIds)  the socket is ready with these conversations open (after every reconnect)
 *   reset()         the chat's conversation was left (a new chat starts clean)
 *   closed()        the chat's conversation closed
 *   closedAway(id)  it closed while the page was away (what was sent meanwhile is missed: fetch it)
 *   consented()     browsing consent is given (also at start when it was given before)
 *   chatStarting()  the visitor starts a chat
 * The part's `css` joins the widget's stylesheet. Adding a part edits nothing in widget.js. */
const WIDGET_PARTS = [];
function registerPart(part) {
  if (!part || typeof part.name !== "string" || typeof part.make !== "function") throw new Error("widget part: name and make() are required");
  if (WIDGET_PARTS.some((p) => p.name === part.name)) throw new Error("widget part registered twice: " + part.name);
  WIDGET_PARTS.push({ name: part.name, frames: part.frames || [], channels: part.channels || [], css: part.css || "", make: part.make });
}

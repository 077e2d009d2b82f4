/* The widget's plug-in point (decision 58). A capability's part (a file its plugin declares with
 * widget_parts, served after this one and before widget.js, inside the same function) registers itself:
 *
 *   registerPart({ name, frames: ["my_frame", ...], css: "...", make(ctx) { return { ... }; } });
 *
 * widget.js calls make(ctx) once, when the widget is built, with the same context for every part:
 *   ctx.origin, ctx.lang (the page's language tag), ctx.t(key, vars), ctx.h(tag, attrs, ...children),
 *   ctx.token() (the visitor's token), ctx.send(frame) (over the widget's socket), ctx.api(method, path, body),
 *   ctx.notice(text), ctx.mount(node, where): "overlay" (over the page, in the widget's shadow root),
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
 * The part's `css` joins the widget's stylesheet. Adding a part edits nothing in widget.js. */
const WIDGET_PARTS = [];
function registerPart(part) {
  if (!part || typeof part.name !== "string" || typeof part.make !== "function") throw new Error("widget part: name and make() are required");
  if (WIDGET_PARTS.some((p) => p.name === part.name)) throw new Error("widget part registered twice: " + part.name);
  WIDGET_PARTS.push({ name: part.name, frames: part.frames || [], css: part.css || "", make: part.make });
}

/* The test-only echo channel's widget part: registered like any capability's (web/widget/parts.js). */
registerPart({ name: "echo", frames: ["echo_line"], css: ".echo-line{color:#123}", make: (ctx) => ({ frame: (f) => ctx.notice(f.text) }) });

// Agent console, composer and chrome: reply / private note, attachments, typing out, close button,
// connection banner and notices. Enter sends, Shift+Enter is a new line, Esc leaves the composer.
"use strict";

(function (CC) {
  const { el, icon, ICONS, $ } = CC;
  const S = () => CC.state;
  const input = $("composer-input");
  const form = $("composer");
  const MAX = 4000;
  let rec = null;
  let typingOn = false;
  let typingAt = 0;
  let idleTimer = null;

  function setMode(note) {
    if (!rec) return;
    if (note && typingOn) stopTyping();
    rec.note = note;
    form.classList.toggle("is-note", note);
    $("mode-reply").setAttribute("aria-pressed", String(!note));
    $("mode-note").setAttribute("aria-pressed", String(note));
    $("send-label").textContent = note ? "Add note" : "Send";
    input.placeholder = note
      ? "Private note: only agents see this"
      : `Reply to ${rec.info.customer_name}`;
  }

  function stopTyping() {
    clearTimeout(idleTimer);
    if (typingOn && rec) CC.typing(rec, false);
    typingOn = false;
  }

  function typed() {
    if (!rec) return;
    rec.draft = input.value;
    autosize();
    count();
    if (rec.note || !input.value.trim()) return stopTyping();
    if (!typingOn || Date.now() - typingAt > 3000) {
      CC.typing(rec, true);
      typingOn = true;
      typingAt = Date.now();
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stopTyping, 4000);
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight + 2, 200)}px`;
  }

  function count() {
    const n = input.value.length;
    const box = $("char-count");
    box.textContent = n > MAX - 500 ? `${n} / ${MAX}` : "";
    box.classList.toggle("over", n > MAX);
  }

  function send() {
    if (!rec || !CC.isOpen(rec)) return;
    const body = input.value.replace(/\s+$/, "");
    const staged = rec.staged || [];
    if (!body.trim() && !staged.length) return;
    if (body.length > MAX) return CC.emit("notice", `Messages are at most ${MAX} characters.`);
    stopTyping();
    CC.send(rec, body, rec.note, staged);
    rec.staged = [];
    renderStaged();
    input.value = rec.draft = "";
    autosize();
    count();
  }

  input.addEventListener("input", () => {
    typed();
    CC.picker.update(input);
  });
  input.addEventListener("keydown", (ev) => {
    if (CC.picker.key(ev, input)) return;
    if (ev.key === "Enter" && !ev.shiftKey && !ev.altKey && !ev.isComposing) {
      ev.preventDefault();
      send();
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      const item = document.querySelector(`[data-conv-id="${CSS.escape(S().selected || "")}"]`);
      (item || input).blur();
      if (item) item.focus();
    }
  });
  input.addEventListener("blur", () => setTimeout(() => document.activeElement !== input && stopTyping(), 100));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    send();
  });
  $("mode-reply").addEventListener("click", () => setMode(false) || input.focus());
  $("mode-note").addEventListener("click", () => setMode(!(rec && rec.note)) || input.focus());

  // ---- attachments (uploaded at once, sent with the next message) ----
  function renderStaged() {
    const list = (rec && rec.staged) || [];
    $("staged").replaceChildren(...list.map((a) => el("span", { class: "staged-file" }, icon(ICONS.clip),
      el("span", {}, a.name),
      el("button", { type: "button", class: "x", "aria-label": `Remove ${a.name}`, onclick: () => {
        rec.staged = rec.staged.filter((x) => x !== a);
        renderStaged();
      } }, icon(ICONS.close)))));
    $("staged").hidden = !list.length;
  }

  $("attach-input").addEventListener("change", async (ev) => {
    const files = [...ev.target.files];
    ev.target.value = "";
    const target = rec;
    for (const file of files) {
      if ((target.staged || []).length >= 5) break;
      const fd = new FormData();
      fd.append("conversation_id", target.id);
      fd.append("file", file);
      $("attach-btn").classList.add("loading");
      try {
        const ref = await CC.api("/api/chat/attachments", { method: "POST", form: fd });
        target.staged = [...(target.staged || []), ref];
        if (target === rec) renderStaged();
      } catch (err) {
        CC.emit("notice", `${file.name} was not attached: ${err.message}`);
      } finally {
        $("attach-btn").classList.remove("loading");
      }
    }
  });

  // ---- close the conversation: the wrap-up dialog asks for its outcome (console-wrapup.js) ----
  $("close-conv").addEventListener("click", () => rec && CC.emit("wrap-up", rec));

  CC.on("selected", (next) => {
    if (rec && rec !== next) stopTyping();
    rec = next;
    input.value = rec.draft || "";
    setMode(!!rec.note);
    renderStaged();
    autosize();
    count();
    CC.picker.close();
    if (CC.isOpen(rec)) input.focus({ preventScroll: true }); // pick a chat, then type
  });

  // ---- connection banner, presence, notices ----
  const PRESENCE = { online: CC.me.role === "agent" ? "Available" : "Connected", connecting: "Connecting…",
    reconnecting: "Reconnecting…", "signed-out": "Signed out", forbidden: "No access" };
  CC.on("connection", (state) => {
    const banner = $("conn-banner");
    $("presence").dataset.state = state;
    $("presence-text").textContent = PRESENCE[state] || state;
    banner.hidden = state === "online" || state === "connecting";
    banner.dataset.state = state;
    if (state === "reconnecting") {
      $("conn-title").textContent = "Reconnecting…";
      $("conn-detail").replaceChildren("Messages you send are kept and go out as soon as the connection is back.");
    } else if (state === "signed-out") {
      $("conn-title").textContent = "Your session has ended.";
      $("conn-detail").replaceChildren(el("a", { href: `/login?next=${encodeURIComponent("/staff/console")}` }, "Sign in again"));
    } else if (state === "forbidden") {
      $("conn-title").textContent = "Your role has no conversations.";
      $("conn-detail").replaceChildren();
    }
  });

  let noticeTimer = null;
  CC.on("notice", (text) => {
    const box = $("notice");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => (box.hidden = true), 6000);
  });
})(window.CC);

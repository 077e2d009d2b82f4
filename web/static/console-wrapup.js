// Agent console, wrap-up: closing a conversation asks for its outcome (sale, resolved, follow-up, ...; the
// list is the server's, GET /api/conversations/outcomes) and an optional note, then closes it with them.
// The outcome lands on the customer's timeline, in the rules' facts and on the wallboard.
"use strict";

(function (CC) {
  const { el, $ } = CC;
  const dialog = $("wrapup-dialog");
  const list = $("wrapup-outcomes");
  const note = $("wrapup-note");
  const submit = $("wrapup-submit");
  const error = $("wrapup-error");
  let target = null;
  let outcomes = null;

  async function load() {
    if (outcomes) return outcomes;
    outcomes = await CC.api("/api/conversations/outcomes");
    list.replaceChildren(
      ...outcomes.map((o) =>
        el("label", { class: "wrapup-choice" },
          el("input", { type: "radio", name: "wrapup-outcome", value: o.code }),
          el("span", {}, o.label)))
    );
    return outcomes;
  }

  function chosen() {
    const picked = list.querySelector("input:checked");
    return picked ? picked.value : null;
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  CC.on("wrap-up", async (rec) => {
    target = rec;
    showError("");
    note.value = "";
    try {
      await load();
    } catch (err) {
      CC.emit("notice", `Could not load the outcomes: ${err.message}`);
      return;
    }
    list.querySelectorAll("input").forEach((i) => { i.checked = false; });
    submit.disabled = true;
    $("wrapup-name").textContent = rec.info.customer_name;
    dialog.showModal();
    const first = list.querySelector("input");
    if (first) first.focus();
  });

  list.addEventListener("change", () => { submit.disabled = !chosen(); });
  $("wrapup-cancel").addEventListener("click", () => dialog.close());

  $("wrapup-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const outcome = chosen();
    if (!target || !outcome) return showError("Choose how the conversation ended.");
    submit.disabled = true;
    try {
      const out = await CC.api(`/api/conversations/${target.id}/close`, {
        method: "POST",
        json: { outcome, note: note.value.trim() },
      });
      dialog.close();
      CC.emit("closed-by-me", target, out);
    } catch (err) {
      showError(`Could not close the conversation: ${err.message}`);
    } finally {
      submit.disabled = !chosen();
    }
  });
})(window.CC);

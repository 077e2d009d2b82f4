// Failed searches page (GET /api/kb/manage/failed-queries, writers): the texts visitors searched before they
// opened no article and asked for a chat or a callback, most frequent first, with how often and when last.
// Every piece of data goes in with textContent (a visitor typed it).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const whenFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  const intFmt = new Intl.NumberFormat("en-GB");

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function row(q) {
    const tr = document.createElement("tr");
    const query = cell(q.query, "query");
    const when = document.createElement("td");
    when.className = "when";
    const time = document.createElement("time");
    time.dateTime = q.last_at;
    time.textContent = whenFmt.format(new Date(q.last_at));
    when.append(time);
    const langs = document.createElement("td");
    langs.className = "langs";
    for (const l of q.langs) {
      const code = document.createElement("code");
      code.textContent = l;
      langs.append(code);
    }
    tr.append(query, cell(intFmt.format(q.count), "num"), when, cell(intFmt.format(q.chat), "num"), cell(intFmt.format(q.callback), "num"), langs);
    return tr;
  }

  async function load() {
    $("failed-error").hidden = true;
    $("failed-status").textContent = "Loading…";
    try {
      const res = await fetch(`/api/kb/manage/failed-queries?days=${encodeURIComponent($("days").value)}`, { headers: { Accept: "application/json" } });
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new Error(res.status === 403 ? "your account may not read these" : (body && body.error) || `the server answered ${res.status}`);
      $("failed").querySelector("tbody").replaceChildren(...body.queries.map(row));
      $("failed").hidden = body.queries.length === 0;
      $("failed-empty").hidden = body.queries.length > 0;
      const shown = body.queries.length < body.distinct ? ` The ${body.queries.length} most frequent are listed.` : "";
      $("failed-status").textContent = body.total
        ? `${intFmt.format(body.total)} failed search${body.total === 1 ? "" : "es"}, ${intFmt.format(body.distinct)} different text${body.distinct === 1 ? "" : "s"}.${shown}`
        : "";
    } catch (err) {
      $("failed-status").textContent = "";
      $("failed-error").textContent = `Could not load the failed searches: ${err.message}.`;
      $("failed-error").hidden = false;
    }
  }

  $("days").addEventListener("change", load);
  load();
})();

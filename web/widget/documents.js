/* Document push in the widget: a document the agent shows opens at once in a viewer of the widget's own
 * (images inline, PDFs drawn by pdf.js from the app, sheets as a table) and the viewer tells the agent what
 * was seen: opened, the seconds each page was in view, closed (document_view frames). The bytes are fetched
 * with the visitor's token through the push's signed link: nothing is cached by the browser. A widget part
 * (web/widget/parts.js): registered, served inside the widget's function, so nothing here is global. */
const DOCUMENTS_CSS = `
.doc-shelf{display:flex;flex-wrap:wrap;gap:6px;padding:6px 0}
.doc-shelf[hidden]{display:none}
.doc-chip{display:inline-flex;align-items:center;gap:6px;max-width:100%;min-height:36px;padding:4px 10px;border:1px solid #cfd6e0;border-radius:18px;background:#fff;font-size:13px;cursor:pointer}
.doc-chip:hover{border-color:var(--a)}
.doc-chip-kind{font-size:10px;font-weight:800;color:var(--a)}
.doc-chip-title{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.doc-view{position:fixed;right:20px;bottom:92px;z-index:2147483004;display:flex;flex-direction:column;width:min(560px,calc(100vw - 40px));height:min(640px,calc(100vh - 120px));background:#fff;border-radius:14px;box-shadow:0 12px 48px rgba(15,30,60,.35);overflow:hidden}
.doc-view[hidden]{display:none}
.doc-head{display:flex;align-items:center;gap:10px;padding:10px 12px 10px 16px;background:var(--a);color:#fff}
.doc-title{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:15px}
.doc-close{width:36px;height:36px;border:0;border-radius:8px;background:transparent;color:#fff;font-size:24px;line-height:1;cursor:pointer}
.doc-close:hover{background:rgba(255,255,255,.18)}
.doc-body{flex:1;min-height:0;overflow:auto;padding:8px;background:#eef1f5;text-align:center}
.doc-canvas,.doc-image{display:block;max-width:100%;height:auto;margin:0 auto;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.2)}
.doc-sheet{overflow:auto;text-align:left;background:#fff}
.doc-table{border-collapse:collapse;font-size:13px}
.doc-table th,.doc-table td{padding:5px 9px;border:1px solid #dde2ea;white-space:nowrap}
.doc-table th{background:#f4f6f9;font-weight:700}
.doc-loading,.doc-error,.doc-more{margin:18px;color:#5b6573;font-size:14px}
.doc-nav{display:flex;align-items:center;justify-content:center;gap:12px;padding:8px;border-top:1px solid #e3e7ee}
.doc-nav[hidden]{display:none}
.doc-nav button{min-height:40px;padding:0 12px;border-radius:8px;white-space:nowrap}
.doc-page{font-size:14px;min-width:0;white-space:nowrap}
@media (max-width:479px){.doc-view{inset:0;width:auto;height:auto;border-radius:0}}
`;
function makeDocuments(o) {
  // o: the parts' context (parts.js); the shelf of pushed documents sits at the chat's end.
  const shelf = o.h("div", { class: "doc-shelf", hidden: true, role: "group", "aria-label": o.t("doc.shelf") });
  o.mount(shelf, "chat");
  const PDFJS = o.origin + "/documents/pdfjs/";
  let pdfjs = null;
  let cur = null; // { f, pdf, page, pages, since, url }
  const ui = {};

  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text) n.textContent = text;
    return n;
  }
  function build() {
    if (ui.box) return;
    ui.box = el("div", "doc-view");
    ui.box.setAttribute("role", "dialog");
    ui.box.setAttribute("aria-modal", "true");
    const head = el("div", "doc-head");
    ui.title = el("strong", "doc-title");
    ui.box.setAttribute("aria-label", o.t("doc.title"));
    ui.close = el("button", "doc-close", "×");
    ui.close.type = "button";
    ui.close.setAttribute("aria-label", o.t("doc.close"));
    ui.close.onclick = () => close();
    head.append(ui.title, ui.close);
    ui.body = el("div", "doc-body");
    ui.nav = el("div", "doc-nav");
    ui.prev = el("button", "secondary", o.t("doc.prev"));
    ui.next = el("button", "secondary", o.t("doc.next"));
    ui.prev.type = ui.next.type = "button";
    ui.prev.onclick = () => turn(-1);
    ui.next.onclick = () => turn(1);
    ui.pageText = el("span", "doc-page");
    ui.pageText.setAttribute("aria-live", "polite");
    ui.nav.append(ui.prev, ui.pageText, ui.next);
    ui.box.append(head, ui.body, ui.nav);
    ui.box.hidden = true;
    ui.box.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
      else if (e.key === "ArrowRight" && cur && cur.pdf) turn(1);
      else if (e.key === "ArrowLeft" && cur && cur.pdf) turn(-1);
    });
    o.mount(ui.box, "overlay");
  }
  function tell(event, extra) {
    if (cur) o.send(Object.assign({ type: "document_view", push_id: cur.f.push_id, event }, extra || {}));
  }
  // The seconds the current page was in view, told when the page changes or the viewer closes.
  function pageDone() {
    if (!cur || !cur.since) return;
    const seconds = Math.min(3600, (Date.now() - cur.since) / 1000);
    cur.since = 0;
    if (seconds >= 0.05) tell("page", { page: cur.page, seconds: Math.round(seconds * 10) / 10 });
  }
  function pageStart() {
    if (cur) cur.since = document.visibilityState === "hidden" ? 0 : Date.now();
  }
  document.addEventListener("visibilitychange", () => (document.visibilityState === "hidden" ? pageDone() : pageStart()));

  async function bytes(url) {
    const r = await fetch(o.origin + url, { headers: { Authorization: "Bearer " + o.token() }, cache: "no-store" });
    if (!r.ok) {
      let code = "";
      try {
        code = (await r.json()).error || "";
      } catch (e) {
        /* not JSON */
      }
      throw new Error(code === "link_expired" ? o.t("doc.expired") : o.t("doc.failed"));
    }
    return r;
  }
  async function loadPdfjs() {
    if (pdfjs) return pdfjs;
    const lib = await import(PDFJS + "pdf.min.mjs");
    lib.GlobalWorkerOptions.workerSrc = PDFJS + "pdf.worker.min.mjs"; // the app's own worker, never a CDN
    pdfjs = lib;
    return lib;
  }
  async function drawPage() {
    const mine = cur;
    const page = await mine.pdf.getPage(mine.page);
    if (cur !== mine) return;
    const width = Math.max(200, ui.body.clientWidth - 16);
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: width / base.width });
    const ratio = window.devicePixelRatio || 1;
    const canvas = el("canvas", "doc-canvas");
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = Math.floor(viewport.width) + "px";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", o.t("doc.page", { n: mine.page, total: mine.pages }));
    const ctx = canvas.getContext("2d");
    const transform = ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null;
    await page.render({ canvas, canvasContext: ctx, viewport, transform }).promise;
    if (cur !== mine) return;
    ui.body.replaceChildren(canvas);
    ui.body.scrollTop = 0;
    ui.pageText.textContent = o.t("doc.page", { n: mine.page, total: mine.pages });
    ui.prev.disabled = mine.page <= 1;
    ui.next.disabled = mine.page >= mine.pages;
    ui.box.dataset.page = String(mine.page);
    ui.box.dataset.rendered = "1";
  }
  function turn(step) {
    if (cur) goTo(cur.page + step);
  }
  function goTo(target) {
    if (!cur || !cur.pdf) return;
    const page = Math.min(cur.pages, Math.max(1, target));
    if (page === cur.page) return;
    pageDone();
    cur.page = page;
    pageStart();
    drawPage().catch(() => o.notice(o.t("doc.failed")));
  }
  function table(rows, truncated) {
    const t = el("table", "doc-table");
    rows.forEach((row, i) => {
      const tr = el("tr");
      for (const cell of row) tr.append(el(i === 0 ? "th" : "td", "", cell));
      t.append(tr);
    });
    const wrap = el("div", "doc-sheet");
    wrap.append(t);
    if (truncated) wrap.append(el("p", "doc-more", o.t("doc.truncated")));
    return wrap;
  }
  async function show(f) {
    build();
    if (cur) close();
    cur = { f, pdf: null, page: 1, pages: 1, since: 0, url: null };
    const mine = cur;
    ui.title.textContent = f.title;
    ui.box.dataset.type = f.content_type;
    ui.box.dataset.rendered = "";
    ui.body.replaceChildren(el("p", "doc-loading", o.t("doc.loading")));
    ui.nav.hidden = true;
    ui.box.hidden = false;
    ui.close.focus();
    try {
      if (f.content_type.startsWith("image/")) {
        mine.url = URL.createObjectURL(await (await bytes(f.url)).blob());
        if (cur !== mine) return URL.revokeObjectURL(mine.url);
        const img = el("img", "doc-image");
        img.alt = f.title;
        img.onload = () => (ui.box.dataset.rendered = "1");
        img.src = mine.url;
        ui.body.replaceChildren(img);
      } else if (f.content_type === "application/pdf") {
        const [lib, data] = await Promise.all([loadPdfjs(), bytes(f.url).then((r) => r.arrayBuffer())]);
        const pdf = await lib.getDocument({
          data, isEvalSupported: false, // CVE-2024-4367: never compile font code, whatever the version
          cMapUrl: PDFJS + "cmaps/", cMapPacked: true, standardFontDataUrl: PDFJS + "standard_fonts/",
          wasmUrl: PDFJS + "wasm/", iccUrl: PDFJS + "iccs/",
        }).promise;
        if (cur !== mine) return pdf.destroy();
        Object.assign(mine, { pdf, pages: pdf.numPages });
        ui.nav.hidden = pdf.numPages < 2;
        await drawPage();
      } else {
        const data = await (await bytes(f.url + "/table")).json();
        if (cur !== mine) return;
        ui.body.replaceChildren(table(data.rows, data.truncated));
        ui.box.dataset.rendered = "1";
      }
    } catch (e) {
      if (cur === mine) ui.body.replaceChildren(el("p", "doc-error", e.message || o.t("doc.failed")));
      return;
    }
    tell("opened", { page_count: mine.pages });
    pageStart();
  }
  function close() {
    if (!cur) return;
    pageDone();
    tell("closed");
    if (cur.pdf) cur.pdf.destroy();
    if (cur.url) URL.revokeObjectURL(cur.url);
    cur = null;
    ui.box.hidden = true;
    ui.body.replaceChildren();
  }
  // The chat's shelf: every document shown in this conversation, to open again (after a page change too).
  const shelved = new Map(); // push id -> frame
  function shelve(f) {
    if (shelved.has(f.push_id)) return;
    shelved.set(f.push_id, f);
    const b = el("button", "doc-chip");
    b.type = "button";
    b.append(el("span", "doc-chip-kind", f.content_type === "application/pdf" ? "PDF" : f.content_type.startsWith("image/") ? "IMG" : "XLS"));
    b.append(el("span", "doc-chip-title", f.title));
    b.title = o.t("doc.open", { title: f.title });
    b.onclick = () => show(f);
    shelf.append(b);
    shelf.hidden = false;
  }
  return {
    frame(f) {
      // The agent turned the page for both: only the document on screen follows.
      if (f.type === "document_turn") return cur && cur.f.push_id === f.push_id && goTo(f.page);
      if (f.type !== "document") return;
      shelve(f);
      show(f);
    },
    // The socket is ready with these conversations open: put back what was shown in them.
    async ready(openIds) {
      for (const cid of openIds) {
        try {
          const r = await fetch(o.origin + "/api/documents/shown/" + encodeURIComponent(cid), { headers: { Authorization: "Bearer " + o.token() } });
          if (r.ok) (await r.json()).forEach(shelve);
        } catch (e) {
          /* the shelf stays as it is; a new push still shows */
        }
      }
    },
    reset() {
      shelved.clear();
      shelf.replaceChildren();
      shelf.hidden = true;
      close();
    },
    error(f) {
      if (f.code === "push_not_found" || f.code === "invalid_page") return true; // receipts only: nothing to show
      return false;
    },
  };
}
registerPart({ name: "documents", frames: ["document", "document_turn"], css: DOCUMENTS_CSS, make: makeDocuments });

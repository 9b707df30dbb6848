// The extension's side (isolated world): connects to the local papercycle language server
// (WebSocket URL + token from the options page), sends it the open Overleaf document, turns
// its diagnostics into highlights (through src/overleaf-cm6.js), tooltips, and a side panel
// with the review. Overleaf's text is never edited from here.
(() => {
  const PAGE = "papercycle-page";
  const EXT = "papercycle-ext";
  const SEVERITY = { 1: "error", 2: "warning", 3: "info", 4: "hint" };
  const project = (location.pathname.match(/\/project\/([^/]+)/) || [])[1] || "project";
  // The server reads a project from disk: the open document is given the path of its file in
  // a local copy of the project (Overleaf's git sync) when the options name one; otherwise a
  // virtual path (see the README: the server does not review a document without a file yet).
  let uri = `file:///overleaf/${encodeURIComponent(project)}/main.tex`;
  const state = { text: null, version: 0, sent: 0, socket: null, ready: false, nextId: 1, pending: new Map(), comments: [], settings: {}, status: "starting", delay: 1000 };
  window.papercycleOverleaf = state; // for the extension's own test (isolated world only)

  // -- panel and tooltip (a shadow root: Overleaf's styles do not leak in) --------------
  const host = document.createElement("div");
  host.id = "papercycle-root";
  const shadow = host.attachShadow({ mode: "open" });
  shadow.innerHTML = `
    <style>
      #papercycle-panel { position: fixed; top: 48px; right: 0; bottom: 0; width: 320px; z-index: 2147483000; background: #fff; border-left: 1px solid #ccd; font: 13px/1.4 system-ui, sans-serif; color: #1d2330; display: flex; flex-direction: column; box-shadow: -2px 0 6px rgba(0,0,0,.08); }
      #papercycle-panel.collapsed { width: 34px; } #papercycle-panel.collapsed .body { display: none; }
      header { display: flex; align-items: center; gap: .5em; padding: .4em .6em; background: #25324a; color: #fff; }
      header button { margin-left: auto; }
      .body { overflow: auto; padding: 0 .7em .7em; }
      h3 { font-size: 11px; text-transform: uppercase; color: #5a6477; margin: .9em 0 .3em; }
      li { cursor: pointer; padding: .2em 0; border-bottom: 1px solid #eef; } ul { list-style: none; margin: 0; padding: 0; }
      .error { color: #b00020; } .warning { color: #8a5a00; }
      #papercycle-tooltip { position: fixed; z-index: 2147483001; max-width: 420px; background: #fffbe6; border: 1px solid #d9b44a; padding: 4px 8px; font: 13px/1.4 system-ui, sans-serif; color: #222; box-shadow: 0 2px 6px rgba(0,0,0,.2); white-space: pre-wrap; }
      table { border-collapse: collapse; } td, th { border: 1px solid #ccd; padding: 0 5px; }
    </style>
    <div id="papercycle-panel">
      <header><strong>papercycle</strong><span id="status"></span><button id="toggle" title="collapse">⇔</button></header>
      <div class="body">
        <h3>Review</h3><div id="summary">No review yet.</div><div id="scores"></div>
        <p><button id="review">Review now</button></p>
        <h3>Comments (<span id="count">0</span>)</h3><ul id="comments"></ul>
      </div>
    </div>
    <div id="papercycle-tooltip" hidden></div>`;
  const $ = (id) => shadow.getElementById(id);
  const mount = () => document.documentElement.append(host);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
  $("toggle").onclick = () => $("papercycle-panel").classList.toggle("collapsed");
  $("review").onclick = () => request("workspace/executeCommand", { command: "papercycle.reviewDocument", arguments: [uri] }).catch(() => {});

  function setStatus(text) {
    state.status = text;
    $("status").textContent = text;
  }

  // hover tooltips on the highlights
  document.addEventListener("mouseover", (event) => {
    const mark = event.target instanceof Element && event.target.closest(".papercycle-mark");
    const tip = $("papercycle-tooltip");
    if (!mark) {
      tip.hidden = true;
      return;
    }
    const comment = state.comments.find((c) => String(c.id) === mark.getAttribute("data-papercycle-id"));
    if (!comment) return;
    const rect = mark.getBoundingClientRect();
    tip.textContent = `${comment.code ? `[${comment.code}] ` : ""}${comment.message}`;
    tip.style.left = `${Math.max(4, rect.left)}px`;
    tip.style.top = `${rect.bottom + 4}px`;
    tip.hidden = false;
  });

  // -- the language server --------------------------------------------------------------
  function send(message) {
    if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return false;
    state.socket.send(JSON.stringify({ jsonrpc: "2.0", ...message }));
    return true;
  }
  function request(method, params, early = false) {
    if (!early && !state.ready) return Promise.reject(new Error("not connected"));
    const id = state.nextId++;
    return new Promise((resolve, reject) => {
      state.pending.set(id, { resolve, reject });
      if (!send({ id, method, params })) {
        state.pending.delete(id);
        reject(new Error("not connected"));
      }
    });
  }
  const notify = (method, params) => send({ method, params });

  async function connect() {
    const { serverUrl, settings, folder, mainFile } = await chrome.storage.local.get(["serverUrl", "settings", "folder", "mainFile"]);
    if (folder) uri = `file://${folder.replace(/\/+$/, "").split("/").map(encodeURIComponent).join("/")}/${encodeURIComponent(mainFile || "main.tex")}`;
    state.settings = { checkFrequency: "edit", debounceMs: 2000, ...(settings || {}) };
    if (!serverUrl) {
      setStatus("no server: set its URL in the extension's options");
      return;
    }
    setStatus("connecting");
    const socket = new WebSocket(serverUrl);
    socket.binaryType = "arraybuffer";
    state.socket = socket;
    socket.onopen = async () => {
      const result = await request("initialize", {
        processId: null,
        rootUri: null,
        clientInfo: { name: "papercycle-overleaf", version: "0.1.0" },
        capabilities: {
          general: { positionEncodings: ["utf-16"] },
          workspace: { configuration: true, applyEdit: false },
          window: { workDoneProgress: true },
          textDocument: { publishDiagnostics: { versionSupport: true }, hover: { contentFormat: ["plaintext", "markdown"] } },
        },
        initializationOptions: state.settings,
      }, true);
      state.capabilities = result.capabilities;
      notify("initialized", {});
      state.ready = true;
      state.delay = 1000;
      state.sent = 0;
      setStatus("connected");
      sync();
    };
    socket.onmessage = (event) => receive(typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data));
    socket.onclose = () => {
      if (state.socket !== socket) return;
      state.ready = false;
      setStatus("disconnected: retrying");
      for (const p of state.pending.values()) p.reject(new Error("connection lost"));
      state.pending.clear();
      setTimeout(connect, state.delay);
      state.delay = Math.min(state.delay * 2, 30000);
    };
  }

  function sync() {
    if (!state.ready || state.text == null || state.sent === state.version) return;
    if (state.sent === 0) notify("textDocument/didOpen", { textDocument: { uri, languageId: "latex", version: state.version, text: state.text } });
    else notify("textDocument/didChange", { textDocument: { uri, version: state.version }, contentChanges: [{ text: state.text }] });
    state.sent = state.version;
  }

  async function receive(data) {
    let message;
    try { message = JSON.parse(data); } catch { return; }
    if (message.id !== undefined && message.method === undefined) {
      const entry = state.pending.get(message.id);
      state.pending.delete(message.id);
      if (entry) message.error ? entry.reject(new Error(message.error.message)) : entry.resolve(message.result);
      return;
    }
    if (message.id !== undefined) {
      let result = null;
      if (message.method === "workspace/configuration") result = (message.params.items || []).map((i) => (i.section === "papercycle" ? state.settings : null));
      else if (message.method === "workspace/applyEdit") result = { applied: false, failureReason: "edit the document in Overleaf" };
      send({ id: message.id, result });
      return;
    }
    if (message.method === "textDocument/publishDiagnostics" && message.params.uri === uri) onDiagnostics(message.params);
    if (message.method === "$/progress" && message.params.value) {
      const v = message.params.value;
      setStatus(v.kind === "end" ? "connected" : `${(v.title || "").replace(/^papercycle: /, "")} ${v.message || ""}`.trim());
      if (v.kind === "end") refreshSummary();
    }
  }

  function offset(text, position) {
    let at = 0;
    for (let line = 0; line < position.line; line++) {
      const next = text.indexOf("\n", at);
      if (next < 0) return text.length;
      at = next + 1;
    }
    const end = text.indexOf("\n", at);
    return Math.min(at + position.character, end < 0 ? text.length : end);
  }

  function onDiagnostics(params) {
    if (params.version != null && params.version !== state.version) return; // an older text
    const text = state.text || "";
    state.comments = params.diagnostics.map((d, i) => {
      const from = offset(text, d.range.start);
      let to = offset(text, d.range.end);
      if (to <= from) to = Math.min(text.length, from + 1);
      return { id: i + 1, from, to, line: d.range.start.line + 1, severity: SEVERITY[d.severity] || "info", message: d.message, code: d.code };
    });
    window.postMessage({ source: EXT, type: "comments", comments: state.comments.map(({ id, from, to, severity }) => ({ id, from, to, severity })) }, location.origin);
    const list = $("comments");
    list.replaceChildren();
    for (const c of state.comments) {
      const li = document.createElement("li");
      li.className = c.severity;
      li.textContent = `line ${c.line} [${c.code || "comment"}] ${c.message}`;
      li.onclick = () => window.postMessage({ source: EXT, type: "reveal", from: c.from }, location.origin);
      list.append(li);
    }
    $("count").textContent = String(state.comments.length);
    refreshSummary();
  }

  async function refreshSummary() {
    if (!state.ready || state.text == null) return;
    const at = state.text.search(/\\title\b/);
    try {
      const lenses = await request("textDocument/codeLens", { textDocument: { uri } });
      const lens = (lenses || []).find((l) => l.command && l.command.command === "papercycle.reviewDocument");
      if (lens) $("summary").textContent = lens.command.title;
      if (at >= 0) {
        const lines = state.text.slice(0, at).split("\n");
        const hover = await request("textDocument/hover", { textDocument: { uri }, position: { line: lines.length - 1, character: lines[lines.length - 1].length + 1 } });
        const value = hover && hover.contents ? (hover.contents.value ?? String(hover.contents)) : "";
        $("scores").textContent = value.replace(/\*\*/g, "").replace(/`/g, "");
      }
    } catch {
      // not connected: the next publish refreshes it
    }
  }

  // the page's editor (src/overleaf-cm6.js) sends its text
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (event.source !== window || event.origin !== location.origin || !data || data.source !== PAGE) return;
    if (data.type === "doc" && typeof data.text === "string" && data.text !== state.text) {
      state.text = data.text;
      state.version += 1;
      sync();
    }
    if (data.type === "unsupported") setStatus("this Overleaf editor is not supported (its extension API changed)");
  });

  connect();
})();

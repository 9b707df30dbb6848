// papercycle's browser editor: a LaTeX project in CodeMirror 6 (file tree, tabs), connected to
// the papercycle language server over WebSocket. Review comments are lint marks (inline,
// gutter, hover tooltip); code actions, commands, progress and drafts are handled here, since
// @codemirror/lsp-client has none of them.
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection, hoverTooltip,
  Decoration, WidgetType,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { StreamLanguage, syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { stex } from "@codemirror/legacy-modes/mode/stex";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { searchKeymap } from "@codemirror/search";
import { marked } from "marked";
import { LspClient, toOffset, toPosition } from "./lsp.js";

const params = new URLSearchParams(location.search);
const token = params.get("token") || sessionStorage.getItem("papercycle-token") || "";
sessionStorage.setItem("papercycle-token", token);
if (params.has("token")) window.history.replaceState(null, "", location.pathname); // keep it out of the address bar

const $ = (id) => document.getElementById(id);
const SEVERITY = { 1: "error", 2: "warning", 3: "info", 4: "hint" };

const app = {
  config: null,
  docs: new Map(), // path -> { path, uri, state, version, saved, diagnostics, opened }
  order: [], // open tabs
  active: null,
  client: null,
  progress: new Map(),
  drafts: new Map(), // draft id -> { id, uri, section, text, done, cancelled }
  offer: null, // { draft, edit, resolve, from, text }
  messages: [],
  alerts: [], // errors and warnings pinned at the top of the panel, each once
  lspDiagnostics: new Map(), // uri -> [Diagnostic]
};
window.papercycle = app; // the browser test reads the model through this

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "X-Papercycle-Token": token, ...(options.headers || {}) },
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response;
}

// -- the draft preview inside the text ----------------------------------------------------

const setPreview = StateEffect.define();

class DraftWidget extends WidgetType {
  constructor(title, text) {
    super();
    this.title = title;
    this.text = text;
  }
  eq(other) {
    return other.title === this.title && other.text === this.text;
  }
  toDOM() {
    const box = document.createElement("div");
    box.className = "pc-draft-inline";
    const head = document.createElement("div");
    head.className = "pc-draft-inline-title";
    head.textContent = this.title;
    const body = document.createElement("pre");
    body.textContent = this.text;
    box.append(head, body);
    return box;
  }
}

const previewField = StateField.define({
  create: () => Decoration.none,
  update(value, tr) {
    value = value.map(tr.changes);
    for (const effect of tr.effects) {
      if (effect.is(setPreview)) {
        const spec = effect.value;
        value = spec
          ? Decoration.set([
              Decoration.widget({ widget: new DraftWidget(spec.title, spec.text), block: true, side: 1 }).range(
                Math.min(spec.at, tr.state.doc.length),
              ),
            ])
          : Decoration.none;
      }
    }
    return value;
  },
  provide: (field) => EditorView.decorations.from(field),
});

// -- documents ----------------------------------------------------------------------------

function uriOf(path) {
  const root = app.config.root.endsWith("/") ? app.config.root : app.config.root + "/";
  return root + path.split("/").map(encodeURIComponent).join("/");
}

function docByUri(uri) {
  for (const doc of app.docs.values()) if (doc.uri === uri || decodeURIComponent(doc.uri) === decodeURIComponent(uri)) return doc;
  return null;
}

function currentState(doc) {
  return app.active === doc.path && view ? view.state : doc.state;
}

function textOf(doc) {
  return currentState(doc).doc.toString();
}

function extensions() {
  return [
    lineNumbers(),
    lintGutter(),
    history(),
    drawSelection(),
    highlightActiveLine(),
    StreamLanguage.define(stex),
    syntaxHighlighting(defaultHighlightStyle),
    EditorView.lineWrapping,
    previewField,
    hoverTooltip(lspHover, { hoverTime: 400 }),
    keymap.of([
      { key: "Mod-s", preventDefault: true, run: () => (saveActive(), true) },
      { key: "Mod-.", run: () => (showActions(), true) },
      indentWithTab,
      ...defaultKeymap,
      ...historyKeymap,
      ...searchKeymap,
    ]),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) changed(app.docs.get(app.active));
      if (update.selectionSet || update.docChanged) scheduleActions();
    }),
  ];
}

let view = null;
const syncTimers = new Map();

function changed(doc) {
  if (!doc) return;
  doc.version += 1;
  renderTabs();
  clearTimeout(syncTimers.get(doc.path));
  syncTimers.set(doc.path, setTimeout(() => sync(doc), 150));
}

/** Send the document's text if the server has an older version (before any request too). */
function sync(doc) {
  clearTimeout(syncTimers.get(doc.path));
  syncTimers.delete(doc.path);
  if (!app.client || !app.client.ready || !doc.opened || doc.sent === doc.version) return;
  app.client.notify("textDocument/didChange", {
    textDocument: { uri: doc.uri, version: doc.version },
    contentChanges: [{ text: textOf(doc) }],
  });
  doc.sent = doc.version;
}

function syncAll() {
  for (const doc of app.docs.values()) sync(doc);
}

function openOnServer(doc) {
  if (!app.client || !app.client.ready) return;
  app.client.notify("textDocument/didOpen", {
    textDocument: { uri: doc.uri, languageId: "latex", version: doc.version, text: textOf(doc) },
  });
  doc.opened = true;
  doc.sent = doc.version;
}

async function openFile(path) {
  let doc = app.docs.get(path);
  if (!doc) {
    const text = await (await api(`/api/file?path=${encodeURIComponent(path)}`)).text();
    doc = {
      path,
      uri: uriOf(path),
      state: EditorState.create({ doc: text, extensions: extensions() }),
      version: 1,
      saved: text,
      opened: false,
    };
    app.docs.set(path, doc);
    app.order.push(path);
    openOnServer(doc);
  }
  activate(path);
  return doc;
}

function activate(path) {
  if (app.active && app.docs.get(app.active) && view) app.docs.get(app.active).state = view.state;
  app.active = path;
  const doc = app.docs.get(path);
  if (!view) view = new EditorView({ state: doc.state, parent: $("editor") });
  else view.setState(doc.state);
  app.view = view;
  applyDiagnostics(doc);
  renderTabs();
  renderTree();
  scheduleActions();
}

function isDirty(doc) {
  return textOf(doc) !== doc.saved;
}

async function saveActive() {
  const doc = app.docs.get(app.active);
  if (!doc) return;
  const text = textOf(doc);
  await api(`/api/file?path=${encodeURIComponent(doc.path)}`, { method: "PUT", body: text });
  doc.saved = text;
  sync(doc);
  if (app.client && app.client.ready) app.client.notify("textDocument/didSave", { textDocument: { uri: doc.uri } });
  note(`saved ${doc.path}`);
  renderTabs();
}

// -- diagnostics (review comments) ----------------------------------------------------------

function applyDiagnostics(doc) {
  const diagnostics = app.lspDiagnostics.get(doc.uri) || [];
  const state = currentState(doc);
  const cm = diagnostics.map((d) => {
    const from = toOffset(state.doc, d.range.start);
    let to = toOffset(state.doc, d.range.end);
    if (to <= from) to = Math.min(state.doc.length, from + 1);
    return {
      from,
      to,
      severity: SEVERITY[d.severity] || "info",
      source: d.code ? `papercycle · ${d.code}` : "papercycle",
      message: d.message,
      markClass: "pc-comment",
      actions: [{ name: "Actions…", apply: (v, f) => { v.dispatch({ selection: { anchor: f } }); showActions(); } }],
    };
  });
  const spec = setDiagnostics(state, cm);
  if (app.active === doc.path && view) view.dispatch(spec);
  else doc.state = doc.state.update(spec).state;
  renderComments();
}

function onDiagnostics(params) {
  const doc = docByUri(params.uri);
  if (doc && params.version != null && params.version < doc.version) return; // an older text: a newer one follows
  app.lspDiagnostics.set(doc ? doc.uri : params.uri, params.diagnostics);
  if (doc) applyDiagnostics(doc);
  else renderComments();
  scheduleReviewPanel();
}

function renderComments() {
  const list = $("comments");
  list.replaceChildren();
  let count = 0;
  for (const [uri, diagnostics] of app.lspDiagnostics) {
    const path = pathOfUri(uri);
    for (const d of diagnostics) {
      count += 1;
      const item = document.createElement("li");
      item.className = `pc-comment-item pc-${SEVERITY[d.severity] || "info"}`;
      item.dataset.line = String(d.range.start.line + 1);
      item.dataset.path = path;
      item.textContent = `${path}:${d.range.start.line + 1} [${d.code || "comment"}] ${d.message}`;
      item.onclick = async () => {
        const doc = await openFile(path);
        const at = toOffset(view.state.doc, d.range.start);
        view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
        view.focus();
        showActions();
      };
      list.append(item);
    }
  }
  $("comment-count").textContent = String(count);
}

function pathOfUri(uri) {
  const root = app.config.root.endsWith("/") ? app.config.root : app.config.root + "/";
  return decodeURIComponent(uri.startsWith(root) ? uri.slice(root.length) : uri);
}

// -- hover --------------------------------------------------------------------------------

async function lspHover(v, pos) {
  const doc = app.docs.get(app.active);
  if (!doc || !app.client || !app.client.ready) return null;
  sync(doc);
  let result;
  try {
    result = await app.client.request("textDocument/hover", {
      textDocument: { uri: doc.uri },
      position: toPosition(v.state.doc, pos),
    });
  } catch {
    return null;
  }
  if (!result || !result.contents) return null;
  const markdown = contentsText(result.contents);
  if (!markdown.trim()) return null;
  return {
    pos,
    above: true,
    create: () => {
      const dom = document.createElement("div");
      dom.className = "pc-hover";
      dom.innerHTML = renderMarkdown(markdown);
      return { dom };
    },
  };
}

function contentsText(contents) {
  if (typeof contents === "string") return contents;
  if (Array.isArray(contents)) return contents.map(contentsText).join("\n\n");
  return contents.value || "";
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Model output is untrusted: HTML is escaped before markdown, links are rendered as text.
marked.use({ renderer: { link: ({ text }) => text, image: ({ text }) => escapeHtml(text || "") } });
function renderMarkdown(markdown) {
  return marked.parse(escapeHtml(markdown));
}

// -- code actions and commands --------------------------------------------------------------

let actionsTimer = null;
function scheduleActions() {
  clearTimeout(actionsTimer);
  actionsTimer = setTimeout(showActions, 300);
}

async function showActions() {
  const doc = app.docs.get(app.active);
  const box = $("actions");
  if (!doc || !app.client || !app.client.ready || !view) return;
  sync(doc);
  const sel = view.state.selection.main;
  const range = { start: toPosition(view.state.doc, sel.from), end: toPosition(view.state.doc, sel.to) };
  const diagnostics = (app.lspDiagnostics.get(doc.uri) || []).filter((d) => {
    const from = toOffset(view.state.doc, d.range.start), to = toOffset(view.state.doc, d.range.end);
    return from <= sel.to && sel.from <= to;
  });
  let actions;
  try {
    actions = await app.client.request("textDocument/codeAction", {
      textDocument: { uri: doc.uri },
      range,
      context: { diagnostics },
    });
  } catch {
    return;
  }
  box.replaceChildren();
  for (const action of actions || []) {
    const button = document.createElement("button");
    button.className = "pc-action";
    button.textContent = action.title;
    button.onclick = () => runAction(action);
    box.append(button);
  }
  if (!box.children.length) box.textContent = "No actions here.";
}

async function runAction(action) {
  if (action.edit && !applyWorkspaceEdit(action.edit)) {
    note("the text changed; action not applied");
    return;
  }
  const command = typeof action.command === "string" ? action : action.command;
  if (command && command.command === "papercycle.draftSection") {
    // the preview streams below the cursor's line until the server says where it goes
    const doc = app.docs.get(app.active);
    if (doc && view) doc.draftAt = view.state.doc.lineAt(view.state.selection.main.head).to;
    app.streaming = null;
  }
  if (command) await execute(command.command, command.arguments || []);
  scheduleActions();
}

async function execute(command, args) {
  syncAll();
  try {
    return await app.client.request("workspace/executeCommand", { command, arguments: args });
  } catch (error) {
    note(`${command}: ${error.message}`);
    return null;
  }
}

/** Apply a WorkspaceEdit to open documents; false when a versioned document moved on. */
function applyWorkspaceEdit(edit) {
  const groups = [];
  for (const change of edit.documentChanges || []) {
    if (!change.textDocument) continue; // file operations are not offered by this server
    groups.push([change.textDocument.uri, change.textDocument.version, change.edits]);
  }
  for (const [uri, edits] of Object.entries(edit.changes || {})) groups.push([uri, null, edits]);
  const plans = [];
  for (const [uri, version, edits] of groups) {
    const doc = docByUri(uri);
    if (!doc) return false;
    if (version != null && version !== doc.version) return false;
    plans.push([doc, edits]);
  }
  for (const [doc, edits] of plans) {
    const state = currentState(doc);
    const changes = edits.map((e) => ({
      from: toOffset(state.doc, e.range.start),
      to: toOffset(state.doc, e.range.end),
      insert: e.newText,
    }));
    if (app.active === doc.path && view) view.dispatch({ changes });
    else {
      doc.state = doc.state.update({ changes }).state;
      changed(doc);
    }
  }
  return true;
}

// -- drafts ---------------------------------------------------------------------------------

function onDraft(params) {
  let draft = app.drafts.get(params.id);
  if (!draft) {
    draft = { id: params.id, uri: params.uri, section: params.section, text: "", done: false };
    app.drafts.set(params.id, draft);
    app.streaming = draft;
  }
  draft.text += params.chunk || "";
  if (params.done) {
    draft.done = true;
    draft.cancelled = !!params.cancelled;
  }
  renderDraft();
}

function draftAnchor(doc) {
  return doc.draftAt != null ? Math.min(doc.draftAt, currentState(doc).doc.length) : 0;
}

function renderDraft() {
  const offer = app.offer;
  const draft = offer ? offer.draft : app.streaming;
  const panel = $("draft");
  panel.hidden = !draft;
  $("draft-accept").disabled = !offer;
  $("draft-reject").disabled = !draft;
  if (!draft) {
    if (view) view.dispatch({ effects: setPreview.of(null) });
    return;
  }
  const status = draft.cancelled ? "cancelled" : offer ? "ready: accept or reject" : draft.done ? "done" : "streaming…";
  $("draft-title").textContent = `Draft of ${draft.section} (${status})`;
  const text = offer ? offer.text : draft.text;
  $("draft-text").textContent = text;
  const doc = docByUri(offer ? offer.uri : draft.uri);
  if (doc && app.active === doc.path && view) {
    const at = offer ? offer.from : draftAnchor(doc);
    view.dispatch({ effects: setPreview.of({ at, title: `papercycle draft of ${draft.section} (${status})`, text }) });
  }
}

function holdDraftEdit(params) {
  const edit = params.edit;
  let uri, version, first;
  for (const change of edit.documentChanges || []) {
    if (change.textDocument && change.edits && change.edits.length) {
      uri = change.textDocument.uri;
      version = change.textDocument.version;
      first = change.edits[0];
      break;
    }
  }
  if (!first) {
    const [u, edits] = Object.entries(edit.changes || {})[0] || [];
    uri = u;
    first = edits && edits[0];
  }
  const doc = docByUri(uri);
  if (!doc || !first) return { applied: false, failureReason: "document not open" };
  let draft = app.streaming && app.streaming.done ? app.streaming : null;
  if (!draft) draft = { id: params.label, uri, section: params.label.replace(/^papercycle: draft of /, ""), text: first.newText, done: true };
  if (app.offer) app.offer.resolve({ applied: false, failureReason: "superseded by a newer draft" });
  return new Promise((resolve) => {
    app.offer = {
      draft,
      edit,
      uri,
      version,
      resolve,
      text: first.newText,
      from: toOffset(currentState(doc).doc, first.range.start),
    };
    if (app.active !== doc.path) activate(doc.path);
    renderDraft();
  });
}

function acceptDraft() {
  const offer = app.offer;
  if (!offer) return false;
  const ok = applyWorkspaceEdit(offer.edit);
  app.offer = null;
  app.streaming = null;
  offer.resolve(ok ? { applied: true } : { applied: false, failureReason: "the text changed since the draft was made" });
  note(ok ? `draft of ${offer.draft.section} inserted (not saved)` : "the text changed; draft not inserted");
  renderDraft();
  return ok;
}

function rejectDraft() {
  if (app.offer) app.offer.resolve({ applied: false, failureReason: "rejected by the user" });
  app.offer = null;
  app.streaming = null;
  renderDraft();
}

async function draftSection() {
  const doc = app.docs.get(app.active);
  if (!doc) return;
  const pos = view.state.selection.main.head;
  doc.draftAt = view.state.doc.lineAt(pos).to;
  app.streaming = null;
  await execute("papercycle.draftSection", [doc.uri, toPosition(view.state.doc, pos)]);
}

// -- review panel, progress, messages --------------------------------------------------------

let reviewTimer = null;
function scheduleReviewPanel() {
  clearTimeout(reviewTimer);
  reviewTimer = setTimeout(renderReviewPanel, 500);
}

async function renderReviewPanel() {
  const main = app.docs.get(app.config.main);
  if (!main || !app.client || !app.client.ready) return;
  const text = textOf(main);
  const at = text.search(/\\title\b/);
  const lenses = await app.client.request("textDocument/codeLens", { textDocument: { uri: main.uri } }).catch(() => []);
  const summary = (lenses || []).find((l) => l.command && l.command.command === "papercycle.reviewDocument");
  $("review-summary").textContent = summary ? summary.command.title : "";
  if (at < 0) return;
  const state = currentState(main);
  const hover = await app.client
    .request("textDocument/hover", { textDocument: { uri: main.uri }, position: toPosition(state.doc, at + 1) })
    .catch(() => null);
  if (hover && hover.contents) $("review-scores").innerHTML = renderMarkdown(contentsText(hover.contents));
}

function onProgress(params) {
  const value = params.value || {};
  if (value.kind === "end") app.progress.delete(String(params.token));
  else {
    const old = app.progress.get(String(params.token)) || {};
    app.progress.set(String(params.token), {
      title: value.title || old.title,
      message: value.message ?? old.message,
      percentage: value.percentage ?? old.percentage,
    });
  }
  const parts = [...app.progress.values()].map(
    (p) => `${(p.title || "").replace(/^papercycle: /, "")}${p.percentage != null ? ` ${p.percentage}%` : ""}${p.message ? ` ${p.message}` : ""}`,
  );
  $("progress").textContent = parts.join(" · ");
  if (value.kind === "end") scheduleReviewPanel();
}

// an error or a warning (a review that failed, no model configured) is pinned at the top of
// the panel, where it is seen, not among the log of messages below every comment
function pin(text, type) {
  app.messages.push(text);
  if (app.alerts.includes(text)) return;
  app.alerts.push(text);
  const item = document.createElement("li");
  item.className = type === 1 ? "pc-error" : "pc-warning";
  item.textContent = text;
  item.title = "click to dismiss";
  item.onclick = () => {
    item.remove();
    $("alerts").hidden = !$("alerts").children.length;
  };
  $("alerts").append(item);
  $("alerts").hidden = false;
}

function note(text) {
  app.messages.push(text);
  const log = $("messages");
  const item = document.createElement("li");
  item.textContent = text;
  log.prepend(item);
  while (log.children.length > 30) log.lastChild.remove();
}

// -- layout -----------------------------------------------------------------------------------

function renderTree() {
  const tree = $("files");
  tree.replaceChildren();
  for (const path of app.config.files) {
    const item = document.createElement("li");
    const depth = path.split("/").length - 1;
    item.style.paddingLeft = `${0.6 + depth * 0.9}em`;
    item.className = "pc-file" + (path === app.active ? " pc-active" : "");
    item.dataset.path = path;
    item.textContent = (depth ? path.split("/").slice(0, -1).join("/") + "/" : "") + path.split("/").pop();
    item.onclick = () => openFile(path);
    tree.append(item);
  }
}

function renderTabs() {
  const tabs = $("tabs");
  tabs.replaceChildren();
  for (const path of app.order) {
    const doc = app.docs.get(path);
    const tab = document.createElement("button");
    tab.className = "pc-tab" + (path === app.active ? " pc-active" : "");
    tab.dataset.path = path;
    tab.textContent = path.split("/").pop() + (isDirty(doc) ? " ●" : "");
    tab.title = path;
    tab.onclick = () => activate(path);
    tabs.append(tab);
  }
}

function setConnection(state) {
  app.connection = state;
  const badge = $("connection");
  badge.textContent = state;
  badge.className = `pc-badge pc-${state}`;
}

async function onReady() {
  // (re)connected: the server gets every open document with the text in the editor, which
  // is never replaced by the disk's on reconnection
  for (const doc of app.docs.values()) {
    doc.opened = false;
    openOnServer(doc);
  }
  scheduleReviewPanel();
  scheduleActions();
}

async function onRequest(method, params) {
  switch (method) {
    case "workspace/configuration":
      return (params.items || []).map((item) => (item.section === "papercycle" ? app.settings : null));
    case "window/workDoneProgress/create":
      return null;
    case "workspace/applyEdit":
      if ((params.label || "").startsWith("papercycle: draft of ")) return holdDraftEdit(params);
      return { applied: applyWorkspaceEdit(params.edit) };
    case "workspace/codeLens/refresh":
      scheduleReviewPanel();
      return null;
    case "window/showMessageRequest":
      note(params.message);
      return null;
    default:
      throw new Error(`unsupported request ${method}`);
  }
}

function onNotification(method, params) {
  switch (method) {
    case "textDocument/publishDiagnostics":
      return onDiagnostics(params);
    case "$/progress":
      return onProgress(params);
    case "papercycle/draft":
      return onDraft(params);
    case "window/showMessage":
      return params.type === 1 || params.type === 2 ? pin(params.message, params.type) : note(params.message);
    default:
      return undefined;
  }
}

async function start() {
  app.config = await (await api("/api/config")).json();
  app.settings = JSON.parse(localStorage.getItem("papercycle-settings") || "{}");
  document.title = `${app.config.project} · papercycle`;
  $("project").textContent = app.config.project;
  renderTree();
  $("save").onclick = saveActive;
  $("review").onclick = () => execute("papercycle.reviewDocument", [app.docs.get(app.active)?.uri]);
  $("draft-section").onclick = draftSection;
  $("cancel").onclick = () => execute("papercycle.cancel", []);
  $("draft-accept").onclick = acceptDraft;
  $("draft-reject").onclick = rejectDraft;
  window.addEventListener("beforeunload", (event) => {
    if ([...app.docs.values()].some(isDirty)) event.preventDefault();
  });
  app.client = new LspClient(app.config.lspUrl, {
    capabilities: {
      general: { positionEncodings: ["utf-16"] },
      workspace: { applyEdit: true, configuration: true, workspaceEdit: { documentChanges: true }, codeLens: { refreshSupport: true } },
      window: { workDoneProgress: true, showMessage: {} },
      textDocument: {
        synchronization: { didSave: true, dynamicRegistration: false },
        publishDiagnostics: { versionSupport: true, relatedInformation: true },
        hover: { contentFormat: ["markdown", "plaintext"] },
        codeAction: {
          codeActionLiteralSupport: { codeActionKind: { valueSet: ["quickfix", "source", "refactor"] } },
        },
        codeLens: {},
      },
    },
    initializationOptions: app.settings,
    onReady,
    onNotification,
    onRequest,
    onState: setConnection,
  });
  if (app.config.main) await openFile(app.config.main);
  app.client.connect();
}

Object.assign(app, { openFile, saveActive, acceptDraft, rejectDraft, draftSection, execute, showActions, isDirty, textOf });
start().catch((error) => note(`failed to start: ${error.message}`));

// A small LSP client over WebSocket: JSON-RPC requests, notifications and server-to-client
// requests (answered by `onRequest`, which may return a Promise: a draft's edit is answered
// only when the user accepts or rejects it). Reconnects with backoff; `onReady` runs after
// every (re)initialization so the editor can re-open its documents with their current text.

const decoder = new TextDecoder();

export class LspClient {
  constructor(url, { capabilities, initializationOptions, onReady, onNotification, onRequest, onState }) {
    this.url = url;
    this.capabilities = capabilities;
    this.initializationOptions = initializationOptions;
    this.onReady = onReady;
    this.onNotification = onNotification;
    this.onRequest = onRequest;
    this.onState = onState || (() => {});
    this.nextId = 1;
    this.pending = new Map();
    this.socket = null;
    this.ready = false;
    this.closed = false;
    this.delay = 500;
    this.serverCapabilities = {};
  }

  connect() {
    if (this.closed) return;
    this.onState("connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.binaryType = "arraybuffer"; // pygls sends each message as a binary frame
    socket.onopen = () => this.initialize().catch((e) => console.error("initialize", e));
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.ready = false;
      for (const { reject } of this.pending.values()) reject(new Error("connection lost"));
      this.pending.clear();
      if (this.closed) return;
      this.onState("disconnected");
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  async initialize() {
    const result = await this.request("initialize", {
      processId: null,
      clientInfo: { name: "papercycle-web", version: "0.1.0" },
      rootUri: null,
      capabilities: this.capabilities,
      initializationOptions: this.initializationOptions,
    }, true);
    this.serverCapabilities = result.capabilities || {};
    this.notify("initialized", {});
    this.ready = true;
    this.delay = 500;
    this.onState("connected");
    await this.onReady();
  }

  /** Drop the connection (tests; a network hiccup): the client reconnects by itself. */
  drop() {
    if (this.socket) this.socket.close();
  }

  send(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify({ jsonrpc: "2.0", ...message }));
    return true;
  }

  request(method, params, beforeReady = false) {
    if (!beforeReady && !this.ready) return Promise.reject(new Error("not connected"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      if (!this.send({ id, method, params })) {
        this.pending.delete(id);
        reject(new Error("not connected"));
      }
    });
  }

  notify(method, params) {
    return this.send({ method, params });
  }

  async receive(data) {
    let message;
    try {
      message = JSON.parse(typeof data === "string" ? data : decoder.decode(data));
    } catch {
      return;
    }
    if (message.id !== undefined && message.method === undefined) {
      const entry = this.pending.get(message.id);
      if (!entry) return;
      this.pending.delete(message.id);
      if (message.error) entry.reject(Object.assign(new Error(message.error.message), message.error));
      else entry.resolve(message.result);
      return;
    }
    if (message.id !== undefined) {
      // a request from the server
      const socket = this.socket;
      try {
        const result = await this.onRequest(message.method, message.params);
        if (this.socket === socket) this.send({ id: message.id, result: result === undefined ? null : result });
      } catch (error) {
        if (this.socket === socket) this.send({ id: message.id, error: { code: -32603, message: String(error && error.message || error) } });
      }
      return;
    }
    this.onNotification(message.method, message.params);
  }
}

/** LSP positions (UTF-16, like JavaScript strings) <-> CodeMirror offsets. */
export function toOffset(doc, position) {
  const lineNo = Math.min(Math.max(position.line + 1, 1), doc.lines);
  const line = doc.line(lineNo);
  if (position.line + 1 > doc.lines) return doc.length;
  return Math.min(line.from + position.character, line.to);
}

export function toPosition(doc, offset) {
  const line = doc.lineAt(offset);
  return { line: line.number - 1, character: offset - line.from };
}

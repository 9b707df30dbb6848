import assert from "node:assert/strict";
import { test } from "node:test";
import { type ProgressValue, StatusModel, progressMiddleware } from "../../src/status";

test("starting, then idle when the server runs", () => {
  const s = new StatusModel();
  s.serverStarting();
  assert.match(s.text(), /loading~spin/);
  s.serverRunning();
  assert.equal(s.phase, "idle");
  assert.equal(s.text(), "$(check) papercycle");
});

test("progress shows title, percentage and message, then back to idle", () => {
  const s = new StatusModel();
  s.serverRunning();
  s.begin("t1", "papercycle: reviewing Introduction", "waiting for the daemon");
  assert.equal(s.phase, "working");
  s.report("t1", "12 tokens", 40);
  assert.equal(s.text(), "$(sync~spin) papercycle: reviewing Introduction 40% · 12 tokens");
  s.end("t1");
  assert.equal(s.phase, "idle");
});

test("a loading model is its own phase", () => {
  const s = new StatusModel();
  s.serverRunning();
  s.begin("t", "papercycle: drafting Method");
  s.report("t", "loading");
  assert.equal(s.phase, "loading");
  assert.match(s.text(), /cloud-download/);
});

test("several jobs: the latest is shown with a count", () => {
  const s = new StatusModel();
  s.serverRunning();
  s.begin("a", "papercycle: reviewing A");
  s.begin("b", "papercycle: drafting B");
  assert.match(s.text(), /drafting B \(\+1\)$/);
  assert.deepEqual(s.tokens(), ["a", "b"]);
});

test("a lost daemon is an error until reconnected", () => {
  const s = new StatusModel();
  s.serverRunning();
  s.message("papercycle: lost the daemon (connection refused); reconnecting", true);
  assert.equal(s.phase, "error");
  s.message("papercycle: reconnected to the daemon (pid 12)", false);
  assert.equal(s.phase, "idle");
});

test("the server's exact daemon-down messages", () => {
  for (const text of [
    "papercycle: the daemon is not reachable (connection refused)",
    "papercycle: the connection closed; showing the last results, reconnecting",
  ]) {
    const s = new StatusModel();
    s.serverRunning();
    s.message(text, true);
    assert.equal(s.phase, "error", text);
    assert.equal(s.text(), "$(error) papercycle: daemon down");
  }
});

test("unrelated warnings do not change the state", () => {
  const s = new StatusModel();
  s.serverRunning();
  s.message("papercycle: no section here to draft", true);
  assert.equal(s.phase, "idle");
});

test("a stopped server clears its jobs", () => {
  const s = new StatusModel();
  s.serverRunning();
  s.begin("a", "x");
  s.serverStopped("the language server stopped");
  assert.equal(s.phase, "stopped");
  assert.equal(s.jobs.length, 0);
  assert.match(s.tooltip(), /stopped/);
});

test("$/progress drives the one status item: only its end reaches the client's own", () => {
  const s = new StatusModel();
  s.serverRunning();
  let renders = 0;
  const passed: string[] = [];
  const handle = progressMiddleware(s, () => renders++);
  const next = (_t: string, p: ProgressValue) => {
    passed.push(p.kind);
  };
  handle("t1", { kind: "begin", title: "papercycle: reviewing Method" }, next);
  handle("t1", { kind: "report", message: "3 tokens", percentage: 10 }, next);
  assert.equal(s.text(), "$(sync~spin) papercycle: reviewing Method 10% · 3 tokens");
  handle("t1", { kind: "end" }, next);
  assert.deepEqual(passed, ["end"]);
  assert.equal(renders, 3);
  assert.equal(s.phase, "idle");
});

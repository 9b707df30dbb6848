import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveServer, ResolveInput } from "../../src/serverCommand";

function input(executables: string[], extra: Partial<ResolveInput> = {}): ResolveInput {
  return {
    workspaceFolders: ["/ws"],
    pathEnv: "/usr/bin:/opt/bin",
    home: "/home/me",
    isWindows: false,
    isExecutable: (f) => executables.includes(f),
    ...extra,
  };
}

test("server.command wins and ~ is expanded", () => {
  const r = resolveServer(input(["/home/me/pc/bin/papercycle"], { command: ["~/pc/bin/papercycle", "lsp"], python: "/x/python" }));
  assert.deepEqual(r, { ok: true, command: "/home/me/pc/bin/papercycle", args: ["lsp"], source: "papercycle.server.command" });
});

test("server.command naming a missing file says so", () => {
  const r = resolveServer(input([], { command: ["/nope/papercycle", "lsp"] }));
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : "", /papercycle\.server\.command names \/nope\/papercycle/);
});

test("server.command may be a bare name looked up by the OS", () => {
  const r = resolveServer(input([], { command: ["papercycle", "lsp"] }));
  assert.equal(r.ok && r.command, "papercycle");
});

test("server.python runs the CLI module", () => {
  const r = resolveServer(input(["/venv/bin/python"], { python: "/venv/bin/python" }));
  assert.deepEqual(r, { ok: true, command: "/venv/bin/python", args: ["-m", "papercycle.cli", "lsp"], source: "papercycle.server.python" });
});

test("server.python that is not executable is an error, not a fallback", () => {
  const r = resolveServer(input(["/usr/bin/papercycle"], { python: "/gone/python" }));
  assert.equal(r.ok, false);
});

test("a workspace .venv comes before PATH", () => {
  const r = resolveServer(input(["/ws/.venv/bin/papercycle", "/usr/bin/papercycle"]));
  assert.deepEqual(r, { ok: true, command: "/ws/.venv/bin/papercycle", args: ["lsp"], source: "workspace .venv" });
});

test("PATH is searched in order", () => {
  const r = resolveServer(input(["/opt/bin/papercycle"]));
  assert.equal(r.ok && r.command, "/opt/bin/papercycle");
});

test("nothing found: what was tried is listed", () => {
  const r = resolveServer(input([]));
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.deepEqual(r.tried, [
      "/ws/.venv/bin/papercycle",
      "/ws/venv/bin/papercycle",
      "papercycle on PATH",
      "/home/me/.local/bin/papercycle",
      "/home/me/.local/share/pipx/venvs/papercycle/bin/papercycle",
      "/home/me/.local/pipx/venvs/papercycle/bin/papercycle",
      "/home/me/.local/share/uv/tools/papercycle/bin/papercycle",
    ]);
    assert.match(r.reason, /not installed/);
  }
});

test("Windows uses Scripts and papercycle.exe", () => {
  const r = resolveServer(input(["/ws/.venv/Scripts/papercycle.exe"], { isWindows: true, pathEnv: "" }));
  assert.equal(r.ok && r.command, "/ws/.venv/Scripts/papercycle.exe");
});

test("pipx and uv tool installs are found when PATH lacks ~/.local/bin", () => {
  for (const found of [
    "/home/me/.local/bin/papercycle",
    "/home/me/.local/share/pipx/venvs/papercycle/bin/papercycle",
    "/home/me/.local/share/uv/tools/papercycle/bin/papercycle",
  ]) {
    assert.deepEqual(resolveServer(input([found])), { ok: true, command: found, args: ["lsp"], source: "tool install" });
  }
});

test("the extension's own environment comes last", () => {
  const own = "/storage/env/bin/papercycle";
  const r = resolveServer(input([own], { ownEnv: "/storage/env" }));
  assert.deepEqual(r, { ok: true, command: own, args: ["lsp"], source: "the extension's environment" });
  const both = resolveServer(input([own, "/usr/bin/papercycle"], { ownEnv: "/storage/env" }));
  assert.equal(both.ok && both.source, "PATH");
  const none = resolveServer(input([], { ownEnv: "/storage/env" }));
  assert.equal(!none.ok && none.tried.at(-1), own);
});

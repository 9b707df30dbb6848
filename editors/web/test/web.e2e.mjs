// The browser editor end to end in Debian's Chromium (playwright-core, no downloaded browser),
// against a running `papercycle web PROJECT` (started by tests/editors/test_editors_web.py,
// which passes PC_URL, PC_PROJECT, PC_ARTIFACTS, PC_OUT and checks the files afterwards).
// Every wait is bounded; a failed step is written to PC_OUT with what was seen so far.
import { chromium } from "playwright-core";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const URL_ = process.env.PC_URL;
const PROJECT = process.env.PC_PROJECT;
const ARTIFACTS = process.env.PC_ARTIFACTS;
const OUT = process.env.PC_OUT;
const DRAFT_FILE = process.env.PC_DRAFT_FILE || "sections/conclusion.tex";
const result = { steps: [] };
mkdirSync(ARTIFACTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.PC_CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  timeout: 120000,
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.setDefaultTimeout(60000);
const consoleErrors = [];
page.on("pageerror", (e) => consoleErrors.push(String(e)));
page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });

const step = (name) => { result.steps.push(name); console.log("step:", name); };
const read = (rel) => readFileSync(join(PROJECT, rel), "utf8");
const connected = () => page.waitForFunction(() => window.papercycle && window.papercycle.connection === "connected", null, { timeout: 60000 });

if (process.env.PC_SETTINGS) {
  await page.addInitScript((settings) => localStorage.setItem("papercycle-settings", settings), process.env.PC_SETTINGS);
}

async function fullRun() {
  await page.goto(URL_);
  await connected();
  step("connected");

  // review comments on the main file, at the lines the server gave
  const mainUri = await page.evaluate(() => window.papercycle.docs.get(window.papercycle.config.main).uri);
  await page.waitForFunction(
    (uri) => (window.papercycle.lspDiagnostics.get(uri) || []).some((d) => d.data && ["section", "paper"].includes(d.data.origin)),
    mainUri,
    { timeout: 240000 },
  );
  await page.waitForSelector(".cm-lintRange");
  const lines = await page.evaluate((uri) => {
    const app = window.papercycle;
    const diags = app.lspDiagnostics.get(uri);
    const marked = [...document.querySelectorAll(".cm-lintRange")].map((el) => app.view.state.doc.lineAt(app.view.posAtDOM(el)).number - 1);
    // the lines each comment covers (its last line only when the range goes into it)
    const covered = new Set();
    for (const d of diags) {
      const last = d.range.end.character > 0 ? d.range.end.line : Math.max(d.range.start.line, d.range.end.line - 1);
      for (let line = d.range.start.line; line <= last; line++) covered.add(line);
    }
    const sort = (xs) => [...new Set(xs)].sort((a, b) => a - b);
    return { expected: sort(covered), starts: sort(diags.map((d) => d.range.start.line)), marked: sort(marked), gutter: document.querySelectorAll(".cm-lint-marker").length };
  }, mainUri);
  Object.assign(result, { expectedLines: lines.expected, startLines: lines.starts, markedLines: lines.marked, gutterMarkers: lines.gutter });
  result.commentsListed = await page.locator(".pc-comment-item").count();
  step("comments");

  // hover one: the lint tooltip with its comment. The target is a review comment whose first
  // characters no other comment covers, and the mouse goes to it (not to the first mark in the
  // text, which may be another comment's): the tooltip and the actions there are its own.
  const target = await page.evaluate((uri) => {
    const app = window.papercycle;
    const doc = app.view.state.doc;
    const offset = (p) => doc.line(p.line + 1).from + p.character;
    const diags = app.lspDiagnostics.get(uri);
    const inside = (d) => Math.min(offset(d.range.start) + 1, offset(d.range.end) - 1);
    const covers = (d, at) => offset(d.range.start) <= at && at < offset(d.range.end);
    const reviews = diags.filter((x) => x.data && ["section", "paper"].includes(x.data.origin));
    const alone = reviews.find((d) => !diags.some((o) => o !== d && covers(o, inside(d))));
    const d = alone || reviews[0];
    return { message: d.message, code: d.code, line: d.range.start.line, pos: inside(d), alone: Boolean(alone) };
  }, mainUri);
  result.target = target;
  const box = await page.evaluate((pos) => {
    const view = window.papercycle.view;
    const { node } = view.domAtPos(pos);
    (node.nodeType === 1 ? node : node.parentElement).scrollIntoView({ block: "center" });
    const at = view.coordsAtPos(pos);
    return { x: at.left + 1, y: (at.top + at.bottom) / 2 };
  }, target.pos);
  await page.mouse.move(box.x, box.y);
  const tooltip = page.locator(".cm-tooltip-lint, .cm-tooltip-hover").first();
  await tooltip.waitFor({ state: "visible", timeout: 30000 });
  result.tooltipText = (await tooltip.innerText()).slice(0, 400);
  await page.screenshot({ path: join(ARTIFACTS, "web-hover.png") });
  result.hoverScreenshotHasTooltip = (await page.locator(".cm-tooltip").count()) > 0;
  step("hover");

  // a code action from the panel: dismiss the comment under the cursor
  await page.mouse.click(box.x, box.y);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+.");
  const wanted = `Dismiss this comment (${target.code})`;
  const button = page.locator(".pc-action", { hasText: wanted }).first();
  await button.waitFor({ state: "visible", timeout: 30000 });
  result.actions = await page.locator(".pc-action").allInnerTexts();
  await button.click();
  await page.waitForFunction(
    ({ uri, message }) => !(window.papercycle.lspDiagnostics.get(uri) || []).some((d) => d.message === message),
    { uri: mainUri, message: target.message },
    { timeout: 30000 },
  );
  result.dismissed = true;
  step("code action");

  await page.screenshot({ path: join(ARTIFACTS, "web-comments.png") });

  // a draft: open a section file from the tree, draft it, preview, accept, save
  await page.locator(`.pc-file[data-path="${DRAFT_FILE}"]`).click();
  await page.waitForFunction((p) => window.papercycle.active === p, DRAFT_FILE);
  const before = read(DRAFT_FILE);
  await page.evaluate(() => {
    const v = window.papercycle.view;
    v.dispatch({ selection: { anchor: v.state.doc.line(Math.min(2, v.state.doc.lines)).from } });
  });
  await page.locator("#draft-section").click();
  await page.waitForSelector("#draft:not([hidden])", { timeout: 120000 });
  await page.waitForSelector("#draft-accept:not([disabled])", { timeout: 300000 });
  await page.waitForSelector(".pc-draft-inline", { timeout: 30000 });
  result.previewInline = await page.locator(".pc-draft-inline").count();
  const offered = await page.evaluate(() => window.papercycle.offer.text);
  result.draftText = offered;
  result.unchangedWhilePreviewing = await page.evaluate(() => window.papercycle.textOf(window.papercycle.docs.get(window.papercycle.active))) === before;
  await page.screenshot({ path: join(ARTIFACTS, "web-draft.png") });
  await page.locator("#draft-accept").click();
  await page.waitForFunction(() => !window.papercycle.offer);
  const edited = await page.evaluate(() => window.papercycle.textOf(window.papercycle.docs.get(window.papercycle.active)));
  result.accepted = edited.includes(offered.trim());
  result.diskBeforeSave = read(DRAFT_FILE) === before; // nothing is written before the user saves
  await page.locator(".cm-content").click();
  await page.keyboard.press("Control+s");
  await page.waitForFunction(() => !window.papercycle.isDirty(window.papercycle.docs.get(window.papercycle.active)), null, { timeout: 30000 });
  result.savedWithDraft = read(DRAFT_FILE).includes(offered.trim());
  step("draft accepted and saved");

  // the connection drops while typing: the edit survives the reconnection and is saved
  await page.evaluate(() => window.papercycle.client.drop());
  await page.waitForFunction(() => window.papercycle.connection !== "connected", null, { timeout: 30000 });
  await page.evaluate(() => {
    const v = window.papercycle.view;
    v.dispatch({ selection: { anchor: v.state.doc.length } });
    v.focus();
  });
  await page.keyboard.type("\n% typed while the server was away\n");
  await connected();
  result.reconnected = true;
  // every document opened on the server again, with the text typed while it was away
  await page.waitForFunction(() => [...window.papercycle.docs.values()].every((d) => d.opened && d.sent === d.version), null, { timeout: 30000 });
  await page.keyboard.press("Control+s");
  await page.waitForFunction(() => !window.papercycle.isDirty(window.papercycle.docs.get(window.papercycle.active)), null, { timeout: 30000 });
  step("reconnected");

  // reload: the page reads the saved file back
  await page.reload();
  await connected();
  await page.locator(`.pc-file[data-path="${DRAFT_FILE}"]`).click();
  await page.waitForFunction((p) => window.papercycle.active === p, DRAFT_FILE);
  const reloaded = await page.evaluate(() => window.papercycle.textOf(window.papercycle.docs.get(window.papercycle.active)));
  result.reloadedHasDraft = reloaded.includes(offered.trim());
  result.reloadedHasTyped = reloaded.includes("% typed while the server was away");
  step("reloaded");

  // a foreign origin: a page on another site can neither open the language server socket
  // nor call the file API
  const lspUrl = await page.evaluate(() => window.papercycle.config.lspUrl);
  const token = await page.evaluate(() => sessionStorage.getItem("papercycle-token"));
  const base = new URL(URL_).origin;
  await page.route("http://evil.example/**", (route) => route.fulfill({ contentType: "text/html", body: "<html><body>elsewhere</body></html>" }));
  await page.goto("http://evil.example/");
  result.foreign = await page.evaluate(async ({ lspUrl, token, base }) => {
    const ws = await new Promise((resolve) => {
      const s = new WebSocket(lspUrl);
      s.onopen = () => { s.close(); resolve("open"); };
      s.onerror = () => resolve("refused");
      setTimeout(() => resolve("timeout"), 15000);
    });
    let api;
    try {
      const r = await fetch(`${base}/api/config`, { headers: { "X-Papercycle-Token": token } });
      api = `status ${r.status}`;
    } catch {
      api = "blocked";
    }
    return { ws, api };
  }, { lspUrl, token, base });
  step("foreign origin");
}

async function reviewPanel() {
  // the review panel: scores, decision and reviewers of a whole-paper review
  await page.goto(URL_);
  await connected();
  step("connected");
  await page.locator("#review").click();
  await page.waitForFunction(
    () => /^Rating/.test(document.getElementById("review-summary").textContent) || window.papercycle.messages.some((m) => m.includes("review failed")),
    null,
    { timeout: 300000 },
  );
  result.messages = await page.evaluate(() => window.papercycle.messages);
  await page.waitForFunction(() => /Decision/.test(document.getElementById("review-scores").textContent), null, { timeout: 30000 });
  result.reviewSummary = await page.locator("#review-summary").innerText();
  result.reviewScores = await page.locator("#review-scores").innerText();
  await page.screenshot({ path: join(ARTIFACTS, "web-review-panel.png") });
  result.panelScreenshotHasScores = (await page.locator("#review-scores table, #review-scores strong").count()) > 0;
  step("panel");
}

try {
  if (process.env.PC_MODE === "panel") await reviewPanel();
  else await fullRun();
} catch (error) {
  result.error = String(error && error.stack || error);
  await page.screenshot({ path: join(ARTIFACTS, "web-failure.png") }).catch(() => {});
}
result.consoleErrors = consoleErrors;
writeFileSync(OUT, JSON.stringify(result, null, 1));
await browser.close();

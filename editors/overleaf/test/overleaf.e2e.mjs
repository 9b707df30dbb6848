// The extension loaded into Debian's Chromium (playwright-core) on a local mock Overleaf page
// (test/mock: CodeMirror 6 + the `UNSTABLE_editor:extensions` event), against a running
// `papercycle lsp --ws` (PC_LSP_URL, started by tests/editors/test_editors_overleaf.py).
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

const EXT = new URL("..", import.meta.url).pathname;
const ARTIFACTS = process.env.PC_ARTIFACTS;
const OUT = process.env.PC_OUT;
const PAPER = readFileSync(process.env.PC_PAPER, "utf8");
const result = { steps: [] };
mkdirSync(ARTIFACTS, { recursive: true });

const files = {
  "/project/5f0c0ffee/": ["text/html", readFileSync(join(EXT, "test/mock/index.html"))],
  "/mock.js": ["text/javascript", readFileSync(join(EXT, "dist/mock.js"))],
  "/project/5f0c0ffee/paper.tex": ["text/plain", PAPER],
};
const server = createServer((req, res) => {
  const entry = files[req.url];
  if (!entry) return res.writeHead(404).end();
  res.writeHead(200, { "Content-Type": entry[0] }).end(entry[1]);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const page_url = `http://127.0.0.1:${server.address().port}/project/5f0c0ffee/`;

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "pc-overleaf-")), {
  executablePath: process.env.PC_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
    `--disable-extensions-except=${EXT}`, `--load-extension=${EXT}`,
    "--disable-features=DisableLoadExtensionCommandLineSwitch",
  ],
  viewport: { width: 1400, height: 800 },
  timeout: 120000,
});
const step = (s) => { result.steps.push(s); console.log("step:", s); };
try {
  let [worker] = context.serviceWorkers();
  if (!worker) worker = await context.waitForEvent("serviceworker", { timeout: 30000 });
  const id = new URL(worker.url()).host;
  step("extension loaded");
  // the options page, as a user fills it. The extension opens it by itself on install (no
  // server URL yet), possibly in the very tab navigated here: then that navigation wins.
  const optionsUrl = `chrome-extension://${id}/options.html`;
  const options = context.pages()[0] || (await context.newPage());
  for (let attempt = 0; ; attempt++) {
    try {
      await options.goto(optionsUrl);
      break;
    } catch (error) {
      if (attempt >= 3 || !/interrupted by another navigation/.test(String(error))) throw error;
      await options.waitForLoadState();
      if (options.url().startsWith(optionsUrl)) break;
    }
  }
  await options.fill("#url", process.env.PC_LSP_URL);
  await options.fill("#settings", process.env.PC_SETTINGS || "");
  await options.fill("#folder", process.env.PC_FOLDER || "");
  await options.click("#save");
  await options.waitForSelector("text=saved");
  step("configured");

  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  await page.goto(page_url);
  await page.waitForSelector("#papercycle-panel"); // the side panel (open shadow root)
  await page.waitForFunction(() => document.querySelectorAll(".papercycle-mark").length > 0, null, { timeout: 240000 });
  step("highlights");
  // the reviewer's comments arrive after the project model's findings
  await page.waitForFunction(() => [...document.getElementById("papercycle-root").shadowRoot.querySelectorAll("li")].some((li) => !li.textContent.includes("[hidden-")), null, { timeout: 180000 });
  result.reviewComments = await page.evaluate(() => [...document.getElementById("papercycle-root").shadowRoot.querySelectorAll("li")].filter((li) => !li.textContent.includes("[hidden-")).length);
  result.markTexts = await page.locator(".papercycle-mark").allInnerTexts();
  result.marks = await page.locator(".papercycle-mark").count();
  result.panelComments = await page.locator("#papercycle-panel li").count();
  result.panelStatus = await page.locator("#papercycle-panel #status").innerText();
  // the highlight covers the text of the line the panel names
  const first = page.locator(".papercycle-mark").first();
  await first.scrollIntoViewIfNeeded();
  const rect = await first.evaluate((el) => { const r = el.getClientRects()[0]; return { x: r.x, y: r.y, h: r.height }; });
  await page.mouse.move(rect.x + 5, rect.y + rect.h / 2);
  const tip = page.locator("#papercycle-tooltip");
  await tip.waitFor({ state: "visible", timeout: 30000 });
  result.tooltip = await tip.innerText();
  result.firstPanelItem = await page.locator("#papercycle-panel li").first().innerText();
  await page.screenshot({ path: join(ARTIFACTS, "overleaf-mock.png") });
  result.screenshotHasPanel = await page.locator("#papercycle-panel").isVisible();
  step("tooltip");
  // the mock editor is still the user's: typing works, and the text reaches the server again
  await page.locator(".cm-content").click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\n% typed in Overleaf");
  await page.waitForFunction(() => window.mockView.state.doc.toString().includes("% typed in Overleaf"), null, { timeout: 30000 });
  result.editorText = await page.evaluate(() => window.mockView.state.doc.toString());
  step("typing");
} catch (error) {
  result.error = String(error && error.stack || error);
  const pages = context.pages();
  if (pages.length) await pages[pages.length - 1].screenshot({ path: join(ARTIFACTS, "overleaf-failure.png") }).catch(() => {});
}
writeFileSync(OUT, JSON.stringify(result, null, 1));
await context.close();
server.close();

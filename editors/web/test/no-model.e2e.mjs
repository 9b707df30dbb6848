// The browser editor with no reviewer model configured (tests/editors/test_editors_web_no_model.py
// starts `papercycle web PROJECT` in a home without models and passes PC_URL, PC_ARTIFACTS,
// PC_OUT): the failure is pinned at the top of the panel, once, above the review and the
// comments. Every wait is bounded; a failed step is written to PC_OUT with what was seen.
import { chromium } from "playwright-core";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const WHY = "no reviewer model configured";
const ARTIFACTS = process.env.PC_ARTIFACTS;
const result = { steps: [] };
mkdirSync(ARTIFACTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.PC_CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  timeout: 120000,
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.setDefaultTimeout(60000);
try {
  await page.goto(process.env.PC_URL);
  await page.waitForFunction(() => window.papercycle && window.papercycle.connection === "connected", null, { timeout: 60000 });
  result.steps.push("connected");
  // the progress ends (every section failed); then every message has arrived
  await page.waitForFunction(
    (why) => window.papercycle.alerts.some((a) => a.includes(why)) && window.papercycle.progress.size === 0,
    WHY,
    { timeout: 120000 },
  );
  result.steps.push("pinned");
  Object.assign(
    result,
    await page.evaluate((why) => {
      const panel = document.getElementById("panel");
      const alerts = document.getElementById("alerts");
      const review = document.getElementById("review-panel");
      return {
        alerts: [...alerts.children].map((li) => ({ text: li.textContent, className: li.className })),
        visible: !alerts.hidden && alerts.getBoundingClientRect().height > 0,
        firstInPanel: panel.firstElementChild === alerts,
        aboveReview: alerts.getBoundingClientRect().bottom <= review.getBoundingClientRect().top,
        messagesLogged: [...document.querySelectorAll("#messages li")].filter((li) => li.textContent.includes(why)).length,
      };
    }, WHY),
  );
  await page.screenshot({ path: join(ARTIFACTS, "web-no-model.png") });
} catch (error) {
  result.error = String(error && error.stack ? error.stack : error);
} finally {
  writeFileSync(process.env.PC_OUT, JSON.stringify(result));
  await browser.close();
}

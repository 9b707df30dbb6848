import assert from "node:assert/strict";
import { test } from "node:test";
import { serverSettings } from "../../src/settings";

const reader = (values: Record<string, unknown>) => ({ get: <T>(key: string) => values[key] as T | undefined });

test("defaults match the server's", () => {
  assert.deepEqual(serverSettings(reader({})), {
    models: { reviewer: "", section: "", researcher: "" },
    reviewMode: "sections",
    checkFrequency: "save",
    debounceMs: 1500,
    severities: {},
    enabledCategories: null,
    autoStartDaemon: true,
    aiScientist: { reflections: 0, ensemble: 1, fewShot: [] },
  });
});

test("the AI Scientist's rounds and examples are passed", () => {
  const s = serverSettings(
    reader({ "aiScientist.reflections": 2, "aiScientist.ensemble": 3, "aiScientist.fewShot": ["/ex"] }),
  );
  assert.deepEqual(s.aiScientist, { reflections: 2, ensemble: 3, fewShot: ["/ex"] });
});

test("models per role, trimmed; an empty name clears the role", () => {
  const s = serverSettings(reader({ "models.reviewer": " big ", "models.section": null, "models.researcher": "" }));
  assert.deepEqual(s.models, { reviewer: "big", section: "", researcher: "" });
});

test("every setting is passed", () => {
  const s = serverSettings(
    reader({
      reviewMode: "best",
      checkFrequency: "edit",
      debounceMs: 300,
      severities: { clarity: "hint" },
      enabledCategories: ["soundness"],
      autoStartDaemon: false,
    }),
  );
  assert.equal(s.reviewMode, "best");
  assert.equal(s.checkFrequency, "edit");
  assert.equal(s.debounceMs, 300);
  assert.deepEqual(s.severities, { clarity: "hint" });
  assert.deepEqual(s.enabledCategories, ["soundness"]);
  assert.equal(s.autoStartDaemon, false);
});

// node --test test/hover.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";
import { shownHover } from "../src/hover.js";

test("a comment's hover is left to the lint tooltip; the paper's and sections' are shown", () => {
  assert.equal(shownHover("**papercycle · clarity** (minor) · Section Method\n\nUnclear."), false);
  assert.equal(shownHover("**papercycle review** · model `m` · mode standard"), true);
  assert.equal(shownHover("**papercycle**: no review of the paper yet. Ask for one with the *Review* button above the editor."), true);
  assert.equal(shownHover("**Method**: not reviewed yet (it is reviewed when you save)."), true);
  assert.equal(shownHover("  "), false);
});

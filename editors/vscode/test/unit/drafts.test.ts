import assert from "node:assert/strict";
import { test } from "node:test";
import { DraftStore, sectionOfEditLabel } from "../../src/drafts";

const msg = (chunk: string, extra: Partial<{ done: boolean; cancelled: boolean; uri: string; id: string }> = {}) => ({
  id: extra.id ?? "draft-1-1",
  uri: extra.uri ?? "file:///p/main.tex",
  section: "Method",
  chunk,
  done: extra.done ?? false,
  cancelled: extra.cancelled,
});

test("chunks accumulate; done; the final uri wins", () => {
  const store = new DraftStore();
  store.update(msg("We "));
  store.update(msg("route."));
  const d = store.update(msg("", { done: true, uri: "file:///p/sections/method.tex" }));
  assert.equal(d.text, "We route.");
  assert.equal(d.state, "done");
  assert.equal(d.uri, "file:///p/sections/method.tex");
  assert.equal(store.latest(), d);
});

test("a cancelled draft is not offered for an edit", () => {
  const store = new DraftStore();
  store.update(msg("x"));
  store.update(msg("", { done: true, cancelled: true }));
  assert.equal(store.get("draft-1-1")?.state, "cancelled");
  assert.equal(store.forSection("Method"), undefined);
});

test("the edit for a section goes to its latest live draft", () => {
  const store = new DraftStore();
  store.update(msg("a", { id: "d1", done: true }));
  store.update(msg("b", { id: "d2", done: true }));
  assert.equal(store.forSection("Method")?.id, "d2");
  assert.equal(store.forSection("Intro"), undefined);
});

test("the preview names the state", () => {
  const store = new DraftStore();
  const d = store.update(msg("Text."));
  assert.match(store.previewText(d), /^% papercycle draft of Method \(streaming…\)/);
  d.state = "ready";
  assert.match(store.previewText(d), /Accept inserts it/);
  assert.match(store.previewText(d), /Text\.$/);
});

test("the server's draft edit label names the section", () => {
  assert.equal(sectionOfEditLabel("papercycle: draft of Related Work"), "Related Work");
  assert.equal(sectionOfEditLabel("papercycle: suggested rewrite"), null);
  assert.equal(sectionOfEditLabel(undefined), null);
});

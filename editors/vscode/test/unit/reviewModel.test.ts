import assert from "node:assert/strict";
import { test } from "node:test";
import { Comment, firstLine, groupComments, parsePaperHover, titleLine } from "../../src/reviewModel";

// lsp/hover.py paper_markdown's layout
const HOVER = [
  "**papercycle review** · model `tiny` · mode fast",
  "",
  "Decision: **Reject** · Rating **5.5**",
  "",
  "| score | value |",
  "|---|---|",
  "| contribution | 2 |",
  "| rating | 5.5 |",
  "",
  "Reviewers' ratings: reviewer 1: 5, reviewer 2: 6, reviewer 3: -",
].join("\n");

test("the paper hover is parsed", () => {
  assert.deepEqual(parsePaperHover(HOVER), {
    decision: "Reject",
    rating: "5.5",
    model: "tiny",
    mode: "fast",
    scores: [
      ["contribution", "2"],
      ["rating", "5.5"],
    ],
    ratings: ["5", "6", "-"],
  });
});

test("no review yet: no summary", () => {
  assert.equal(parsePaperHover("**papercycle**: no review of the paper yet. Run *Review document*"), null);
});

test("a missing decision is null", () => {
  const s = parsePaperHover("**papercycle review** · model `m` · mode best\n\nDecision: **-** · Rating **-**\n");
  assert.equal(s?.decision, null);
  assert.equal(s?.rating, null);
});

const c = (related: string[], line: number, origin = "paper", file = "paper.tex"): Comment => ({
  uri: `file:///p/${file}`,
  file,
  line,
  character: 0,
  endLine: line,
  endCharacter: 4,
  message: `comment at ${line}\nsecond line`,
  category: "clarity",
  severity: "warning",
  origin,
  related,
});

test("comments are grouped by reviewer, meta review first, sections, then checks", () => {
  const groups = groupComments([
    c(["reviewer 2 (tiny)"], 9),
    c(["section review of Method (tiny-section)"], 14, "section"),
    c(["the meta review (tiny)"], 3),
    c([], 11, "project"),
    c(["reviewer 10 (tiny)"], 1),
    c(["reviewer 2 (tiny)"], 2),
  ]);
  assert.deepEqual(
    groups.map((g) => [g.label, g.comments.map((x) => x.line)]),
    [
      ["Meta review", [3]],
      ["Reviewer 2", [2, 9]],
      ["Reviewer 10", [1]],
      ["Section: Method", [14]],
      ["Checks (hidden text, bibliography, markers)", [11]],
    ],
  );
});

test("section names with parentheses keep them", () => {
  const [g] = groupComments([c(["section review of Results (main) (tiny)"], 1, "section")]);
  assert.equal(g.label, "Section: Results (main)");
});

test("first line, shortened", () => {
  assert.equal(firstLine("a\nb"), "a");
  assert.equal(firstLine("x".repeat(200), 10), "xxxxxxxxx…");
});

test("the title line skips comments", () => {
  assert.equal(titleLine("% \\title{old}\n\\documentclass{article}\n\\title{New}\n"), 2);
  assert.equal(titleLine("no title"), -1);
});

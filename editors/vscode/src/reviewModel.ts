// The review panel's model: pure, so it is unit-tested. The paper's scores come from the
// server's hover on \title (lsp/hover.py paper_markdown); comments come from papercycle's
// diagnostics, grouped by the reviewer their related information names (lsp/findings.py:
// "the meta review (model)", "reviewer N (model)", "section review of NAME (model)").

export interface PaperSummary {
  decision: string | null;
  rating: string | null;
  model: string | null;
  mode: string | null;
  scores: [string, string][];
  ratings: string[]; // per reviewer, in order
}

export function parsePaperHover(markdown: string): PaperSummary | null {
  if (!/\*\*papercycle review\*\*/.test(markdown)) return null;
  const head = /model `([^`]*)`\s*·\s*mode\s+(\S+)/.exec(markdown);
  const decision = /Decision:\s*\*\*([^*]+)\*\*/.exec(markdown);
  const rating = /Rating\s*\*\*([^*]+)\*\*/.exec(markdown);
  const scores: [string, string][] = [];
  for (const m of markdown.matchAll(/^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|$/gm)) {
    if (m[1] === "score" || /^-+$/.test(m[1])) continue;
    scores.push([m[1], m[2]]);
  }
  const ratings: string[] = [];
  const line = /Reviewers' ratings:\s*(.*)$/m.exec(markdown);
  if (line) {
    for (const m of line[1].matchAll(/reviewer\s+\d+:\s*([^,]+)/g)) ratings.push(m[1].trim());
  }
  const clean = (s: string | undefined): string | null =>
    s === undefined || s.trim() === "-" ? null : s.trim();
  return {
    decision: clean(decision?.[1]),
    rating: clean(rating?.[1]),
    model: head ? head[1] : null,
    mode: head ? head[2] : null,
    scores,
    ratings,
  };
}

export interface Comment {
  uri: string;
  file: string; // for display
  line: number; // 0-based
  character: number;
  endLine: number;
  endCharacter: number;
  message: string;
  category: string;
  severity: string;
  origin: string; // paper | section | project
  related: string[]; // related information messages
}

export interface Group {
  key: string;
  label: string;
  comments: Comment[];
}

export function groupOf(c: Comment): { key: string; label: string } {
  for (const r of c.related) {
    if (/^the meta review\b/.test(r)) return { key: "0-meta", label: "Meta review" };
    const reviewer = /^reviewer (\d+)\b/.exec(r);
    if (reviewer) {
      const n = Number(reviewer[1]);
      return { key: `1-reviewer-${String(n).padStart(3, "0")}`, label: `Reviewer ${n}` };
    }
    const section = /^section review of (.*?)(?: \([^()]*\))?$/.exec(r);
    if (section) return { key: `2-section-${section[1]}`, label: `Section: ${section[1]}` };
  }
  if (c.origin === "project") return { key: "3-project", label: "Checks (hidden text, bibliography, markers)" };
  return { key: "4-other", label: "Other comments" };
}

export function groupComments(comments: readonly Comment[]): Group[] {
  const groups = new Map<string, Group>();
  for (const c of comments) {
    const { key, label } = groupOf(c);
    let g = groups.get(key);
    if (!g) {
      g = { key, label, comments: [] };
      groups.set(key, g);
    }
    g.comments.push(c);
  }
  const out = [...groups.values()].sort((a, b) => a.key.localeCompare(b.key));
  for (const g of out) {
    g.comments.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.character - b.character);
  }
  return out;
}

export function firstLine(text: string, limit = 100): string {
  const line = text.split("\n")[0].trim();
  return line.length > limit ? `${line.slice(0, limit - 1)}…` : line;
}

/** The line of `\title{` in a LaTeX text (0-based), or -1. */
export function titleLine(text: string): number {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    const at = l.indexOf("\\title");
    if (at >= 0 && !l.slice(0, at).includes("%")) return i;
  }
  return -1;
}

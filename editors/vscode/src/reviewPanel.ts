// The review panel (a tree view in the Explorer): the paper's rating, decision and scores
// (from the server's hover on \title), each reviewer's comments, the meta review, and section
// reviews (from papercycle's diagnostics). Clicking a comment opens its range.
import * as vscode from "vscode";
import { Comment, PaperSummary, firstLine, groupComments, parsePaperHover, titleLine } from "./reviewModel";

type Node =
  | { kind: "info"; label: string; description?: string; tooltip?: string; children?: Node[]; icon?: string }
  | { kind: "group"; label: string; description?: string; comments: Comment[] }
  | { kind: "comment"; comment: Comment };

const SEVERITY = ["error", "warning", "information", "hint"];

export class ReviewTreeProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: Node[] = [];
  private timer: NodeJS.Timeout | undefined;

  refreshSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 300);
  }

  async refresh(): Promise<void> {
    const comments = collectComments();
    const summary = await paperSummary();
    const roots: Node[] = [];
    if (summary) {
      const children: Node[] = [];
      if (summary.model) children.push({ kind: "info", label: "model", description: `${summary.model} (${summary.mode ?? "?"})` });
      summary.ratings.forEach((r, i) => children.push({ kind: "info", label: `Reviewer ${i + 1}`, description: `rating ${r}`, icon: "person" }));
      for (const [name, value] of summary.scores) children.push({ kind: "info", label: name, description: value, icon: "graph" });
      roots.push({
        kind: "info",
        label: `Rating ${summary.rating ?? "-"}`,
        description: summary.decision ?? "",
        tooltip: "The paper review's overall rating and decision",
        children,
        icon: "star-full",
      });
    } else {
      roots.push({ kind: "info", label: "No paper review yet", description: "papercycle: Review document", icon: "info" });
    }
    for (const group of groupComments(comments)) {
      const reviewer = /^Reviewer (\d+)$/.exec(group.label);
      const rating = reviewer && summary ? summary.ratings[Number(reviewer[1]) - 1] : undefined;
      roots.push({
        kind: "group",
        label: group.label,
        description: `${group.comments.length} comment${group.comments.length === 1 ? "" : "s"}${rating ? ` · rating ${rating}` : ""}`,
        comments: group.comments,
      });
    }
    this.roots = roots;
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.roots;
    if (node.kind === "group") return node.comments.map((comment) => ({ kind: "comment", comment }));
    if (node.kind === "info") return node.children ?? [];
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === "comment") {
      const c = node.comment;
      const item = new vscode.TreeItem(firstLine(c.message), vscode.TreeItemCollapsibleState.None);
      item.description = `${c.category} · ${c.file}:${c.line + 1}`;
      item.tooltip = new vscode.MarkdownString(`**${c.category}** (${c.severity})\n\n${c.message}`);
      item.iconPath = new vscode.ThemeIcon(c.severity === "error" ? "error" : c.severity === "warning" ? "warning" : "info");
      item.command = {
        command: "vscode.open",
        title: "Go to comment",
        arguments: [vscode.Uri.parse(c.uri), { selection: new vscode.Range(c.line, c.character, c.endLine, c.endCharacter) }],
      };
      return item;
    }
    if (node.kind === "group") {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      item.description = node.description;
      item.iconPath = new vscode.ThemeIcon(node.label.startsWith("Reviewer") ? "person" : node.label === "Meta review" ? "law" : "list-tree");
      return item;
    }
    const item = new vscode.TreeItem(
      node.label,
      node.children?.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    item.description = node.description;
    item.tooltip = node.tooltip;
    if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon);
    if (node.label === "No paper review yet") item.command = { command: "papercycle.reviewDocument", title: "Review document" };
    return item;
  }
}

function collectComments(): Comment[] {
  const out: Comment[] = [];
  for (const [uri, diagnostics] of vscode.languages.getDiagnostics()) {
    for (const d of diagnostics) {
      if (d.source !== "papercycle") continue;
      const data = (d as vscode.Diagnostic & { data?: { origin?: string } }).data;
      out.push({
        uri: uri.toString(),
        file: vscode.workspace.asRelativePath(uri, false),
        line: d.range.start.line,
        character: d.range.start.character,
        endLine: d.range.end.line,
        endCharacter: d.range.end.character,
        message: d.message,
        category: typeof d.code === "object" ? String(d.code.value) : String(d.code ?? ""),
        severity: SEVERITY[d.severity] ?? "information",
        origin: data?.origin ?? "",
        related: (d.relatedInformation ?? []).map((r) => r.message),
      });
    }
  }
  return out;
}

async function paperSummary(): Promise<PaperSummary | null> {
  const docs = vscode.workspace.textDocuments.filter((d) => ["latex", "tex"].includes(d.languageId));
  const active = vscode.window.activeTextEditor?.document;
  if (active && docs.includes(active)) docs.unshift(active);
  for (const doc of docs) {
    const line = titleLine(doc.getText());
    if (line < 0) continue;
    const at = doc.lineAt(line).text.indexOf("\\title") + 1;
    try {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
        "vscode.executeHoverProvider",
        doc.uri,
        new vscode.Position(line, Math.max(at, 0)),
      );
      for (const hover of hovers ?? []) {
        for (const part of hover.contents) {
          const text = typeof part === "string" ? part : "value" in part ? part.value : "";
          const summary = parsePaperHover(text);
          if (summary) return summary;
        }
      }
    } catch {
      // no hover provider yet
    }
  }
  return null;
}

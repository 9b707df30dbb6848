"""The include graph: which files a project reads, in include order, each `\\input`/`\\include`
as an edge with a status (ok, missing, outside the root, a cycle, excluded by `\\includeonly`,
too large, unreadable) and a diagnostic for every edge that is not followed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from papercycle.latex.diagnostics import Diagnostic, Severity
from papercycle.latex.document import Document
from papercycle.latex.files import IncludeEdge, SourceFile, include_targets
from papercycle.latex.folder import is_within
from papercycle.latex.positions import Range
from papercycle.latex.sources import ProjectSources


@dataclass(slots=True)
class IncludeGraph:
    order: list[Path] = field(default_factory=list)  # files in include order, root first
    edges: dict[tuple[Path, int], IncludeEdge] = field(default_factory=dict)  # (file, offset)
    all_edges: list[IncludeEdge] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def target(self, path: Path, start: int) -> Path | None:
        """The file the include command at `start` of `path` reads (None: not followed)."""
        e = self.edges.get((path, start))
        return e.target if e is not None and e.status == "ok" else None


def reach(sources: ProjectSources, candidate: Path) -> set[Path]:
    """Every file a candidate root includes, transitively (for choosing the root)."""
    seen: set[Path] = set()
    root_dir = candidate.parent
    todo = [candidate.absolute()]
    while todo:
        p = todo.pop()
        doc = sources.doc(p)
        if doc is None:
            continue
        for _, _, cands in include_targets(doc, p, root_dir):
            for c in cands:
                c = c.absolute()
                if sources.file_exists(c):
                    r = c.resolve()
                    if r not in seen and is_within(c, root_dir):
                        seen.add(r)
                        todo.append(c)
                    break
    return seen


def _includeonly(root_doc: Document) -> set[str] | None:
    includeonly = None
    for macro, in_def in root_doc.recorded:
        if macro.name == "includeonly" and not in_def:
            includeonly = {
                n.strip().removesuffix(".tex")
                for n in root_doc.arg_text(macro.arg(0)).split(",")
                if n.strip()
            }
    return includeonly


def walk_includes(
    sources: ProjectSources, root_path: Path, root_dir: Path, root_doc: Document
) -> IncludeGraph:
    graph = IncludeGraph()
    order, edges, all_edges, diags = graph.order, graph.edges, graph.all_edges, graph.diagnostics
    in_order: set[Path] = set()
    includeonly = _includeonly(root_doc)
    read_problems: dict[Path, Diagnostic] = {}

    def visit(path: Path, stack: tuple[Path, ...]) -> None:
        order.append(path)
        in_order.add(path)
        doc = sources.doc(path)
        if doc is None:
            return
        src = sources.source(path)
        if isinstance(src, SourceFile):
            diags.extend(src.problems)
        for macro, arg, cands in include_targets(doc, path, root_dir):
            rng = Range(path, macro.start, macro.end)
            target = None
            for c in cands:
                if sources.file_exists(c.absolute()):
                    target = c.absolute()
                    break
            status = "ok"
            if target is None:
                status = "missing"
            elif not sources.within(target, root_dir):
                status = "outside-root"
            elif sources.real(target) in {sources.real(s) for s in stack}:
                status = "cycle"
            elif (
                includeonly is not None
                and macro.name == "include"
                and arg.removesuffix(".tex") not in includeonly
            ):
                status = "excluded"
            else:
                t = sources.source(target)
                if isinstance(t, Diagnostic):
                    status = "too-large" if t.code == "file-too-large" else "unreadable"
                    read_problems[target] = t
            edge = IncludeEdge(path, macro.name, arg, rng, target, status)
            edges[(path, macro.start)] = edge
            all_edges.append(edge)
            if status == "ok":
                if target not in in_order:
                    visit(target, (*stack, target))
            elif status == "missing":
                sev = (
                    Severity.INFORMATION if macro.name == "InputIfFileExists" else Severity.WARNING
                )
                diags.append(
                    Diagnostic(
                        sev, "include-missing", f"\\{macro.name}{{{arg}}}: file not found", rng
                    )
                )
            elif status == "outside-root":
                diags.append(
                    Diagnostic(
                        Severity.ERROR,
                        "include-outside-root",
                        f"\\{macro.name}{{{arg}}}: {target} is outside the project root "
                        f"{root_dir}; not followed",
                        rng,
                    )
                )
            elif status == "cycle":
                chain = " -> ".join(p.name for p in (*stack, target))
                diags.append(
                    Diagnostic(
                        Severity.WARNING,
                        "include-cycle",
                        f"include cycle: {chain}; not followed again",
                        rng,
                    )
                )
            elif status in ("too-large", "unreadable"):
                diags.append(
                    Diagnostic(
                        Severity.ERROR, f"include-{status}", read_problems[target].message, rng
                    )
                )

    visit(root_path, (root_path,))
    return graph

"""The project at the protocol's edge: ranges with LSP positions (line, UTF-16 character) and
the whole model as one JSON-ready dict (`papercycle project`). The model itself keeps file
offsets; positions are computed here, from each file's line index."""

from __future__ import annotations

from typing import TYPE_CHECKING

from papercycle.latex.positions import LspRange, Range

if TYPE_CHECKING:  # the facade imports this module; the type is only for annotations
    from papercycle.latex.model import Project


def lsp_range(project: Project, r: Range) -> LspRange:
    return project.sources.index(r.path).lsp_range(r.start, r.end)


def range_dict(project: Project, r: Range | None) -> dict | None:
    return None if r is None else r.to_dict(project.sources.index(r.path))


def project_dict(project: Project) -> dict:
    def rd(r: Range | None) -> dict | None:
        return range_dict(project, r)

    structure = project.structure
    return {
        "root": {
            "path": str(project.root.path),
            "method": project.root.method,
            "reason": project.root.reason,
            "candidates": [str(c) for c in project.root.candidates],
        },
        "files": [str(p) for p in project.files],
        "includes": [
            {
                "source": str(e.source),
                "command": e.command,
                "argument": e.argument,
                "target": None if e.target is None else str(e.target),
                "status": e.status,
                "range": rd(e.range),
            }
            for e in project.includes
        ],
        "sections": [c.to_dict() for c in structure.root.children],
        "floats": [f.to_dict() for f in structure.floats],
        "equations": [
            {"number": q.number, "label": q.label, "range": rd(q.range)}
            for q in structure.equations
        ],
        "labels": {k: {"kind": v.kind, "number": v.number} for k, v in structure.labels.items()},
        "citations": {
            "count": len(structure.citations),
            "keys": sorted({c.key for c in structure.citations}),
        },
        "bibliography": project.bibliography.to_dict(),
        "hidden": [{**h.to_dict(), "range": rd(h.range)} for h in project.hidden],
        "diagnostics": [{**d.to_dict(), "range": rd(d.range)} for d in project.diagnostics],
        "visible_chars": len(project.visible.text),
    }

"""Per-file rendering: a parsed file -> the prose a reader sees, as pieces with a source map,
interleaved with named structural events (headings, floats, captions, labels, equations,
includes).

A file is rendered once per (content, definitions, entry state) and cached; `prose.py`
stitches the cached fragments of all files in include order, numbers sections, floats and
equations, and resolves `\\ref`. Hidden text is kept out of the pieces and reported as findings.

Modules: `fragment` (what a rendering produces: pieces, events, citations, findings),
`definitions` (project-wide macros, environments, colors), `math_text`, `symbols` (pylatexenc),
`emit` (the output API handlers write through), `expansion` (user macros), `handlers` (one per
action of the command table in `project/commands.py`), `walk` (the renderer itself).
"""

from papercycle.latex.render.definitions import MacroDef, RenderContext, build_context
from papercycle.latex.render.fragment import (
    Citation,
    Event,
    Fragment,
    Piece,
    RawFinding,
    Ref,
)
from papercycle.latex.render.math_text import compact_math, equation_rows
from papercycle.latex.render.walk import render_document, render_inline, render_nodes

__all__ = [
    "Citation",
    "Event",
    "Fragment",
    "MacroDef",
    "Piece",
    "RawFinding",
    "Ref",
    "RenderContext",
    "build_context",
    "compact_math",
    "equation_rows",
    "render_document",
    "render_inline",
    "render_nodes",
]

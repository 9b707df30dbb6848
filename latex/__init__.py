"""The LaTeX project model (issue 4): files, include graph, sections, visible prose with an
exact source map, bibliography and hidden text.

Public API (what the daemon and the LSP call):

- `Project.build(path, root=None, config=None) -> Project` (raises `ProjectError` when `path`
  holds no LaTeX project; never on file contents)
- `Project.update(path, text | None)`: an editor buffer (None: back to disk); `Project.reload()`
- `Project.visible: VisibleText` (`.text`, `.source_ranges(a, b) -> list[Range]`),
  `Project.section_slices() -> list[SectionSlice]`, `Project.section_at(path, offset)`
- `Project.find_quote(quote) -> QuoteMatch | None`,
  `Project.resolve_reference("Table 2") -> ReferenceMatch | None`, `Project.locate(text)`
- `Project.structure: Structure`, `Project.bibliography: Bibliography`,
  `Project.hidden: list[HiddenFinding]`, `Project.diagnostics: list[Diagnostic]`,
  `Project.includes: list[IncludeEdge]`, `Project.root: RootChoice`
- `Project.lsp_range(Range) -> LspRange` (line, UTF-16 character), `Project.range_dict`,
  `Project.to_dict()`: the protocol's edge, implemented in `wire.py`; kept on the facade while
  the engine and the CLI call them on a project

The modules, one idea each, are listed in the README's layout section.
"""

from papercycle.latex.anchor import QuoteMatch, ReferenceMatch
from papercycle.latex.bibliography import BibEntry, Bibliography
from papercycle.latex.diagnostics import Diagnostic, Severity
from papercycle.latex.files import IncludeEdge, ProjectConfig, ProjectError
from papercycle.latex.hidden import HiddenFinding
from papercycle.latex.model import Project, SectionSlice
from papercycle.latex.positions import LineIndex, LspRange, Position, Range
from papercycle.latex.root import RootChoice
from papercycle.latex.source_map import SourceMap, VisibleText
from papercycle.latex.structure import (
    CitationInfo,
    EquationInfo,
    FloatInfo,
    LabelInfo,
    RefInfo,
    SectionNode,
    Structure,
)

__all__ = [
    "BibEntry",
    "Bibliography",
    "CitationInfo",
    "Diagnostic",
    "EquationInfo",
    "FloatInfo",
    "HiddenFinding",
    "IncludeEdge",
    "LabelInfo",
    "LineIndex",
    "LspRange",
    "Position",
    "Project",
    "ProjectConfig",
    "ProjectError",
    "QuoteMatch",
    "Range",
    "RefInfo",
    "ReferenceMatch",
    "RootChoice",
    "SectionNode",
    "SectionSlice",
    "Severity",
    "SourceMap",
    "Structure",
    "VisibleText",
]

"""The project model: a LaTeX project built once and updated per file edit. This module is the
facade; the parts are `sources` (buffers, disk, parsed documents), `includes` (the include
graph), `render` (per-file fragments, cached here), `prose` (stitching), `citations`,
`hidden_findings`, `sections` and `wire` (LSP ranges and dicts at the protocol's edge).

    project = Project.build("paper/")            # root detection, include graph, everything
    project.update(path, text)                   # an editor's unsaved buffer wins over disk
    project.update(path, None)                   # drop the buffer, read the disk again
    project.visible.text                         # what the model reads
    project.visible.source_ranges(a, b)          # back to (file, offsets)
    project.find_quote("...")                    # reviewer quote -> QuoteMatch | None
    project.resolve_reference("Table 2")         # -> ReferenceMatch | None
    project.diagnostics                          # includes, bibliography, hidden text, ...

Per file, the parsed document is cached by content digest and the rendered fragment by
(digest, definitions signature, hidden entry state): an edit re-parses and re-renders one file
and re-stitches the rest from cache.
"""

from __future__ import annotations

import functools
from pathlib import Path

from papercycle.latex import hidden_findings, sections, wire
from papercycle.latex.anchor import (
    DEFAULT_MIN_SCORE,
    NormalizedText,
    QuoteMatch,
    ReferenceMatch,
    find_quote,
    resolve_reference,
)
from papercycle.latex.bibliography import BibEntry
from papercycle.latex.citations import BibliographyResolver, link_citations
from papercycle.latex.diagnostics import Diagnostic, Severity
from papercycle.latex.document import Document, parse, swallowed_content
from papercycle.latex.files import ProjectConfig, ProjectError, clean_path, is_dir
from papercycle.latex.folder import graphics_outside
from papercycle.latex.includes import reach, walk_includes
from papercycle.latex.positions import LineIndex, LspRange, Range
from papercycle.latex.prose import Assembly, assemble
from papercycle.latex.render import (
    Fragment,
    Piece,
    RawFinding,
    RenderContext,
    build_context,
    render_document,
    render_inline,
    render_nodes,
)
from papercycle.latex.root import RootChoice, choose_root
from papercycle.latex.sections import SectionSlice
from papercycle.latex.source_map import VisibleText
from papercycle.latex.sources import ProjectSources
from papercycle.latex.structure import SectionNode, Structure

__all__ = ["Project", "ProjectError", "SectionSlice"]

_CHAPTER_CLASSES = ("report", "book", "memoir", "scrbook", "scrreprt")


class Project:
    """A LaTeX project. Build with `Project.build(path)`; never raises on file contents (only
    `ProjectError` when `path` holds no LaTeX project)."""

    def __init__(
        self,
        path: str | Path,
        *,
        root: str | Path | None = None,
        config: ProjectConfig | None = None,
    ) -> None:
        self.path = clean_path(path)
        if config is None:
            base = self.path if is_dir(self.path) else self.path.parent
            config, cfg_diag = ProjectConfig.load(base)
        else:
            cfg_diag = None
        self.config = config
        self._config_diag = cfg_diag
        self.sources = ProjectSources(config)
        self._frags: dict[tuple, Fragment] = {}
        self._norm: NormalizedText | None = None
        self._bib_scan: dict[int, tuple[BibEntry, list[tuple[str, str]]]] = {}
        self.root: RootChoice = choose_root(
            self.path,
            self._load_for_root,
            functools.partial(reach, self.sources),
            override=root,
            config=config,
        )
        self.root_path = self.root.path.absolute()
        self.root_dir = self.root_path.parent
        self._bibliographies = BibliographyResolver(self.sources, self.root_path)
        self._rebuild()

    @classmethod
    def build(
        cls,
        path: str | Path,
        *,
        root: str | Path | None = None,
        config: ProjectConfig | None = None,
    ) -> Project:
        return cls(path, root=root, config=config)

    # -- inputs --------------------------------------------------------------------------------

    def update(self, path: str | Path, text: str | None) -> list[SectionNode]:
        """An editor changed `path` (text=None: the buffer was closed, read the disk again).
        Only that file is re-parsed and re-rendered. Returns the sections whose visible text
        changed (new sections included), so the daemon can review just those."""
        p = self.sources.known_path(clean_path(path))
        self.sources.set_buffer(p, text)
        before = sections.digests(self.structure, self.visible.text)
        self._rebuild()
        return sections.changed(self.structure, self.visible.text, before)

    def reload(self) -> None:
        """Re-read every file from disk (after changes outside the editor)."""
        self.sources.forget_disk()
        self._rebuild()

    def _load_for_root(self, path: Path) -> Document | None:
        return self.sources.doc(path.absolute())

    # -- build ---------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        diags: list[Diagnostic] = []
        if self._config_diag is not None:
            diags.append(self._config_diag)
        diags.extend(self.root.refused)
        self.sources.new_round()  # one stat per file per rebuild
        root_doc = self.sources.doc(self.root_path)
        if root_doc is None:
            src = self.sources.source(self.root_path)
            msg = src.message if isinstance(src, Diagnostic) else f"{self.root_path}: unreadable"
            raise ProjectError(msg)
        graph = walk_includes(self.sources, self.root_path, self.root_dir, root_doc)
        diags.extend(graph.diagnostics)
        order = graph.order
        all_docs = self.sources.docs
        docs = [d for p in order if (d := all_docs.get(p)) is not None]
        ctx = build_context(docs)
        self._ctx = ctx
        self.includes = graph.all_edges
        diags.extend(self._file_diagnostics(order))

        bib = self._bibliographies.resolve(order)
        if self._bibliographies.changed:
            self._bib_scan.clear()
        self.bibliography = bib

        frags = self._frags
        live_keys: set[tuple] = set()

        def fragment(path: Path, hidden_reason) -> Fragment | None:
            doc = all_docs.get(path)
            if doc is None:
                return None
            key = (path, doc.digest, ctx.signature, hidden_reason)
            live_keys.add(key)
            f = frags.get(key)
            if f is None:
                f = frags[key] = render_document(doc, ctx, hidden_reason)
            return f

        front, front_findings = self._front_matter(order, ctx)

        def title() -> list[tuple[str, Path, Piece]]:
            return [(k, *front[k]) for k in ("title", "author") if k in front]

        def bib_lines(cited: list[str]) -> list[tuple[str, Path, int, int]]:
            return self._bibliographies.reference_lines(bib, cited)

        has_chapters = (
            any(m.name == "chapter" for d in docs for m, in_def in d.recorded if not in_def)
            or self._doc_class(root_doc) in _CHAPTER_CLASSES
        )
        asm: Assembly = assemble(
            self.root_path, fragment, graph.target, title, bib_lines, has_chapters
        )
        for k in [k for k in frags if k not in live_keys]:
            del frags[k]
        self.files = list(order)
        self.visible: VisibleText = asm.visible
        self.structure: Structure = asm.structure
        self._norm = None
        diags.extend(asm.diagnostics)
        link_citations(bib, asm, self.structure, self.root_path)
        diags.extend(bib.diagnostics)
        asm.findings.extend(front_findings)
        self.hidden = hidden_findings.collect(asm, self.files, all_docs, bib, self._bib_scan)
        diags.extend(hidden_findings.diagnostics(self.hidden))
        self.diagnostics: list[Diagnostic] = diags

    def _file_diagnostics(self, order: list[Path]) -> list[Diagnostic]:
        """Per file: content an unbalanced environment swallows, parse problems, graphics
        outside the root (never read, but a PDF built from the project would embed them)."""
        diags = []
        for path in order:
            doc = self.sources.docs.get(path)
            if doc is None:
                continue
            for s, e, msg in swallowed_content(doc):
                diags.append(
                    Diagnostic(
                        Severity.ERROR, "content-lost", f"{path.name}: {msg}", Range(path, s, e)
                    )
                )
            for s, e, msg in doc.problems[:50]:
                diags.append(
                    Diagnostic(
                        Severity.INFORMATION,
                        "latex-syntax",
                        f"{path.name}: {msg}",
                        Range(path, s, e),
                    )
                )
        for path in order:
            diags.extend(graphics_outside(self.sources.docs.get(path), path, self.root_dir))
        return diags

    def _front_matter(
        self, order: list[Path], ctx: RenderContext
    ) -> tuple[dict[str, tuple[Path, Piece]], list[tuple[Path, RawFinding]]]:
        """The first `\\title` and `\\author`, rendered, with their hidden-text findings."""
        front: dict[str, tuple[Path, Piece]] = {}
        found_all: list[tuple[Path, RawFinding]] = []
        for p in order:
            d = self.sources.docs.get(p)
            if d is None:
                continue
            for macro, in_def in d.recorded:
                if macro.name in ("title", "author") and not in_def and macro.name not in front:
                    arg = macro.arg(1)
                    if arg is not None:
                        piece, found = render_inline(d, arg.children, ctx)
                        front[macro.name] = (p, piece)
                        found_all.extend((p, f) for f in found)
        return front, found_all

    @staticmethod
    def _doc_class(doc: Document) -> str:
        return doc.arg_text(doc.documentclass.arg(1)).strip() if doc.documentclass else ""

    # -- queries -------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.visible.text

    def file_text(self, path: str | Path) -> str | None:
        return self.sources.file_text(clean_path(path))

    def line_index(self, path: str | Path) -> LineIndex:
        return self.sources.index(clean_path(path))

    # The protocol's edge (wire.py). Kept on the facade while the engine and the CLI call them
    # on the project (issue 15: they move to the callers with the daemon's typed requests).

    def lsp_range(self, r: Range) -> LspRange:
        """(line, UTF-16 character) positions of a range, for LSP."""
        return wire.lsp_range(self, r)

    def range_dict(self, r: Range | None) -> dict | None:
        return wire.range_dict(self, r)

    def to_dict(self) -> dict:
        return wire.project_dict(self)

    def render_quote(self, quote: str) -> str:
        """A reviewer's quote with its LaTeX markup rendered the way the paper's text is."""
        if not any(c in quote for c in "\\{}$~%"):
            return quote
        try:
            doc = parse(quote)
            return render_nodes(doc, doc.nodes, self._ctx or RenderContext()).text
        except Exception:  # a quote is arbitrary text: fall back to it unchanged
            return quote

    def find_quote(self, quote: str, min_score: float = DEFAULT_MIN_SCORE) -> QuoteMatch | None:
        """Source range of a reviewer's quote (markup/whitespace may differ, small paraphrase),
        or None."""
        return find_quote(
            self.visible, quote, self._normalized, self.render_quote(quote), min_score
        )

    def _normalized(self) -> NormalizedText:
        if self._norm is None:
            self._norm = NormalizedText(self.visible.text)
        return self._norm

    def resolve_reference(self, ref: str) -> ReferenceMatch | None:
        """ "Section 4", "Table 2", "Figure 3", "Eq. (5)", "the abstract", a label key..."""
        return resolve_reference(self.structure, self.visible, ref)

    def locate(self, text: str) -> QuoteMatch | ReferenceMatch | None:
        """A reference if `text` names one, otherwise a quote."""
        if len(text) < 60:
            r = self.resolve_reference(text)
            if r is not None:
                return r
        return self.find_quote(text)

    def section_slices(self) -> list[SectionSlice]:
        """Per section (title, abstract, headings, bibliography): its visible text and ranges."""
        return sections.slices(self.structure, self.visible)

    def section_at(self, path: str | Path, offset: int) -> SectionNode | None:
        """The section containing a source position (e.g. the cursor)."""
        p = self.visible.source_map.from_source(clean_path(path), offset, nearest=True)
        return None if p is None else self.structure.section_at(p)

    def diagnostics_for(self, path: str | Path) -> list[Diagnostic]:
        p = clean_path(path)
        return [d for d in self.diagnostics if d.range is not None and d.range.path == p]

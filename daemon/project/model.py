"""The project model: a LaTeX project built once and updated per file edit.

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

import re
from dataclasses import dataclass
from pathlib import Path

from papercycle.daemon.project.anchor import (
    DEFAULT_MIN_SCORE,
    NormalizedText,
    QuoteMatch,
    ReferenceMatch,
    find_quote,
    resolve_reference,
)
from papercycle.daemon.project.bibliography import (
    BibEntry,
    Bibliography,
    BibSource,
    parse_bbl,
    parse_bib,
)
from papercycle.daemon.project.diagnostics import Diagnostic, Severity
from papercycle.daemon.project.document import (
    BIB_MACROS,
    Document,
    Env,
    content_digest,
    parse,
    swallowed_content,
)
from papercycle.daemon.project.files import (
    IncludeEdge,
    ProjectConfig,
    ProjectError,
    RootChoice,
    SourceFile,
    choose_root,
    clean_path,
    include_targets,
    is_dir,
    is_file,
    is_within,
    read_source,
)
from papercycle.daemon.project.folder import graphics_outside
from papercycle.daemon.project.hidden import (
    SOURCE_ONLY_METHODS,
    HiddenFinding,
    hidden_severity,
)
from papercycle.daemon.project.injection import injection_matches, looks_like_injection
from papercycle.daemon.project.positions import LineIndex, LspRange, Range
from papercycle.daemon.project.prose import Assembly, VisibleText, assemble
from papercycle.daemon.project.render import (
    Fragment,
    Piece,
    RawFinding,
    RenderContext,
    build_context,
    render_document,
    render_inline,
    render_nodes,
)
from papercycle.daemon.project.structure import SectionNode, Structure

__all__ = ["Project", "ProjectError", "SectionSlice"]


@dataclass(frozen=True, slots=True)
class SectionSlice:
    """One section's part of the visible text, with its source ranges."""

    node: SectionNode
    text: str
    prose_start: int
    prose_end: int
    ranges: tuple[Range, ...]

    @property
    def body_start(self) -> int:
        """Where the section's own words start in the visible text: after its heading."""
        return min(max(self.node.body_start, self.prose_start), self.prose_end)


# a % that starts a comment (not \\%) before a position on the same line
_COMMENT_START = re.compile(r"(?:[^%\\\n]|\\.)*%")


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
        self._overlay: dict[Path, str] = {}
        self._disk: dict[Path, tuple[int, int, SourceFile | Diagnostic]] = {}
        self._docs: dict[Path, Document] = {}
        self._frags: dict[tuple, Fragment] = {}
        self._bibs: dict[tuple[Path, str], BibSource] = {}
        self._indexes: dict[Path, LineIndex] = {}
        self._exists: dict[Path, bool] = {}
        self._norm: NormalizedText | None = None
        self._short: dict[int, tuple[BibEntry, str]] = {}
        self._resolved: dict[Path, Path] = {}
        self._round: dict[Path, SourceFile | Diagnostic] = {}
        self._bib_scan: dict[int, tuple[BibEntry, list[tuple[str, str]]]] = {}
        self.root: RootChoice = choose_root(
            self.path, self._load_for_root, self._reach, override=root, config=config
        )
        self.root_path = self.root.path.absolute()
        self.root_dir = self.root_path.parent
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
        p = self._known_path(clean_path(path))
        if text is None:
            self._overlay.pop(p, None)
            self._disk.pop(p, None)
        else:
            self._overlay[p] = text
        self._exists.pop(p, None)
        before = self._section_digests()
        self._rebuild()
        return self._changed_sections(before)

    def _section_digests(self) -> dict[tuple, int]:
        out: dict[tuple, int] = {}
        text = self.visible.text
        for key, node in self._keyed_sections():
            out[key] = hash(text[node.prose_start : node.prose_end])
        return out

    def _keyed_sections(self):
        """(kind, title, occurrence) -> node: stable across edits that renumber sections."""
        seen: dict[tuple, int] = {}
        for node in self.structure.root.walk():
            if node.kind == "document":
                continue
            base = (node.kind, node.title)
            n = seen.get(base, 0)
            seen[base] = n + 1
            yield (*base, n), node

    def _changed_sections(self, before: dict[tuple, int]) -> list[SectionNode]:
        text = self.visible.text
        changed = []
        for key, node in self._keyed_sections():
            digest = hash(text[node.prose_start : node.prose_end])
            if before.get(key) != digest:
                changed.append(node)
        return changed

    def _known_path(self, p: Path) -> Path:
        """The project's own spelling of a path an editor gives (symlinks, `..`)."""
        if p in self._docs or p in self._overlay:
            return p
        real = self._real(p)
        for known in (*self._docs, *self._overlay):
            if self._real(known) == real:
                return known
        return p

    def reload(self) -> None:
        """Re-read every file from disk (after changes outside the editor)."""
        self._disk.clear()
        self._exists.clear()
        self._resolved.clear()
        self._rebuild()

    def _source(self, path: Path) -> SourceFile | Diagnostic:
        if path in self._overlay:
            return SourceFile(path, self._overlay[path])
        memo = self._round.get(path)
        if memo is not None:
            return memo
        self._round[path] = src = self._stat_source(path)
        return src

    def _stat_source(self, path: Path) -> SourceFile | Diagnostic:
        try:
            st = path.stat()
            key = (st.st_mtime_ns, st.st_size)
        except OSError:
            key = (-1, -1)
        cached = self._disk.get(path)
        if cached is not None and cached[:2] == key:
            return cached[2]
        src = read_source(path, self.config.max_file_bytes)
        self._disk[path] = (*key, src)
        return src

    def _doc(self, path: Path) -> Document | None:
        src = self._source(path)
        if isinstance(src, Diagnostic):
            return None
        old = self._docs.get(path)
        if old is not None and old.text is src.text:
            return old
        digest = content_digest(src.text)
        if old is not None and old.digest == digest:
            return old
        doc = parse(src.text)
        self._docs[path] = doc
        self._indexes.pop(path, None)
        return doc

    def _load_for_root(self, path: Path) -> Document | None:
        return self._doc(path.absolute())

    def _reach(self, candidate: Path) -> set[Path]:
        seen: set[Path] = set()
        root_dir = candidate.parent
        todo = [candidate.absolute()]
        while todo:
            p = todo.pop()
            doc = self._doc(p)
            if doc is None:
                continue
            for _, _, cands in include_targets(doc, p, root_dir):
                for c in cands:
                    c = c.absolute()
                    if self._file_exists(c):
                        r = c.resolve()
                        if r not in seen and is_within(c, root_dir):
                            seen.add(r)
                            todo.append(c)
                        break
        return seen

    def _real(self, p: Path) -> Path:
        r = self._resolved.get(p)
        if r is None:
            try:
                r = p.resolve()
            except (OSError, RuntimeError):
                r = p
            self._resolved[p] = r
        return r

    def _within(self, p: Path) -> bool:
        return self._real(p).is_relative_to(self._real(self.root_dir))

    def _file_exists(self, p: Path) -> bool:
        if p in self._overlay:
            return True
        e = self._exists.get(p)
        if e is None:
            e = self._exists[p] = is_file(p)
        return e

    # -- build ---------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        diags: list[Diagnostic] = []
        if self._config_diag is not None:
            diags.append(self._config_diag)
        diags.extend(self.root.refused)
        order: list[Path] = []
        in_order: set[Path] = set()
        self._round: dict[Path, SourceFile | Diagnostic] = {}  # one stat per file per rebuild
        edges: dict[tuple[Path, int], IncludeEdge] = {}
        all_edges: list[IncludeEdge] = []
        root_doc = self._doc(self.root_path)
        if root_doc is None:
            src = self._source(self.root_path)
            msg = src.message if isinstance(src, Diagnostic) else f"{self.root_path}: unreadable"
            raise ProjectError(msg)
        includeonly = None
        for macro, in_def in root_doc.recorded:
            if macro.name == "includeonly" and not in_def:
                includeonly = {
                    n.strip().removesuffix(".tex")
                    for n in root_doc.arg_text(macro.arg(0)).split(",")
                    if n.strip()
                }
        read_problems: dict[Path, Diagnostic] = {}

        def visit(path: Path, stack: tuple[Path, ...]) -> None:
            order.append(path)
            in_order.add(path)
            doc = self._doc(path)
            if doc is None:
                return
            src = self._source(path)
            if isinstance(src, SourceFile):
                diags.extend(src.problems)
            for macro, arg, cands in include_targets(doc, path, self.root_dir):
                rng = Range(path, macro.start, macro.end)
                target = None
                for c in cands:
                    if self._file_exists(c.absolute()):
                        target = c.absolute()
                        break
                status = "ok"
                if target is None:
                    status = "missing"
                elif not self._within(target):
                    status = "outside-root"
                elif self._real(target) in {self._real(s) for s in stack}:
                    status = "cycle"
                elif (
                    includeonly is not None
                    and macro.name == "include"
                    and arg.removesuffix(".tex") not in includeonly
                ):
                    status = "excluded"
                else:
                    t = self._source(target)
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
                        Severity.INFORMATION
                        if macro.name == "InputIfFileExists"
                        else Severity.WARNING
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
                            f"{self.root_dir}; not followed",
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

        visit(self.root_path, (self.root_path,))
        docs = [d for p in order if (d := self._docs.get(p)) is not None]
        ctx = build_context(docs)
        self._ctx = ctx
        self.includes = all_edges
        for path in order:
            doc = self._docs.get(path)
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
        for path in order:  # never read, but a PDF built from the project would embed them
            diags.extend(graphics_outside(self._docs.get(path), path, self.root_dir))

        bib = self._bibliography(order)
        self.bibliography = bib

        frags = self._frags
        live_keys: set[tuple] = set()

        def fragment(path: Path, hidden_reason) -> Fragment | None:
            doc = self._docs.get(path)
            if doc is None:
                return None
            key = (path, doc.digest, ctx.signature, hidden_reason)
            live_keys.add(key)
            f = frags.get(key)
            if f is None:
                f = frags[key] = render_document(doc, ctx, hidden_reason)
            return f

        def include_target(path: Path, start: int) -> Path | None:
            e = edges.get((path, start))
            return e.target if e is not None and e.status == "ok" else None

        front: dict[str, tuple[Path, Piece]] = {}
        front_findings: list[tuple[Path, RawFinding]] = []
        for p in order:
            d = self._docs.get(p)
            if d is None:
                continue
            for macro, in_def in d.recorded:
                if macro.name in ("title", "author") and not in_def and macro.name not in front:
                    arg = macro.arg(1)
                    if arg is not None:
                        piece, found = render_inline(d, arg.children, ctx)
                        front[macro.name] = (p, piece)
                        front_findings.extend((p, f) for f in found)

        def title() -> list[tuple[str, Path, Piece]]:
            return [(k, *front[k]) for k in ("title", "author") if k in front]

        def bib_lines(cited: list[str]) -> list[tuple[str, Path, int, int]]:
            out = []
            for key in cited:
                entry = bib.entries.get(key)
                if entry is not None:
                    cached = self._short.get(id(entry))
                    if cached is None or cached[0] is not entry:
                        cached = self._short[id(entry)] = (entry, entry.short())
                    out.append(
                        (
                            f"[{key}] {cached[1]}",
                            entry.range.path,
                            entry.range.start,
                            entry.range.end,
                        )
                    )
            return out

        has_chapters = any(
            m.name == "chapter" for d in docs for m, in_def in d.recorded if not in_def
        ) or self._doc_class(root_doc) in ("report", "book", "memoir", "scrbook", "scrreprt")
        asm: Assembly = assemble(
            self.root_path, fragment, include_target, title, bib_lines, has_chapters
        )
        for k in [k for k in frags if k not in live_keys]:
            del frags[k]
        self.files = list(order)
        self.visible: VisibleText = asm.visible
        self.structure: Structure = asm.structure
        self._norm = None
        diags.extend(asm.diagnostics)
        self._link_citations(bib, asm)
        diags.extend(bib.diagnostics)
        asm.findings.extend(front_findings)
        self.hidden = self._hidden_findings(asm)
        for h in self.hidden:
            sev = hidden_severity(h)
            what = "instructions to an AI reviewer" if h.injection else "text a reader cannot see"
            if h.method in SOURCE_ONLY_METHODS:
                what += ", only in the source (never typeset, never sent to a model)"
            preview = (h.text[:80] + "...") if len(h.text) > 80 else h.text
            diags.append(
                Diagnostic(
                    sev,
                    "hidden-injection" if h.injection else "hidden-text",
                    f"{what} ({h.detail})" + (f": {preview!r}" if preview else ""),
                    h.range,
                )
            )
        self.diagnostics: list[Diagnostic] = diags

    @staticmethod
    def _doc_class(doc: Document) -> str:
        return doc.arg_text(doc.documentclass.arg(1)).strip() if doc.documentclass else ""

    # -- bibliography --------------------------------------------------------------------------

    def _bib_source(
        self, path: Path, text: str, kind: str, offset: int = 0, index: LineIndex | None = None
    ) -> BibSource:
        key = (path, content_digest(text) + f":{offset}")
        self._bib_live.add(key)
        b = self._bibs.get(key)
        if b is None:
            b = (
                parse_bbl(path, text)
                if kind == "bbl"
                else parse_bib(path, text, offset, index, "filecontents" if offset else "bib")
            )
            self._bibs[key] = b
        return b

    def _bibliography(self, order: list[Path]) -> Bibliography:
        self._bib_live: set[tuple[Path, str]] = set()
        bib = self._collect_bibliography(order)
        stale = [k for k in self._bibs if k not in self._bib_live]
        for k in stale:  # an edited .bib: drop the old parse and its cached reference lines
            del self._bibs[k]
        if stale:
            self._short.clear()
            self._bib_scan.clear()
        return bib

    def _collect_bibliography(self, order: list[Path]) -> Bibliography:
        bib = Bibliography()
        declared: list[tuple[Path, Range, str]] = []
        biblatex = False
        bibitems: list[tuple[str, Range]] = []
        filecontents: dict[str, tuple[Path, Env, Document]] = {}
        for p in order:
            d = self._docs.get(p)
            if d is None:
                continue
            for macro, in_def in d.recorded:
                if in_def:
                    continue
                if macro.name in BIB_MACROS:
                    biblatex = biblatex or macro.name != "bibliography"
                    arg_i = 0 if macro.name == "bibliography" else 1
                    for name in d.arg_text(macro.arg(arg_i)).split(","):
                        name = name.strip()
                        if not name:
                            continue
                        if macro.name == "bibliography" and not name.endswith(".bib"):
                            name += ".bib"
                        declared.append((p, Range(p, macro.start, macro.end), name))
                elif macro.name == "bibitem":
                    bibitems.append(
                        (d.arg_text(macro.arg(1)).strip(), Range(p, macro.start, macro.end))
                    )
            for node in d.nodes:
                if type(node) is Env and node.name.startswith("filecontents"):
                    fname = d.arg_text(node.args[1] if len(node.args) > 1 else None).strip()
                    if fname.endswith(".bib"):
                        filecontents[fname] = (p, node, d)
        sources: list[BibSource] = []
        for p, rng, name in declared:
            cands = [clean_path(self.root_dir / name), clean_path(p.parent / name)]
            found = next((c for c in cands if self._file_exists(c.absolute())), None)
            if found is not None and is_within(found, self.root_dir):
                src = self._source(found.absolute())
                if isinstance(src, Diagnostic):
                    bib.diagnostics.append(src)
                    continue
                bib.diagnostics.extend(src.problems)
                bib.resources.append(found.absolute())
                sources.append(self._bib_source(found.absolute(), src.text, "bib"))
            elif name in filecontents or Path(name).name in filecontents:
                fp, env, d = filecontents.get(name) or filecontents[Path(name).name]
                body = d.text[env.body_start : env.body_end]
                bib.resources.append(fp)
                sources.append(self._bib_source(fp, body, "bib", env.body_start, self._index(fp)))
                bib.kind = "filecontents"
            elif found is not None:
                bib.diagnostics.append(
                    Diagnostic(
                        Severity.ERROR,
                        "bib-outside-root",
                        f"{name}: outside the project root; not read",
                        rng,
                    )
                )
            else:
                bib.diagnostics.append(
                    Diagnostic(
                        Severity.WARNING, "bib-missing", f"bibliography file {name} not found", rng
                    )
                )
        if sources:
            if bib.kind == "none":
                bib.kind = "biblatex" if biblatex else "bibtex"
        else:
            bbl = self.root_path.with_suffix(".bbl")
            if self._file_exists(bbl) and not is_within(bbl, self.root_dir):
                bib.diagnostics.append(
                    Diagnostic(
                        Severity.ERROR,
                        "bib-outside-root",
                        f"{bbl.name}: links outside the project root; not read",
                        Range(self.root_path, 0, 0),
                    )
                )
            elif self._file_exists(bbl):
                src = self._source(bbl)
                if isinstance(src, SourceFile):
                    sources.append(self._bib_source(bbl, src.text, "bbl"))
                    bib.resources.append(bbl)
                    bib.kind = "bbl"
                    bib.diagnostics = [d for d in bib.diagnostics if d.code != "bib-missing"]
        seen: dict[str, BibEntry] = {}
        for s in sources:
            bib.diagnostics.extend(s.diagnostics)
            for e in s.entries:
                if e.key in seen and s.path != seen[e.key].range.path:
                    bib.diagnostics.append(
                        Diagnostic(
                            Severity.WARNING,
                            "bib-duplicate-key",
                            f"{s.path.name}: key {e.key!r} also defined in {seen[e.key].range.path.name}",
                            e.range,
                        )
                    )
                seen.setdefault(e.key, e)
        if bibitems and not sources:
            bib.kind = "thebibliography"
        for key, rng in bibitems:
            if key in seen:
                if seen[key].source == "bibitem":
                    bib.diagnostics.append(
                        Diagnostic(
                            Severity.WARNING,
                            "bib-duplicate-key",
                            f"\\bibitem key {key!r} defined twice",
                            rng,
                        )
                    )
                continue
            seen[key] = BibEntry(key, "bibitem", {}, rng, "bibitem")
        bib.entries = seen
        return bib

    def _link_citations(self, bib: Bibliography, asm: Assembly) -> None:
        cited: set[str] = set()
        cite_all = any(c.every_entry for _, c in asm.citations)  # \nocite{*}
        undefined: dict[str, list[Range]] = {}
        for c in self.structure.citations:
            cited.add(c.key)
            if c.key not in bib.entries:
                undefined.setdefault(c.key, []).append(c.range)
        bib.undefined = undefined
        for key, ranges in undefined.items():
            for r in ranges:
                bib.diagnostics.append(
                    Diagnostic(
                        Severity.WARNING,
                        "cite-undefined",
                        f"citation {key!r} has no bibliography entry",
                        r,
                    )
                )
        if bib.kind == "none" and self.structure.citations:
            bib.diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    "bib-none",
                    "the paper cites but has no bibliography (no .bib, .bbl or \\bibitem list)",
                    Range(self.root_path, 0, 0),
                )
            )
        bib.unused = [] if cite_all else [k for k in bib.entries if k not in cited]
        for key in bib.unused:
            bib.diagnostics.append(
                Diagnostic(
                    Severity.HINT,
                    "bib-unused",
                    f"bibliography entry {key!r} is never cited",
                    bib.entries[key].range,
                )
            )

    # -- hidden text ---------------------------------------------------------------------------

    def _hidden_findings(self, asm: Assembly) -> list[HiddenFinding]:
        out: list[HiddenFinding] = []
        seen: set[tuple] = set()
        for path, f in asm.findings:
            k = (path, f.start, f.end, f.method)
            if k in seen:
                continue
            seen.add(k)
            injection = looks_like_injection(f.text)
            out.append(
                HiddenFinding(Range(path, f.start, f.end), f.method, f.detail, f.text, injection)
            )
        # the preamble is never prose, but watermarks (\\SetWatermarkText) and PDF metadata
        # (\\hypersetup{pdfsubject=...}) reach PDF-reading models: report instructions there
        for path in self.files:
            doc = self._docs.get(path)
            if doc is None or doc.begin_document is None:
                continue
            preamble = doc.text[: doc.begin_document]
            lines: dict[int, int] = {}
            typeset: set[int] = set()  # lines with a phrase outside a % comment
            for a, b in injection_matches(preamble):
                ls = preamble.rfind("\n", 0, a) + 1
                le = preamble.find("\n", b)
                lines[ls] = max(lines.get(ls, 0), len(preamble) if le < 0 else le)
                comment = _COMMENT_START.match(preamble, ls, a)
                if comment is None:
                    typeset.add(ls)
            reported = [(h.range.start, h.range.end) for h in out if h.range.path == path]
            for ls, le in sorted(lines.items()):
                if any(a < le and ls < b for a, b in reported):
                    continue  # already reported as hidden text (a white \\title, ...)
                line = preamble[ls:le]
                if ls not in typeset:
                    finding = ("comment", "instruction-like text in a comment")
                else:
                    finding = (
                        "preamble",
                        "instruction-like text in the preamble (watermark or PDF metadata): "
                        "never typeset as prose",
                    )
                out.append(HiddenFinding(Range(path, ls, le), *finding, line.strip(), True))
        # bibliography fields reach models too (the reference list, the researcher's abstracts)
        for entry in self.bibliography.entries.values():
            cached = self._bib_scan.get(id(entry))
            if cached is None or cached[0] is not entry:
                hits = [
                    (name, value)
                    for name, value in entry.fields.items()
                    if injection_matches(value, anywhere_only=True)
                ]
                cached = self._bib_scan[id(entry)] = (entry, hits)
            for name, value in cached[1]:
                out.append(
                    HiddenFinding(
                        entry.range,
                        "bib-field",
                        f"instruction to an AI reviewer in the {name!r} field of {entry.key!r}",
                        " ".join(value.split()),
                        True,
                    )
                )
        return out

    # -- queries -------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.visible.text

    def file_text(self, path: str | Path) -> str | None:
        p = clean_path(path)
        d = self._docs.get(p)
        if d is not None:
            return d.text
        src = self._source(p)
        return None if isinstance(src, Diagnostic) else src.text

    def _index(self, path: Path) -> LineIndex:
        idx = self._indexes.get(path)
        if idx is None:
            text = self.file_text(path) or ""
            idx = self._indexes[path] = LineIndex(text)
        return idx

    def line_index(self, path: str | Path) -> LineIndex:
        return self._index(clean_path(path))

    def lsp_range(self, r: Range) -> LspRange:
        """(line, UTF-16 character) positions of a range, for LSP."""
        return self._index(r.path).lsp_range(r.start, r.end)

    def range_dict(self, r: Range | None) -> dict | None:
        return None if r is None else r.to_dict(self._index(r.path))

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
        out = []
        for node in self.structure.root.walk():
            if node.kind == "document":
                continue
            a, b = node.prose_start, node.prose_end
            out.append(
                SectionSlice(
                    node, self.visible.text[a:b], a, b, tuple(self.visible.source_ranges(a, b))
                )
            )
        return out

    def section_at(self, path: str | Path, offset: int) -> SectionNode | None:
        """The section containing a source position (e.g. the cursor)."""
        p = self.visible.source_map.from_source(clean_path(path), offset, nearest=True)
        return None if p is None else self.structure.section_at(p)

    def diagnostics_for(self, path: str | Path) -> list[Diagnostic]:
        p = clean_path(path)
        return [d for d in self.diagnostics if d.range is not None and d.range.path == p]

    def to_dict(self) -> dict:
        rd = self.range_dict
        return {
            "root": {
                "path": str(self.root.path),
                "method": self.root.method,
                "reason": self.root.reason,
                "candidates": [str(c) for c in self.root.candidates],
            },
            "files": [str(p) for p in self.files],
            "includes": [
                {
                    "source": str(e.source),
                    "command": e.command,
                    "argument": e.argument,
                    "target": None if e.target is None else str(e.target),
                    "status": e.status,
                    "range": rd(e.range),
                }
                for e in self.includes
            ],
            "sections": [c.to_dict() for c in self.structure.root.children],
            "floats": [f.to_dict() for f in self.structure.floats],
            "equations": [
                {"number": q.number, "label": q.label, "range": rd(q.range)}
                for q in self.structure.equations
            ],
            "labels": {
                k: {"kind": v.kind, "number": v.number} for k, v in self.structure.labels.items()
            },
            "citations": {
                "count": len(self.structure.citations),
                "keys": sorted({c.key for c in self.structure.citations}),
            },
            "bibliography": self.bibliography.to_dict(),
            "hidden": [{**h.to_dict(), "range": rd(h.range)} for h in self.hidden],
            "diagnostics": [{**d.to_dict(), "range": rd(d.range)} for d in self.diagnostics],
            "visible_chars": len(self.visible.text),
        }

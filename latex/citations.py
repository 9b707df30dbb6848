"""Which bibliography a project uses (.bib files, `filecontents`, a .bbl, a `thebibliography`
list) and how its citations resolve: undefined keys, unused entries, duplicates. Parsed
bibliography files are cached by content."""

from __future__ import annotations

from pathlib import Path

from papercycle.latex.bibliography import (
    BibEntry,
    Bibliography,
    BibSource,
    parse_bbl,
    parse_bib,
)
from papercycle.latex.diagnostics import Diagnostic, Severity
from papercycle.latex.document import BIB_MACROS, Document, Env, content_digest
from papercycle.latex.files import SourceFile, clean_path
from papercycle.latex.folder import is_within
from papercycle.latex.positions import LineIndex, Range
from papercycle.latex.prose import Assembly
from papercycle.latex.sources import ProjectSources
from papercycle.latex.structure import Structure


class BibliographyResolver:
    def __init__(self, sources: ProjectSources, root_path: Path) -> None:
        self._sources = sources
        self._root_path = root_path
        self._root_dir = root_path.parent
        self._bibs: dict[tuple[Path, str], BibSource] = {}
        self._short: dict[int, tuple[BibEntry, str]] = {}
        self.changed = False

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

    def resolve(self, order: list[Path]) -> Bibliography:
        """The bibliography the files in `order` declare. `changed` tells whether a parse was
        dropped (an edited .bib): caches keyed by entries are then stale."""
        self._bib_live: set[tuple[Path, str]] = set()
        bib = self._collect_bibliography(order)
        stale = [k for k in self._bibs if k not in self._bib_live]
        for k in stale:  # an edited .bib: drop the old parse and its cached reference lines
            del self._bibs[k]
        self.changed = bool(stale)
        if stale:
            self._short.clear()
        return bib

    def _collect_bibliography(self, order: list[Path]) -> Bibliography:
        bib = Bibliography()
        declared: list[tuple[Path, Range, str]] = []
        biblatex = False
        bibitems: list[tuple[str, Range]] = []
        filecontents: dict[str, tuple[Path, Env, Document]] = {}
        for p in order:
            d = self._sources.docs.get(p)
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
            cands = [clean_path(self._root_dir / name), clean_path(p.parent / name)]
            found = next((c for c in cands if self._sources.file_exists(c.absolute())), None)
            if found is not None and is_within(found, self._root_dir):
                src = self._sources.source(found.absolute())
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
                sources.append(
                    self._bib_source(fp, body, "bib", env.body_start, self._sources.index(fp))
                )
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
            bbl = self._root_path.with_suffix(".bbl")
            if self._sources.file_exists(bbl) and not is_within(bbl, self._root_dir):
                bib.diagnostics.append(
                    Diagnostic(
                        Severity.ERROR,
                        "bib-outside-root",
                        f"{bbl.name}: links outside the project root; not read",
                        Range(self._root_path, 0, 0),
                    )
                )
            elif self._sources.file_exists(bbl):
                src = self._sources.source(bbl)
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

    def reference_lines(
        self, bib: Bibliography, cited: list[str]
    ) -> list[tuple[str, Path, int, int]]:
        """The reference list a reader sees: one line per cited entry, mapped to the entry."""
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


def link_citations(bib: Bibliography, asm: Assembly, structure: Structure, root_path: Path) -> None:
    """Undefined citations, unused entries, citing without a bibliography: on `bib`."""
    cited: set[str] = set()
    cite_all = any(c.every_entry for _, c in asm.citations)  # \nocite{*}
    undefined: dict[str, list[Range]] = {}
    for c in structure.citations:
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
    if bib.kind == "none" and structure.citations:
        bib.diagnostics.append(
            Diagnostic(
                Severity.WARNING,
                "bib-none",
                "the paper cites but has no bibliography (no .bib, .bbl or \\bibitem list)",
                Range(root_path, 0, 0),
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

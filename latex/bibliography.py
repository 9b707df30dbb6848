"""Bibliography: `.bib` files (bibtexparser v2), biblatex resources, `.bbl`-only projects,
`thebibliography`/`\\bibitem` lists and `filecontents` bibliographies; citation keys linked to
entries, undefined keys and unused entries reported.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from papercycle.latex.diagnostics import Diagnostic, Severity
from papercycle.latex.positions import LineIndex, Range


@dataclass(frozen=True, slots=True)
class BibEntry:
    key: str
    entry_type: str
    fields: dict[str, str]
    range: Range
    source: str  # "bib", "bbl", "bibitem", "filecontents"

    @property
    def title(self) -> str:
        return _clean(self.fields.get("title", ""))

    @property
    def authors(self) -> str:
        return _clean(self.fields.get("author", self.fields.get("editor", "")))

    @property
    def year(self) -> str:
        return _clean(self.fields.get("year", self.fields.get("date", "")))[:4]

    @property
    def abstract(self) -> str | None:
        a = self.fields.get("abstract")
        return _clean(a) if a else None

    def short(self) -> str:
        """One line for the model: authors. title. venue, year."""
        parts = []
        if self.authors:
            names = [n.strip() for n in re.split(r"\s+and\s+", self.authors) if n.strip()]
            parts.append(
                names[0]
                + (" et al." if len(names) > 2 else "" if len(names) == 1 else " and " + names[1])
            )
        if self.title:
            parts.append(self.title)
        venue = _clean(self.fields.get("journal", self.fields.get("booktitle", "")))
        tail = ", ".join(x for x in (venue, self.year) if x)
        if tail:
            parts.append(tail)
        text = ". ".join(x.rstrip(".") for x in parts)
        if not text and "text" in self.fields:
            text = _clean(self.fields["text"])
        return text

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "type": self.entry_type,
            "title": self.title,
            "authors": self.authors,
            "year": self.year,
            "abstract": self.abstract,
            "source": self.source,
            "range": self.range.to_dict(),
        }


def _clean(value: str) -> str:
    value = re.sub(r"[{}]", "", value)
    value = re.sub(r"\\[A-Za-z]+\s*", "", value)
    return re.sub(r"\s+", " ", value).strip()


@dataclass(slots=True)
class BibSource:
    """Entries and problems of one bibliography source, cached by content."""

    path: Path
    entries: list[BibEntry]
    diagnostics: list[Diagnostic]


@contextlib.contextmanager
def _quiet_bibtexparser():
    """bibtexparser logs each failed block as a warning; we report them as diagnostics."""
    logger = logging.getLogger("bibtexparser")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def parse_bib(
    path: Path, text: str, offset: int = 0, index: LineIndex | None = None, source: str = "bib"
) -> BibSource:
    """Parse BibTeX with bibtexparser v2. `offset`/`index` place a bib embedded in a .tex file
    (filecontents) at its real position. Never raises."""
    import bibtexparser

    index = index or LineIndex(text)
    base_line = index.line_of(offset) if offset else 0
    local = LineIndex(text) if offset else index
    diags: list[Diagnostic] = []
    entries: list[BibEntry] = []

    def rng(start_line: int, raw: str) -> Range:
        if start_line is None:
            return Range(path, offset, offset)
        line_start = local.line_start(start_line)
        s = text.find(raw[:40], line_start) if raw else line_start
        s = line_start if s < 0 else s
        return Range(path, offset + s, offset + s + len(raw or ""))

    try:
        with _quiet_bibtexparser():
            lib = bibtexparser.parse_string(text)
    except Exception as exc:  # bibtexparser should not raise, but a reviewer must not crash
        diags.append(
            Diagnostic(
                Severity.ERROR,
                "bib-parse",
                f"{path.name}: cannot parse ({exc})",
                Range(path, offset, offset),
            )
        )
        return BibSource(path, entries, diags)
    first_line: dict[str, int] = {}
    for e in lib.entries:
        fields = {}
        for f in e.fields:
            v = f.value
            fields[f.key.lower()] = v if isinstance(v, str) else str(v)
        r = rng(e.start_line, e.raw)
        entries.append(BibEntry(e.key, e.entry_type.lower(), fields, r, source))
        first_line.setdefault(e.key, (e.start_line or 0) + base_line + 1)
    for b in lib.failed_blocks:
        line = (b.start_line or 0) + base_line + 1
        r = rng(b.start_line, b.raw)
        kind = type(b).__name__
        if kind == "DuplicateBlockKeyBlock":
            key = getattr(b, "key", "?")
            diags.append(
                Diagnostic(
                    Severity.WARNING,
                    "bib-duplicate-key",
                    f"{path.name}:{line}: duplicate key {key!r} (first defined on line {first_line.get(key, '?')})",
                    r,
                )
            )
        else:
            err = getattr(b, "error", None)
            lines = str(err).strip().splitlines() if err is not None else []
            raw_head = (b.raw or "").strip().splitlines()
            what = raw_head[0][:60] if raw_head else "entry"
            msg = (
                lines[0]
                if lines
                else f"{what!r} is malformed (unbalanced braces or a missing comma?)"
            )
            diags.append(
                Diagnostic(Severity.ERROR, "bib-parse", f"{path.name}:{line}: bad entry: {msg}", r)
            )
    return BibSource(path, entries, diags)


# natbib labels nest braces: `\\bibitem[Li et~al.(2023{\\natexlab{a}})Li]{li2023a}`
_BRACED = r"\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}"  # three levels deep
_BBL_BIBITEM = re.compile(rf"\\bibitem\s*(?:\[((?:[^\[\]{{}}]|{_BRACED})*)\])?\s*\{{([^{{}}]*)\}}")
_BBL_ENTRY = re.compile(r"\\entry\{([^{}]*)\}\{([^{}]*)\}")
_BBL_FIELD = re.compile(
    r"\\field\{(title|year|journaltitle|booktitle|abstract)\}\{((?:[^{}]|\{[^{}]*\})*)\}"
)
_BBL_FAMILY = re.compile(r"family=\{?([^{},]+)")


def parse_bbl(path: Path, text: str) -> BibSource:
    """A compiled bibliography: BibTeX `\\bibitem` lists or biblatex `\\entry` records."""
    entries: list[BibEntry] = []
    items = list(_BBL_BIBITEM.finditer(text))
    for i, m in enumerate(items):
        end = (
            items[i + 1].start()
            if i + 1 < len(items)
            else text.find("\\end{thebibliography}", m.end())
        )
        end = len(text) if end < 0 else end
        body = text[m.end() : end]
        fields = {"text": re.sub(r"\\newblock\s*", "", body).strip()}
        title = re.search(r"\\newblock\s+(.+?)\.\s*\n?\s*\\newblock", body, re.S)
        if title:
            fields["title"] = title.group(1)
        yr = re.search(r"\b(19|20)\d\d\b", body)
        if yr:
            fields["year"] = yr.group(0)
        authors = body.split("\\newblock")[0].strip().rstrip(".")
        if authors:
            fields["author"] = authors
        entries.append(
            BibEntry(m.group(2).strip(), "bibitem", fields, Range(path, m.start(), end), "bbl")
        )
    ents = list(_BBL_ENTRY.finditer(text))
    for m in ents:
        end = text.find("\\endentry", m.end())
        end = len(text) if end < 0 else end + len("\\endentry")
        body = text[m.end() : end]
        fields = {k: v for k, v in _BBL_FIELD.findall(body)}
        if "journaltitle" in fields:
            fields["journal"] = fields.pop("journaltitle")
        fams = _BBL_FAMILY.findall(body)
        if fams:
            fields["author"] = " and ".join(fams)
        entries.append(BibEntry(m.group(1), m.group(2), fields, Range(path, m.start(), end), "bbl"))
    return BibSource(path, entries, [])


@dataclass(slots=True)
class Bibliography:
    """All entries of a project and how they were found. `kind` is "bibtex", "biblatex",
    "bbl", "thebibliography", "filecontents" or "none"."""

    kind: str = "none"
    resources: list[Path] = field(default_factory=list)
    entries: dict[str, BibEntry] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    undefined: dict[str, list[Range]] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "resources": [str(p) for p in self.resources],
            "entries": len(self.entries),
            "with_abstract": sum(1 for e in self.entries.values() if e.abstract),
            "undefined": {k: [r.to_dict() for r in v] for k, v in self.undefined.items()},
            "unused": self.unused,
        }

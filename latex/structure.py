"""The paper's structure: title, abstract, section tree, floats, equations, labels, references
and citations, each with its exact source range and its slice of the visible prose.

Built by `prose.assemble` while it stitches the files together (numbering needs document
order across files); this module holds the types and the numbering rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from papercycle.latex.positions import Range

LEVEL_KIND = {
    -1: "part",
    0: "chapter",
    1: "section",
    2: "subsection",
    3: "subsubsection",
    4: "paragraph",
    5: "subparagraph",
}
SECNUMDEPTH = 3  # article/report default: \paragraph is not numbered


@dataclass(slots=True)
class SectionNode:
    """A node of the section tree. `kind` is "document", "title", "abstract", "part",
    "chapter", "section", "subsection", "subsubsection", "paragraph", "subparagraph" or
    "bibliography". `range` is the heading command (or environment start); the section's text
    is `prose[prose_start:prose_end]`, its own words (after the rendered heading, which is not
    a sentence to comment on) `prose[body_start:prose_end]`."""

    kind: str
    title: str
    level: int
    range: Range | None
    number: str | None = None
    starred: bool = False
    appendix: bool = False
    command: str = ""
    title_range: Range | None = None
    label: str | None = None
    prose_start: int = 0
    prose_end: int = 0
    body_start: int = 0
    children: list[SectionNode] = field(default_factory=list)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def display_name(self) -> str:
        if self.kind in ("title", "abstract", "bibliography", "document"):
            return self.kind.capitalize() if self.kind != "title" else f"Title: {self.title}"
        word = "Appendix" if self.appendix and self.level <= 1 else self.kind.capitalize()
        return f"{word} {self.number} {self.title}" if self.number else f"{word} {self.title}"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "title": self.title,
            "number": self.number,
            "level": self.level,
            "starred": self.starred,
            "appendix": self.appendix,
            "label": self.label,
            "range": None if self.range is None else self.range.to_dict(),
            "prose": [self.prose_start, self.prose_end],
            "children": [c.to_dict() for c in self.children],
        }


@dataclass(slots=True)
class FloatInfo:
    """A figure, table or algorithm (also subfigures: `parent` set, number like "3a")."""

    kind: str  # "figure", "table", "algorithm", ...
    env: str
    number: str | None
    range: Range
    caption: str = ""
    caption_range: Range | None = None
    label: str | None = None
    prose_start: int = 0
    prose_end: int = 0
    parent: FloatInfo | None = None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "number": self.number,
            "caption": self.caption,
            "label": self.label,
            "range": self.range.to_dict(),
        }


@dataclass(slots=True)
class EquationInfo:
    number: str
    range: Range
    label: str | None
    prose_start: int = 0
    prose_end: int = 0


@dataclass(frozen=True, slots=True)
class LabelInfo:
    key: str
    kind: str  # "section", "figure", "table", "equation", "item", ...
    number: str | None
    range: Range


@dataclass(frozen=True, slots=True)
class RefInfo:
    command: str
    keys: tuple[str, ...]
    range: Range


@dataclass(frozen=True, slots=True)
class CitationInfo:
    command: str
    key: str
    range: Range  # the key inside the command
    command_range: Range


@dataclass(slots=True)
class Structure:
    root: SectionNode  # kind "document": children are title, abstract, parts/chapters/sections
    floats: list[FloatInfo] = field(default_factory=list)
    equations: list[EquationInfo] = field(default_factory=list)
    labels: dict[str, LabelInfo] = field(default_factory=dict)
    refs: list[RefInfo] = field(default_factory=list)
    citations: list[CitationInfo] = field(default_factory=list)

    @property
    def title(self) -> SectionNode | None:
        return next((c for c in self.root.children if c.kind == "title"), None)

    @property
    def abstract(self) -> SectionNode | None:
        return next((n for n in self.root.walk() if n.kind == "abstract"), None)

    def sections(self) -> list[SectionNode]:
        """Every heading node in document order."""
        return [n for n in self.root.walk() if n.level >= -1 and n.kind in LEVEL_KIND.values()]

    def section_at(self, prose_offset: int) -> SectionNode | None:
        """The innermost section whose prose contains the offset."""
        best = None
        for n in self.root.walk():
            if n.kind == "document":
                continue
            if n.prose_start <= prose_offset < n.prose_end and (
                best is None or n.prose_end - n.prose_start <= best.prose_end - best.prose_start
            ):
                best = n
        return best


def alpha(n: int) -> str:
    """1 -> A, 27 -> AA (LaTeX's \\Alph stops at 26; this keeps going)."""
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


class Numbering:
    """LaTeX counters for sections, floats and equations (article/report/book defaults)."""

    def __init__(self, has_chapters: bool) -> None:
        self.has_chapters = has_chapters
        self.counters = [0] * 7  # index level+1: part, chapter, section, ...
        self.appendix = False
        self.floats: dict[str, int] = {}
        self.within_seen: dict[str, str] = {}
        self.equation = 0
        self.sub_equation: int | None = None

    def heading(self, level: int, starred: bool) -> str | None:
        if starred or level > SECNUMDEPTH:
            return None
        i = level + 1
        self.counters[i] += 1
        for j in range(i + 1, len(self.counters)):
            self.counters[j] = 0
        if level == 0:
            self.floats.clear()
            self.equation = 0
        if level == -1:
            return _roman(self.counters[0])
        first = 0 if self.has_chapters else 1
        parts = []
        for lv in range(first, level + 1):
            n = self.counters[lv + 1]
            if lv == first and self.appendix:
                parts.append(alpha(n))
            else:
                parts.append(str(n))
        return ".".join(parts)

    def start_appendix(self) -> None:
        self.appendix = True
        first = 0 if self.has_chapters else 1
        for j in range(first + 1, len(self.counters)):
            self.counters[j] = 0

    def _prefix(self) -> str:
        if not self.has_chapters:
            return ""
        c = self.counters[1]
        return (alpha(c) if self.appendix else str(c)) + "."

    def float_number(self, kind: str) -> str:
        self.floats[kind] = self.floats.get(kind, 0) + 1
        return self._prefix() + str(self.floats[kind])

    def theorem_number(self, counter: str, within: str | None) -> str:
        """\\newtheorem counters: plain, or reset within a sectioning level (`[section]`)."""
        level = {"part": -1, "chapter": 0, "section": 1, "subsection": 2}.get(within or "")
        if level is None:
            return self.float_number("thm:" + counter)
        prefix = self.current(level)
        key = "thm:" + counter
        if self.within_seen.get(key) != prefix:
            self.within_seen[key] = prefix
            self.floats[key] = 0
        self.floats[key] = self.floats.get(key, 0) + 1
        return f"{prefix}.{self.floats[key]}"

    def current(self, level: int) -> str:
        """The current number at a sectioning level ("2.1" for a subsection), "0" if none."""
        first = 0 if self.has_chapters else 1
        parts = []
        for lv in range(first, level + 1):
            n = self.counters[lv + 1]
            parts.append(alpha(n) if lv == first and self.appendix and n else str(n))
        return ".".join(parts) or "0"

    def equation_number(self) -> str:
        if self.sub_equation is not None:  # inside amsmath's subequations: 3a, 3b, ...
            self.sub_equation += 1
            return self._prefix() + str(self.equation) + alpha(self.sub_equation).lower()
        self.equation += 1
        return self._prefix() + str(self.equation)

    def begin_subequations(self) -> str:
        self.equation += 1
        self.sub_equation = 0
        return self._prefix() + str(self.equation)

    def end_subequations(self) -> None:
        self.sub_equation = None


def _roman(n: int) -> str:
    vals = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ]
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out or "0"

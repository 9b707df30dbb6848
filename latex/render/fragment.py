"""What rendering one file produces: pieces of prose with a source map, interleaved with named
structural events (headings, floats, captions, labels, equations, includes), plus the file's
citations and hidden-text findings. `prose.py` stitches fragments in include order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


class Piece:
    """Rendered text plus segments (out_start, out_end, src_start, src_end), offsets relative to
    the piece and to the file. A segment whose two lengths are equal maps character by
    character; otherwise the whole output span maps to the whole source span. A title or
    caption piece may hold `refs`: (offset in text, `Ref`) for `\\ref`s whose text the
    assembler inserts once numbers are known."""

    __slots__ = ("refs", "segs", "text")

    def __init__(
        self, text: str, segs: list[list[int]], refs: list[tuple[int, Ref]] | None = None
    ) -> None:
        self.text = text
        self.segs = segs
        self.refs = refs or []


# Events. Each has a `kind` the assembler dispatches on; offsets are in the file the event
# comes from (inside a macro expansion: the invocation's span).


@dataclass(slots=True)
class TextRun:
    kind: ClassVar[str] = "text"
    piece: Piece


@dataclass(slots=True)
class Include:
    """`\\input` & co.; `hidden` is (method, detail) when the command sits in hidden text: the
    assembler renders the included file hidden too."""

    kind: ClassVar[str] = "include"
    start: int
    end: int
    command: str
    hidden: tuple[str, str] | None


@dataclass(slots=True)
class Heading:
    kind: ClassVar[str] = "heading"
    level: int
    command: str
    starred: bool
    start: int
    end: int
    title: Piece


@dataclass(slots=True)
class Label:
    kind: ClassVar[str] = "label"
    key: str
    start: int
    end: int


@dataclass(slots=True)
class Ref:
    kind: ClassVar[str] = "ref"
    command: str
    keys: list[str]
    start: int
    end: int


@dataclass(slots=True)
class FloatBegin:
    kind: ClassVar[str] = "float_begin"
    env: str
    start: int
    end: int


@dataclass(slots=True)
class FloatEnd:
    kind: ClassVar[str] = "float_end"
    end: int


@dataclass(slots=True)
class Caption:
    kind: ClassVar[str] = "caption"
    start: int
    end: int
    piece: Piece


@dataclass(slots=True)
class Equation:
    """Display math with numbered rows: one (numbered, tag, labels) per row."""

    kind: ClassVar[str] = "equation"
    start: int
    end: int
    shown: str
    rows: list[tuple[bool, str | None, list[str]]]


@dataclass(slots=True)
class TheoremBegin:
    """A `\\newtheorem` environment; `theorem` is (printed name, counter or None, within)."""

    kind: ClassVar[str] = "theorem_begin"
    env: str
    theorem: tuple[str, str | None, str | None]
    start: int
    end: int
    note: Piece | None


@dataclass(slots=True)
class TheoremEnd:
    kind: ClassVar[str] = "theorem_end"
    end: int


@dataclass(slots=True)
class SubequationsBegin:
    kind: ClassVar[str] = "subequations_begin"
    start: int
    end: int


@dataclass(slots=True)
class SubequationsEnd:
    kind: ClassVar[str] = "subequations_end"
    end: int


@dataclass(slots=True)
class AbstractBegin:
    kind: ClassVar[str] = "abstract_begin"
    start: int
    end: int


@dataclass(slots=True)
class AbstractEnd:
    kind: ClassVar[str] = "abstract_end"
    end: int


@dataclass(slots=True)
class Maketitle:
    kind: ClassVar[str] = "maketitle"
    start: int
    end: int


@dataclass(slots=True)
class Appendix:
    kind: ClassVar[str] = "appendix"
    start: int
    end: int


@dataclass(slots=True)
class BibliographyStart:
    """`\\bibliography`, `\\printbibliography` or `\\begin{thebibliography}` (`command`)."""

    kind: ClassVar[str] = "bibliography"
    command: str
    start: int
    end: int


@dataclass(slots=True)
class Bibitem:
    kind: ClassVar[str] = "bibitem"
    key: str
    start: int
    end: int


Event = (
    TextRun
    | Include
    | Heading
    | Label
    | Ref
    | FloatBegin
    | FloatEnd
    | Caption
    | Equation
    | TheoremBegin
    | TheoremEnd
    | SubequationsBegin
    | SubequationsEnd
    | AbstractBegin
    | AbstractEnd
    | Maketitle
    | Appendix
    | BibliographyStart
    | Bibitem
)


@dataclass(slots=True)
class Citation:
    command: str
    keys: list[tuple[str, int, int]]  # (key, start, end) in the file
    start: int
    end: int
    every_entry: bool = False  # \nocite{*}


@dataclass(slots=True)
class RawFinding:
    start: int
    end: int
    method: str
    detail: str
    text: str


@dataclass(slots=True)
class Fragment:
    events: list[Event]
    citations: list[Citation] = field(default_factory=list)
    findings: list[RawFinding] = field(default_factory=list)

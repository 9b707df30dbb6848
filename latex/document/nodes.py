"""The parsed tree of one file: node types with exact offsets, and the `Document` that holds
them. Plain classes with __slots__: a 300 KB project has ~100k nodes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


class Node:
    __slots__ = ("end", "start")

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.start},{self.end})"


class Text(Node):
    __slots__ = ()


class Comment(Node):
    __slots__ = ()


class Param(Node):
    """`#1` inside a macro definition body."""

    __slots__ = ("number",)

    def __init__(self, start: int, end: int, number: int) -> None:
        super().__init__(start, end)
        self.number = number


class Group(Node):
    """`{...}`; `closed` is False when the file ended before the `}`."""

    __slots__ = ("children", "closed")

    def __init__(self, start: int, end: int, children: list[Node], closed: bool = True) -> None:
        super().__init__(start, end)
        self.children = children
        self.closed = closed


class Arg(Node):
    """One macro or environment argument. `kind` is "[" or "{" or "raw"; `inner_*` exclude
    the delimiters; `children` is empty for raw arguments."""

    __slots__ = ("children", "inner_end", "inner_start", "kind")

    def __init__(
        self, kind: str, start: int, end: int, inner_start: int, inner_end: int, children
    ) -> None:
        super().__init__(start, end)
        self.kind = kind
        self.inner_start = inner_start
        self.inner_end = inner_end
        self.children = children


class Macro(Node):
    __slots__ = ("args", "name", "star")

    def __init__(self, start: int, end: int, name: str, star: bool, args: list[Arg | None]):
        super().__init__(start, end)
        self.name = name
        self.star = star
        self.args = args

    def arg(self, i: int) -> Arg | None:
        return self.args[i] if i < len(self.args) else None


class Env(Node):
    """`\\begin{name}...\\end{name}`. For raw environments (verbatim, comment, ...)
    `children` is empty and the body is `text[body_start:body_end]`."""

    __slots__ = ("args", "body_end", "body_start", "children", "closed", "name", "raw")

    def __init__(self, start, end, name, args, children, body_start, body_end, raw, closed):
        super().__init__(start, end)
        self.name = name
        self.args = args
        self.children = children
        self.body_start = body_start
        self.body_end = body_end
        self.raw = raw
        self.closed = closed


class Math(Node):
    """Inline or display math; the body is kept as source (`inner_start:inner_end`)."""

    __slots__ = ("display", "env", "inner_end", "inner_start")

    def __init__(self, start, end, inner_start, inner_end, display: bool, env: str | None):
        super().__init__(start, end)
        self.inner_start = inner_start
        self.inner_end = inner_end
        self.display = display
        self.env = env


class Verbatim(Node):
    """Source that is never parsed: `\\verb|x|`, `\\iffalse...\\fi`, `\\lstinline`."""

    __slots__ = ("kind",)

    def __init__(self, start: int, end: int, kind: str) -> None:
        super().__init__(start, end)
        self.kind = kind


@dataclass(slots=True)
class Document:
    """A parsed file. Immutable once built; cached by content hash."""

    text: str
    nodes: list[Node]
    digest: str
    recorded: list[tuple[Macro, bool]] = field(default_factory=list)  # (macro, in_definition)
    begin_document: int | None = None  # offset of \begin{document}
    documentclass: Macro | None = None
    magic_root: tuple[str, int, int] | None = None  # (value, start, end)
    problems: list[tuple[int, int, str]] = field(default_factory=list)  # parse warnings

    def arg_text(self, arg: Arg | None) -> str:
        if arg is None:
            return ""
        return self.text[arg.inner_start : arg.inner_end]


def content_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

r"""Simulated-result markers: where they are in a project's files.

The co-author labels every result a model wrote but nobody measured
(daemon/engine/simulated.py writes the markers): `\papercyclesimulated{...}` uses and
`% papercycle: simulated` comment lines. Finding them is a pure function of the text, so it
belongs to the project model's library: the daemon's results, `papercycle check` and the
language server (on every edit) all read them from here.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papercycle.latex.model import Project

MACRO = "papercyclesimulated"
MACRO_USE = re.compile(r"\\" + MACRO + r"(?![A-Za-z])")
COMMENT_MARK = re.compile(r"(?<!\\)%\s*papercycle:\s*simulated", re.I)


@dataclass(frozen=True)
class Marker:
    """One simulated-result marker in a file: `kind` is "macro" or "comment"."""

    path: str
    offset: int
    line: int  # 1-based
    column: int  # 1-based, in characters
    kind: str
    text: str

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "offset": self.offset,
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "text": self.text,
        }


def find_markers(text: str, path: str = "") -> list[Marker]:
    """Every marker in a file's text: macro uses (not its definition) and marker comments."""
    out = []
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset) - 1
        return line + 1, offset - line_starts[line] + 1

    definitions = [
        (m.start(), m.end())
        for m in re.finditer(
            r"\\(?:ifdefined|def|providecommand|newcommand|renewcommand"
            r"|DeclareRobustCommand)\s*\{?\\" + MACRO + r"[^\n]*",
            text,
        )
    ]
    for m in MACRO_USE.finditer(text):
        if any(a <= m.start() < b for a, b in definitions):
            continue
        line_end = text.find("\n", m.start())
        snippet = text[m.start() : line_end if line_end != -1 else len(text)][:80]
        out.append(Marker(path, m.start(), *where(m.start()), "macro", snippet))
    for m in COMMENT_MARK.finditer(text):
        line_end = text.find("\n", m.start())
        snippet = text[m.start() : line_end if line_end != -1 else len(text)][:80]
        out.append(Marker(path, m.start(), *where(m.start()), "comment", snippet))
    return sorted(out, key=lambda k: k.offset)


def project_markers(project: Project) -> list[Marker]:
    """Markers in every file of a Project (editor buffers included)."""
    out = []
    for path in sorted({str(p) for p in project.files}):
        if not path.endswith((".tex", ".ltx", ".sty", ".cls")) and "." in Path(path).name:
            continue
        text = project.file_text(path)
        if text:
            out += find_markers(text, path)
    return out
